import { describe, expect, onTestFinished, test } from 'vitest';
import { fixtureService, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait-for.js';

async function gatewayFor(...args: Parameters<typeof startTestGateway>): Promise<TestGateway> {
  const gw = await startTestGateway(...args);
  onTestFinished(() => gw.close());
  return gw;
}

const pidOf = async (gw: TestGateway, service: string, sessionId: string): Promise<number> =>
  Number((await gw.call(service, { tool: 'pid', session_id: sessionId })).body.result);

describe('warm pool (issue 6)', () => {
  test('the start-up server becomes the warm one and the first call of a new session gets it', async () => {
    const gw = await gatewayFor({ services: { fx: fixtureService([], { warm_pool: 1 }) } });
    const [warm] = await gw.processes();
    expect(warm).toBeDefined();
    const response = await gw.call('fx', { tool: 'pid', session_id: 'first' });
    expect(response.body.session_created).toBe(true);
    expect(Number(response.body.result)).toBe(warm);
    // Refilled in the background: one session plus one warm server.
    await waitFor(async () => (await gw.processes()).length === 2, { what: 'warm pool refilled' });
  });

  test('a warm server is handed to one session only, even when many start at once', async () => {
    const gw = await gatewayFor({ services: { fx: fixtureService([], { warm_pool: 2 }) } });
    await waitFor(async () => (await gw.processes()).length === 2, { what: 'pool full' });
    const pids = await Promise.all(['s1', 's2', 's3', 's4', 's5'].map((id) => pidOf(gw, 'fx', id)));
    expect(new Set(pids).size).toBe(5);
  });

  test('warm servers count within the session limits', async () => {
    const gw = await gatewayFor({
      services: { fx: fixtureService([], { warm_pool: 2 }) },
      session: { max_sessions_per_service: 2 },
    });
    await waitFor(async () => (await gw.processes()).length === 2, { what: 'pool full' });
    await pidOf(gw, 'fx', 'a');
    await pidOf(gw, 'fx', 'b');
    // Two sessions fill the service: no warm server may be started on top.
    expect(await gw.processes()).toHaveLength(2);
    expect((await gw.call('fx', { tool: 'pid', session_id: 'c' })).status).toBe(503);
    await gw.request('DELETE', '/sessions/a');
    await waitFor(async () => (await gw.processes()).length === 2, { what: 'a closed, one warm server back' });
  });

  test('a warm server that dies while waiting is replaced', async () => {
    const gw = await gatewayFor({ services: { fx: fixtureService([], { warm_pool: 1 }) } });
    const [warm] = await gw.processes();
    process.kill(warm!, 'SIGKILL');
    await waitFor(async () => {
      const pids = await gw.processes();
      return pids.length === 1 && pids[0] !== warm;
    }, { what: 'replacement warm server' });
  });
});

describe('session_mode "shared" (issue 6)', () => {
  test('every session of a shared service uses one process; closing a session keeps it', async () => {
    const gw = await gatewayFor({ services: { stateless: fixtureService([], { session_mode: 'shared' }) } });
    const [first, second] = await Promise.all([pidOf(gw, 'stateless', 'x'), pidOf(gw, 'stateless', 'y')]);
    expect(first).toBe(second);
    await gw.request('DELETE', '/sessions/x');
    expect(await pidOf(gw, 'stateless', 'z')).toBe(first);
    expect(await gw.processes()).toEqual([first]);
  });

  test('a crashed shared server is replaced on the next call', async () => {
    const gw = await gatewayFor({ services: { stateless: fixtureService([], { session_mode: 'shared' }) } });
    const before = await pidOf(gw, 'stateless', 'x');
    expect((await gw.call('stateless', { tool: 'crash', session_id: 'y' })).status).toBe(502);
    const after = await pidOf(gw, 'stateless', 'x');
    expect(after).not.toBe(before);
  });
});
