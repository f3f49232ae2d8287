/**
 * The fault matrix, servers' half: what a misbehaving MCP server can do to a running gateway, one
 * row each. Every answer is a clear status (never a 500, never silence), only the misbehaving
 * session suffers, and no process outlives its session. The other half (races, churn, fuzz,
 * floods, Redis) is fault-matrix-requests.test.ts; slow clients are test/http/hostile-clients.test.ts
 * and request-timeout-default.test.ts; a frozen Redis is test/http/redis-frozen.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fixtureService, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { isRunning } from './helpers/processes.js';
import { waitFor } from './helpers/wait-for.js';

const MiB = 1024 * 1024;
let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway(
    {
      services: {
        fx: fixtureService(),
        // Short, so rows that wait out a timeout stay fast; long enough to start on a busy machine.
        quick: fixtureService([], { call_timeout: 3 }),
        garbage: fixtureService(['garbage-stdout']),
        noisy: fixtureService(['flood-stderr']),
        stubborn: fixtureService(['ignore-sigterm']),
        broken: fixtureService(['crash-at-start']),
        small: fixtureService([], { max_result_bytes: MiB }),
      },
    },
    // The ignore-sigterm row waits out both graces.
    { closeTimings: { stdinGraceMs: 300, termGraceMs: 300 } },
  );
});
afterAll(async () => {
  await gw?.close();
});

const sid = (): string => `fm-${randomUUID()}`;
const pidOf = async (service: string, session: string): Promise<number> => Number((await gw.call(service, { tool: 'pid', session_id: session })).body.result);

describe('servers that misbehave', () => {
  test('crash: 502 at once naming the exit, then a fresh server', async () => {
    const session = sid();
    const crash = await gw.call('fx', { tool: 'crash', session_id: session, arguments: { code: 7 } });
    expect(crash.status).toBe(502);
    expect(crash.body.error).toMatch(/exited \(exit code 7\)/);
    const after = await gw.call('fx', { tool: 'echo', session_id: session, arguments: { text: 'again' } });
    expect(after.body).toMatchObject({ result: 'again', session_created: true });
  });

  test('crash at start: 502 with its stderr, nothing left running', async () => {
    const response = await gw.call('broken', { tool: 'echo', session_id: sid(), arguments: { text: 'x' } });
    expect(response.status).toBe(502);
    expect(response.body.error).toMatch(/fatal: cannot start/);
  });

  test('wedge (SIGSTOP): replaced within a few calls, and the next call says session_created', async () => {
    const session = sid();
    const pid = await pidOf('quick', session);
    process.kill(pid, 'SIGSTOP');
    const statuses: number[] = [];
    let replaced: Awaited<ReturnType<TestGateway['call']>> | undefined;
    for (let attempt = 0; attempt < 5 && replaced === undefined; attempt++) {
      const response = await gw.call('quick', { tool: 'pid', session_id: session });
      statuses.push(response.status);
      if (response.status === 200) replaced = response;
    }
    expect(replaced?.body.session_created, `statuses: ${statuses.join(', ')}`).toBe(true);
    expect(replaced?.body.result).not.toBe(String(pid));
    expect(statuses[0]).toBe(504);
    await waitFor(() => !isRunning(pid), { what: `wedged server ${pid} to be gone` });
    expect(gw.logs.some((line) => line.includes('server_wedged'))).toBe(true);
  });

  test('wedge (spinning): a server that burns CPU without answering is replaced too', async () => {
    const session = sid();
    const pid = await pidOf('quick', session);
    expect((await gw.call('quick', { tool: 'burn', session_id: session })).status).toBe(504);
    await waitFor(() => !isRunning(pid), { what: `spinning server ${pid} to be gone` });
    expect((await gw.call('quick', { tool: 'echo', session_id: session, arguments: { text: 'x' } })).body.session_created).toBe(true);
  });

  test('hang: 504 after call_timeout; the server still answers pings, so it is kept', async () => {
    const session = sid();
    const pid = await pidOf('quick', session);
    expect((await gw.call('quick', { tool: 'hang', session_id: session })).status).toBe(504);
    const next = await gw.call('quick', { tool: 'pid', session_id: session });
    expect(next.body).toMatchObject({ result: String(pid), session_created: false });
    expect(gw.logs.filter((line) => line.includes('server_wedged') && line.includes(session))).toEqual([]);
  });

  test('garbage on stdout is skipped; calls still answer', async () => {
    const response = await gw.call('garbage', { tool: 'echo', session_id: sid(), arguments: { text: 'clean' } });
    expect(response.body).toMatchObject({ result: 'clean' });
  });

  test('a stderr flood does not stall the server', async () => {
    const session = sid();
    for (let i = 0; i < 5; i++) expect((await gw.call('noisy', { tool: 'echo', session_id: session, arguments: { text: `n${i}` } })).status).toBe(200);
  });

  test('a huge result (50 MiB) answers at once with 502 saying how large; the session lives on', async () => {
    const session = sid();
    // Started first: the 10 s are the result's, not the server start's.
    await pidOf('fx', session);
    const started = Date.now();
    const response = await gw.call('fx', { tool: 'big', session_id: session, arguments: { bytes: 50 * MiB } });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(response.status).toBe(502);
    expect(response.body.error).toMatch(/^Result from 'fx' too large: more than \d{8} bytes, over max_result_bytes \(10485760\)/);
    expect((await gw.call('fx', { tool: 'echo', session_id: session, arguments: { text: 'still' } })).body).toMatchObject({ result: 'still', session_created: false });
  });

  test('max_result_bytes is per service: a result under it is relayed whole, one over it is refused', async () => {
    const session = sid();
    const under = await gw.call('small', { tool: 'big', session_id: session, arguments: { bytes: 1000 * 1024 } });
    expect(under.status).toBe(200);
    expect(under.body.result).toHaveLength(1000 * 1024);
    const over = await gw.call('small', { tool: 'big', session_id: session, arguments: { bytes: MiB } });
    expect(over.status).toBe(502);
    expect(over.body.error).toMatch(/too large: more than \d+ bytes, over max_result_bytes \(1048576\)/);
  });

  test('signals: SIGTERM and SIGKILL from outside mid-call are 502 naming the signal', async () => {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const session = sid();
      const pid = await pidOf('fx', session);
      const waiting = gw.call('fx', { tool: 'slow', session_id: session, arguments: { ms: 20_000 } });
      await waitFor(async () => gw.logs.some((line) => line.includes(session) && line.includes('"tool":"slow"')), { what: 'the slow call to start' });
      process.kill(pid, signal);
      const response = await waiting;
      expect(response.status).toBe(502);
      expect(response.body.error).toContain(`signal ${signal}`);
    }
  });

  test('a server that ignores SIGTERM is still gone after DELETE', async () => {
    const session = sid();
    const pid = await pidOf('stubborn', session);
    expect((await gw.request('DELETE', `/sessions/${session}`)).status).toBe(200);
    await waitFor(() => !isRunning(pid), { what: `stubborn server ${pid} to be gone` });
  });
});

