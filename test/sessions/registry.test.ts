import { describe, expect, onTestFinished, test } from 'vitest';
import { DEMO_SERVER, FIXTURE_SERVER, FIXTURE_WRAPPER, fixtureService, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait-for.js';

async function gatewayFor(...args: Parameters<typeof startTestGateway>): Promise<TestGateway> {
  const gw = await startTestGateway(...args);
  onTestFinished(() => gw.close());
  // The catalogue's own start-up process is closed in the background; start counting after it.
  await waitFor(async () => (await gw.processes()).length === 0, { what: 'catalogue process gone' });
  return gw;
}

const wrapped = { command: ['/bin/sh', FIXTURE_WRAPPER], description: 'fixture behind a forking wrapper' };

describe('session lifecycle (§5)', () => {
  test('five racing first calls for one new session start one process and keep all five writes', async () => {
    const gw = await gatewayFor({ services: { todo: { command: [process.execPath, DEMO_SERVER] } } });
    const responses = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => gw.call('todo', { tool: 'add_todo', session_id: 'race', arguments: { text: `item ${n}` } })),
    );
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    expect(responses.filter((response) => response.body.session_created)).toHaveLength(1);
    expect(await gw.processes()).toHaveLength(1);
    const listed = await gw.call('todo', { tool: 'list_todos', session_id: 'race' });
    for (const n of [1, 2, 3, 4, 5]) expect(listed.body.result).toContain(`item ${n}`);
  });

  test('limits are checked before spawning: 503 with Retry-After and no process for the refused session', async () => {
    const gw = await gatewayFor({
      services: { a: fixtureService(), b: fixtureService() },
      session: { max_sessions_per_service: 2, max_total_sessions: 3 },
    });
    for (const id of ['a1', 'a2']) expect((await gw.call('a', { tool: 'echo', session_id: id, arguments: { text: id } })).status).toBe(200);
    const perService = await gw.call('a', { tool: 'echo', session_id: 'a3', arguments: { text: 'x' } });
    expect(perService.status).toBe(503);
    expect(perService.body).toEqual({ error: 'Max sessions limit reached for service a' });
    expect(perService.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await gw.processes()).toHaveLength(2);

    expect((await gw.call('b', { tool: 'echo', session_id: 'b1', arguments: { text: 'x' } })).status).toBe(200);
    const total = await gw.call('b', { tool: 'echo', session_id: 'b2', arguments: { text: 'x' } });
    expect(total.status).toBe(503);
    expect(total.body).toEqual({ error: 'Maximum session limit (3) reached' });
    expect(await gw.processes()).toHaveLength(3);
    // An existing session keeps working at the limit.
    expect((await gw.call('a', { tool: 'echo', session_id: 'a1', arguments: { text: 'still' } })).status).toBe(200);
  });

  test('DELETE ends a wrapper, its server and the server\'s own child', async () => {
    const gw = await gatewayFor({ services: { w: wrapped } });
    const spawned = await gw.call('w', { tool: 'spawn_grandchild', session_id: 'tree' });
    expect(spawned.status).toBe(200);
    expect((await gw.processes()).length).toBe(3);
    expect((await gw.request('DELETE', '/sessions/tree')).status).toBe(200);
    await waitFor(async () => (await gw.processes()).length === 0, { what: 'process tree gone after DELETE' });
  });

  test('idle sessions are swept, and an expired one is replaced on access', async () => {
    let now = Date.now();
    const gw = await gatewayFor({ services: { w: wrapped }, session: { default_timeout: 60 } }, { now: () => now });
    await gw.call('w', { tool: 'spawn_grandchild', session_id: 'idle' });
    await gw.call('w', { tool: 'echo', session_id: 'short', arguments: { text: 'x' }, timeout: 5 });
    now += 10_000;
    expect(gw.gateway.registry.sweep()).toBe(1);
    expect(Object.keys((await gw.request('GET', '/sessions')).body)).toEqual(['idle']);
    now += 60_000;
    const again = await gw.call('w', { tool: 'echo', session_id: 'idle', arguments: { text: 'back' } });
    expect(again.body.session_created).toBe(true);
    await waitFor(async () => (await gw.processes()).length === 2, { what: 'expired trees gone, new session alive' });
  });

  test('one session id uses two services at once; DELETE closes both', async () => {
    const gw = await gatewayFor({ services: { fx: fixtureService(), todo: { command: [process.execPath, DEMO_SERVER] } } });
    await gw.call('fx', { tool: 'echo', session_id: 'both', arguments: { text: 'x' } });
    await gw.call('todo', { tool: 'add_todo', session_id: 'both', arguments: { text: 'y' } });
    expect(await gw.processes()).toHaveLength(2);
    await gw.request('DELETE', '/sessions/both');
    await waitFor(async () => (await gw.processes()).length === 0, { what: 'both servers gone' });
  });

  test('a server flooding stderr keeps answering for thousands of calls (§11)', async () => {
    const gw = await gatewayFor({ services: { noisy: fixtureService(['flood-stderr']) } });
    const lanes = 8;
    const perLane = 250;
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        for (let n = 0; n < perLane; n += 1) {
          const response = await gw.call('noisy', { tool: 'add', session_id: 'flood', arguments: { a: lane, b: n } });
          expect(response.body.result).toBe(String(lane + n));
        }
      }),
    );
  });

  test('garbage on stdout is skipped, never fatal (§6)', async () => {
    const gw = await gatewayFor({ services: { messy: fixtureService(['garbage-stdout']) } });
    for (const text of ['one', 'two', 'three']) {
      expect((await gw.call('messy', { tool: 'echo', session_id: 'g', arguments: { text } })).body.result).toBe(text);
    }
    expect(gw.logs.some((line) => line.includes('non-JSON line on server stdout skipped'))).toBe(true);
  });
});

