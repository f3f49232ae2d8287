import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fixtureService, PASSWORD, startTestGateway, USER, type TestGateway } from '../../helpers/gateway.js';
import { isRunning } from '../../helpers/processes.js';
import { waitFor } from '../../helpers/wait-for.js';

/** Debian's chromium, installed by scripts/test-prereqs.sh. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

describe('GET /admin in a real headless Chromium (SPEC §15)', () => {
  let gw: TestGateway;
  let profile: string;
  let browser: BrowserContext;

  beforeAll(async () => {
    gw = await startTestGateway({ services: { fx: fixtureService([], { description: 'fixture for the admin page' }) } });
    profile = await mkdtemp(join(tmpdir(), 'mcp-gw-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      httpCredentials: { username: USER, password: PASSWORD },
      viewport: { width: 1100, height: 640 },
    });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  test('needs the API credentials', async () => {
    expect((await fetch(`${gw.url}/admin`)).status).toBe(401);
    expect((await fetch(`${gw.url}/admin/state`)).status).toBe(401);
  });

  test('shows services, the live session and recent calls; its "end" button ends the session\'s process', async () => {
    const first = await gw.call('fx', { tool: 'pid', session_id: 'call-from-the-page' });
    const pid = Number(first.body.result);
    await gw.call('fx', { tool: 'fail', session_id: 'call-from-the-page' });

    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const response = await page.goto(`${gw.url}/admin`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toMatch(/script-src 'sha256-/);

    const sessionRow = page.locator('#sessions tbody tr', { hasText: 'call-from-the-page' });
    await sessionRow.waitFor();
    const cells = await sessionRow.locator('td').allTextContents();
    expect(cells.slice(0, 5)).toEqual(['call-from-the-page', 'fx', 'this instance', String(pid), '2']);
    const serviceCells = await page.locator('#services tbody tr', { hasText: 'fx' }).locator('td').allTextContents();
    expect(serviceCells.slice(0, 3)).toEqual(['fx', 'ready', expect.stringMatching(/^\d+$/)]);
    expect(serviceCells[3]).toMatch(/^sandbox: /);
    const calls = await page.locator('#calls tbody tr').allTextContents();
    expect(calls[0]).toContain('failtool_error');
    expect(calls[1]).toContain('pidok');
    const screenshot = await page.screenshot({ path: process.env['ADMIN_SCREENSHOT'] ?? join(profile, 'admin.png') });
    expect(screenshot.subarray(1, 4).toString()).toBe('PNG');

    await sessionRow.getByRole('button', { name: 'end' }).click();
    await waitFor(() => !isRunning(pid), { what: 'the ended session\'s server to exit' });
    await sessionRow.waitFor({ state: 'detached' });
    expect(await page.locator('#sessions tbody').textContent()).toBe('none');
    expect((await gw.request('GET', '/sessions')).body).toEqual({});
    // The page ran under its own CSP without a single violation or script error.
    expect(problems).toEqual([]);
    await page.close();
  });
});
