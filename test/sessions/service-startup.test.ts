import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ServiceStartup } from '../../src/sessions/service-startup.js';
import { fixtureService, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait-for.js';

let gw: TestGateway;
let dir: string;
let failFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'service-startup-'));
  failFile = join(dir, 'not-yet');
  await writeFile(failFile, '');
  gw = await startTestGateway({
    services: {
      // Fails until the test removes its file, as a server does until its backing service is up.
      later: fixtureService(['fail-while-file'], { env: { FIXTURE_FAIL_FILE: failFile } }),
      broken: fixtureService(['crash-at-start']),
      // Reads nothing for 4 s, so it cannot answer the protocol-era probe or the handshake in time
      // for a 1 s tool timeout: only `start_timeout` may bound its start.
      sluggish: fixtureService(['slow-boot'], { call_timeout: 1, start_timeout: 20, env: { FIXTURE_START_DELAY_MS: '4000' } }),
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
});

const signatureNames = async (): Promise<string[]> => {
  const response = await gw.request('POST', '/swaig', { body: { action: 'get_signature', functions: [] } });
  expect(response.status).toBe(200);
  return (response.body as Array<{ function: string }>).map((definition) => definition.function);
};

describe('start-up that survives failures and load', () => {
  test('a server that failed its first start comes back to get_signature without any REST call', async () => {
    expect((await gw.request('GET', '/services')).body.later).toMatchObject({ status: 'failed' });
    expect((await signatureNames()).some((name) => name.startsWith('mcp_later_'))).toBe(false);
    await rm(failFile);
    await waitFor(async () => (await signatureNames()).includes('mcp_later_echo'), { deadlineMs: 15_000, what: 'later in get_signature' });
    const swaig = await gw.request('POST', '/swaig', {
      body: { function: 'mcp_later_echo', call_id: 'back-1', argument: { parsed: [{ text: 'back' }] } },
    });
    expect(swaig.body.response).toBe('back');
  });

  test('a server that needs 4 s to start works with call_timeout 1', async () => {
    const services = await gw.request('GET', '/services');
    expect(services.body.sluggish).toMatchObject({ status: 'ready', tools: expect.any(Number) });
    const response = await gw.call('sluggish', { tool: 'echo', session_id: 'slow-1', arguments: { text: 'made it' } });
    expect(response.status).toBe(200);
    expect(response.body.result).toBe('made it');
  });

  test('one that keeps failing shows failed with its last error, and /health says degraded', async () => {
    const services = await gw.request('GET', '/services');
    expect(services.body.broken).toMatchObject({ status: 'failed', tools: null });
    expect(services.body.broken.error).toContain('fatal: cannot start');
    expect(Date.parse(services.body.broken.next_retry)).toBeGreaterThan(0);
    const health = await gw.request('GET', '/health', { headers: { authorization: '' } });
    expect(health.body).toMatchObject({ status: 'degraded', services: { broken: 'failed', sluggish: 'ready' } });
    expect(JSON.stringify(health.body)).not.toContain('fatal');
  });
});

describe('ServiceStartup', () => {
  test('starts services at most `concurrency` at a time and reports each', async () => {
    let running = 0;
    let most = 0;
    const startup: ServiceStartup = new ServiceStartup({
      start: (service) =>
        startup.observe(service, (async () => {
          running += 1;
          most = Math.max(most, running);
          await new Promise((resolve) => setImmediate(resolve));
          running -= 1;
          if (service === 's3') throw new Error('no');
          return { tools: 1 };
        })()),
      onReady: () => {},
      logger: pino({ level: 'silent' }),
      now: Date.now,
      concurrency: 2,
    });
    const reports = await startup.startAll(['s1', 's2', 's3', 's4', 's5']);
    startup.stop();
    expect(most).toBe(2);
    expect(reports.map((report) => [report.service, report.ok])).toEqual([['s1', true], ['s2', true], ['s3', false], ['s4', true], ['s5', true]]);
    expect(startup.state('s3')).toMatchObject({ status: 'failed', error: 'no', failures: 1 });
    expect(startup.state('s1')).toEqual({ status: 'ready' });
  });
});