describe('tool catalogue (§6)', () => {
  test('GET tools spawns no process and lists every page of a paginating server', async () => {
    const gw = await gatewayFor({ services: { pages: fixtureService(['paginate']) } });
    const before = await gw.processes();
    const response = await gw.request('GET', '/services/pages/tools');
    expect(response.status).toBe(200);
    const names: string[] = response.body.tools.map((tool: { name: string }) => tool.name);
    expect(names).toContain('tool_01');
    expect(names).toContain('tool_25');
    expect(new Set(names).size).toBe(names.length);
    expect(await gw.processes()).toEqual(before);
  });

  test('list_changed from a live session refreshes the catalogue', async () => {
    const gw = await gatewayFor({ services: { fx: fixtureService() } });
    await gw.call('fx', { tool: 'add_tool', session_id: 'lc' });
    await waitFor(async () => {
      const tools = (await gw.request('GET', '/services/fx/tools')).body.tools as Array<{ name: string }>;
      return tools.some((tool) => tool.name === 'added_1');
    }, { what: 'catalogue refreshed by list_changed' });
    expect((await gw.call('fx', { tool: 'added_1', session_id: 'lc' })).status).toBe(200);
  });

  test('the first run of a service answers GET tools even when start-up validation could not', async () => {
    const gw = await gatewayFor({ services: { late: fixtureService(['crash-at-start']) } });
    const response = await gw.request('GET', '/services/late/tools');
    expect(response.status).toBe(502);
    expect(response.body.error).toMatch(/^Failed to start MCP service 'late'/);
    expect(FIXTURE_SERVER).toBeTruthy();
  });
});

describe('closing races (§5)', () => {
  test('a session is never idle while one of its calls runs', async () => {
    let now = Date.now();
    const gw = await gatewayFor({ services: { fx: fixtureService() }, session: { default_timeout: 60 } }, { now: () => now });
    await gw.call('fx', { tool: 'echo', session_id: 'busy', arguments: { text: 'x' } });
    const running = gw.call('fx', { tool: 'slow', session_id: 'busy', arguments: { ms: 500 } });
    await waitFor(() => gw.gateway.registry.list()[0]?.inFlight === 1, { what: 'call in flight' });
    now += 3_600_000;
    expect(gw.gateway.registry.sweep()).toBe(0);
    expect((await running).status).toBe(200);
  });

  test('DELETE during a session\'s first start closes it once started; nothing is left', async () => {
    const gw = await gatewayFor({ services: { slow: fixtureService(['slow-start'], { env: { FIXTURE_START_DELAY_MS: '800' } }) } });
    const first = gw.call('slow', { tool: 'echo', session_id: 'early', arguments: { text: 'x' } });
    await waitFor(() => gw.gateway.registry.size === 1, { what: 'start in progress' });
    expect((await gw.request('DELETE', '/sessions/early')).status).toBe(200);
    expect((await first).status).toBe(502);
    expect(Object.keys((await gw.request('GET', '/sessions')).body)).toEqual([]);
    await waitFor(async () => (await gw.processes()).length === 0, { what: 'cancelled start cleaned up' });
  });

  test('close() ends a server that is stuck in its handshake, without waiting for its start timeout', async () => {
    const gw = await startTestGateway({
      services: { stuck: fixtureService(['slow-start', 'ignore-sigterm'], { call_timeout: 3600, env: { FIXTURE_START_DELAY_MS: '3600000' } }) },
    }, { drainMs: 200, skipValidation: true });
    const call = gw.call('stuck', { tool: 'echo', session_id: 's', arguments: { text: 'x' } });
    await waitFor(async () => (await gw.processes()).length === 1, { what: 'stuck server running' });
    await gw.close();
    expect(await gw.processes()).toEqual([]);
    expect((await call.catch(() => ({ status: 0 }))).status).not.toBe(200);
  });
});
