/**
 * The fault matrix, requests' half: races, churn, fuzz, floods and Redis going away, against a
 * running gateway. Nothing gets a 500 or no answer, and nothing is left running. The servers'
 * half is fault-matrix-servers.test.ts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BASIC, fixtureService, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { isRunning } from './helpers/processes.js';
import { freePort, startRedis, stopRedis } from './helpers/redis-server.js';
import { waitFor } from './helpers/wait-for.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({
    services: {
      fx: fixtureService(),
    },
    session: { max_sessions_per_service: 50, max_total_sessions: 200 },
  });
});
afterAll(async () => {
  await gw?.close();
});

const sid = (): string => `fm-${randomUUID()}`;

/** A /call over `agent`'s connections (node:http, so a test can pin and end the connection). */
function postOn(agent: Agent, body: Record<string, unknown>): Promise<{ status: number; body: any; socket: unknown }> {
  const payload = JSON.stringify(body);
  const url = new URL(`${gw.url}/services/fx/call`);
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: BASIC, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), socket: req.socket }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
const pidOf = async (service: string, session: string): Promise<number> => Number((await gw.call(service, { tool: 'pid', session_id: session })).body.result);

describe('races and churn', () => {
  test('ten simultaneous first calls of one session start one server', async () => {
    const session = sid();
    const responses = await Promise.all(Array.from({ length: 10 }, () => gw.call('fx', { tool: 'pid', session_id: session })));
    expect(new Set(responses.map((response) => response.body.result)).size).toBe(1);
    expect(responses.filter((response) => response.body.session_created)).toHaveLength(1);
  });

  test('DELETE during a call: the call ends with a clear error, nothing is left running', async () => {
    const session = sid();
    const pid = await pidOf('fx', session);
    const waiting = gw.call('fx', { tool: 'slow', session_id: session, arguments: { ms: 20_000 } });
    await waitFor(async () => gw.logs.some((line) => line.includes(session) && line.includes('"tool":"slow"')), { what: 'the slow call to start' });
    expect((await gw.request('DELETE', `/sessions/${session}`)).status).toBe(200);
    const response = await waiting;
    expect(response.status).toBe(502);
    await waitFor(() => !isRunning(pid), { what: `server ${pid} to be gone` });
  });

  test('a client that gives up mid-call is logged as a client abort, with an access-log line', async () => {
    const session = sid();
    await pidOf('fx', session);
    const controller = new AbortController();
    const abandoned = fetch(`${gw.url}/services/fx/call`, {
      method: 'POST',
      headers: { authorization: BASIC, 'content-type': 'application/json' },
      body: JSON.stringify({ tool: 'slow', session_id: session, arguments: { ms: 20_000 } }),
      signal: controller.signal,
    }).catch(() => undefined);
    await waitFor(() => gw.logs.some((line) => line.includes(session) && line.includes('"tool":"slow"')), { what: 'the slow call to start' });
    controller.abort();
    await abandoned;
    await waitFor(() => gw.logs.some((line) => line.includes('"code":"CLIENT_CLOSED"')), { what: 'the cancelled call to be logged' });
    expect(gw.logs.filter((line) => line.includes('"event":"client_abort"') && line.includes('"status":499'))).toHaveLength(1);
    expect(gw.logs.some((line) => line.includes('timed out'))).toBe(false);
  });

  test('calls on one keep-alive connection share its abort signal: finished calls leave nothing armed, an abandoned one is cancelled', async () => {
    const session = sid();
    await pidOf('fx', session);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const sockets = new Set<unknown>();
      for (let i = 0; i < 30; i++) {
        const { status, body, socket } = await postOn(agent, { tool: 'echo', session_id: session, arguments: { text: `n${i}` } });
        expect([status, body.result, body.is_error]).toEqual([200, `n${i}`, false]);
        sockets.add(socket);
      }
      // One connection carried all 30, and its signal never collected listeners of finished calls.
      expect(sockets.size).toBe(1);
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);

      const cancelled = gw.logs.filter((line) => line.includes('"code":"CLIENT_CLOSED"')).length;
      const slow = postOn(agent, { tool: 'slow', session_id: session, arguments: { ms: 20_000 } }).catch((error: Error) => error);
      await waitFor(() => gw.logs.some((line) => line.includes(session) && line.includes('"tool":"slow"')), { what: 'the slow call to start' });
      agent.destroy();
      expect(await slow).toBeInstanceOf(Error);
      await waitFor(() => gw.logs.filter((line) => line.includes('"code":"CLIENT_CLOSED"')).length > cancelled, { what: 'the abandoned call to be cancelled' });
      // The next connection gets a signal of its own, not the aborted one.
      expect((await gw.call('fx', { tool: 'echo', session_id: session, arguments: { text: 'after' } })).body.result).toBe('after');
    } finally {
      process.off('warning', onWarning);
      agent.destroy();
    }
  });

  test('churn: 15 sessions created and deleted concurrently leave no process behind', async () => {
    const sessions = Array.from({ length: 15 }, sid);
    const pids = await Promise.all(sessions.map((session) => pidOf('fx', session)));
    await Promise.all(sessions.map((session) => gw.request('DELETE', `/sessions/${session}`)));
    await waitFor(() => pids.every((pid) => !isRunning(pid)), { what: 'every churned server to be gone', deadlineMs: 20_000 });
    const listed = (await gw.request('GET', '/sessions')).body as Record<string, unknown>;
    for (const session of sessions) expect(listed).not.toHaveProperty(session);
  });
});

