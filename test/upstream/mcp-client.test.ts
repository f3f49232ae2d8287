import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { DEMO_SERVER, fixtureService, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait-for.js';

async function gatewayFor(...args: Parameters<typeof startTestGateway>): Promise<TestGateway> {
  const gw = await startTestGateway(...args);
  onTestFinished(() => gw.close());
  return gw;
}

describe('talking to MCP servers (§6)', () => {
  test('both protocol eras work; the era is probed once per service on the server\'s own pipe', async () => {
    const gw = await gatewayFor({
      services: { modern: { command: [process.execPath, DEMO_SERVER] }, legacy: fixtureService() },
    });
    const starts = () => gw.logs.filter((line) => line.includes('"msg":"session started"')).length;
    for (const id of ['a', 'b']) {
      expect((await gw.call('modern', { tool: 'list_todos', session_id: id })).status).toBe(200);
      expect((await gw.call('legacy', { tool: 'echo', session_id: id, arguments: { text: id } })).body.result).toBe(id);
    }
    // One process per session start, never a second one for probing.
    expect(starts()).toBe(4);
    const eras = gw.logs.filter((line) => line.includes('"msg":"session started"')).map((line) => JSON.parse(line) as { service: string; era: string });
    expect(new Set(eras.map(({ service, era }) => `${service}:${era}`))).toEqual(new Set(['modern:modern', 'legacy:legacy']));
    expect(await gw.processes()).toHaveLength(4);
  });

  test('progress notifications extend call_timeout', async () => {
    const gw = await gatewayFor({ services: { fx: fixtureService([], { call_timeout: 1 }) } });
    // Four steps of 400 ms: 1.6 s in all, more than call_timeout, but never 1 s without progress.
    const response = await gw.call('fx', { tool: 'progress', session_id: 'p', arguments: { steps: 4, intervalMs: 400 } });
    expect(response.status).toBe(200);
    expect(response.body.result).toBe('done after 4 steps');
  });

  test('a client that hangs up mid-call gets its call cancelled upstream', async () => {
    const cancelFile = join(await mkdtemp(join(tmpdir(), 'mcp-gw-cancel-')), 'cancelled.txt');
    const gw = await gatewayFor({ services: { fx: fixtureService([], { env: { FIXTURE_CANCEL_FILE: cancelFile } }) } });
    const abandon = new AbortController();
    const pending = fetch(`${gw.url}/services/fx/call`, {
      method: 'POST',
      signal: abandon.signal,
      headers: { authorization: `Bearer ${gw.config.server.auth_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tool: 'hang', session_id: 'gone' }),
    }).catch((error: Error) => error);
    // The session exists once the call has been written to the server.
    await waitFor(async () => 'gone' in (await gw.request('GET', '/sessions')).body, { what: 'call in flight' });
    abandon.abort();
    expect(await pending).toBeInstanceOf(Error);
    await waitFor(async () => (await readFile(cancelFile, 'utf8').catch(() => '')).trim() !== '', { what: 'notifications/cancelled received' });
  });
});