describe('requests that misbehave', () => {
  test('fuzz: 200 random bodies, paths and headers never get a 500 or silence', async () => {
    const paths = ['/services/fx/call', '/services/fx/tools', '/services', '/sessions', '/swaig', '/sessions/x', '/services/%00/call', '/health'];
    const bodies = (): string => {
      const pick = Math.floor(Math.random() * 6);
      if (pick === 0) return randomBytes(Math.floor(Math.random() * 200)).toString('latin1');
      if (pick === 1) return JSON.stringify({ tool: randomBytes(4).toString('hex'), session_id: randomBytes(8).toString('base64'), arguments: [] });
      if (pick === 2) return JSON.stringify({ tool: 'echo', session_id: sid(), arguments: { text: 42 } });
      if (pick === 3) return '{"tool":"echo","session_id":"a","arguments":'.repeat(3);
      if (pick === 4) return JSON.stringify({ function: 'mcp_fx_echo', argument: { parsed: [{ text: randomBytes(3).toString('hex') }] }, call_id: 7 });
      return '';
    };
    const methods = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH'];
    const statuses = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const method = methods[i % methods.length]!;
        const response = await fetch(`${gw.url}${paths[i % paths.length]}`, {
          method,
          headers: { authorization: i % 7 === 0 ? 'Basic Og==' : BASIC, 'content-type': i % 3 === 0 ? 'text/plain' : 'application/json' },
          body: method === 'GET' ? undefined : bodies(),
        });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    expect(statuses.filter((status) => status >= 500 && status !== 502 && status !== 503 && status !== 504)).toEqual([]);
    expect(gw.logs.some((line) => line.includes('"internal error"'))).toBe(false);
  });

  test('a flood of 100 concurrent calls on 10 sessions all get answers', async () => {
    const sessions = Array.from({ length: 10 }, sid);
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => gw.call('fx', { tool: 'add', session_id: sessions[i % 10]!, arguments: { a: i, b: 1 } })),
    );
    responses.forEach((response, i) => expect(response.body.result).toBe(String(i + 1)));
    await Promise.all(sessions.map((session) => gw.request('DELETE', `/sessions/${session}`)));
  });
});

describe('storage', () => {
  test('Redis down mid-load: every request still answers, from memory', async () => {
    const port = await freePort();
    const password = randomUUID();
    const redis = await startRedis(port, password);
    const limited = await startTestGateway(
      {
        services: { fx: fixtureService() },
        rate_limiting: { enabled: true, storage_uri: `redis://:${password}@127.0.0.1:${port}`, default_limits: ['100000 per minute'] },
      },
      { skipValidation: true },
    );
    try {
      const load = Promise.all(Array.from({ length: 100 }, () => limited.request('GET', '/sessions')));
      await stopRedis(redis);
      const after = await Promise.all(Array.from({ length: 50 }, () => limited.request('GET', '/sessions')));
      expect([...(await load), ...after].map((response) => response.status).filter((status) => status !== 200)).toEqual([]);
    } finally {
      await limited.close();
      await stopRedis(redis);
    }
  });
});
