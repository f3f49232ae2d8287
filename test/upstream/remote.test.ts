import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { freePort, startEverythingHttp, startRemoteFixture, type HttpServerProcess } from '../helpers/http-servers.js';
import { waitFor } from '../helpers/wait-for.js';

const SECRET = 'remote-secret-7f3a';

let gw: TestGateway;
let fixture: Awaited<ReturnType<typeof startRemoteFixture>>;
let everything: HttpServerProcess;
/** Restarted by a test: a server that forgets its sessions. */
let restarting: Awaited<ReturnType<typeof startRemoteFixture>>;

beforeAll(async () => {
  [fixture, everything, restarting] = await Promise.all([startRemoteFixture(SECRET), startEverythingHttp(), startRemoteFixture()]);
  const bearer = { Authorization: 'Bearer ${REMOTE_TOKEN}' };
  gw = await startTestGateway(
    {
      services: {
        fixture: { url: `${fixture.origin}/mcp`, headers: bearer, transport: 'streamable-http' },
        legacy: { url: `${fixture.origin}/sse`, headers: bearer, transport: 'sse' },
        guessed: { url: `${fixture.origin}/sse`, headers: bearer, transport: 'auto' },
        everything: { url: `${everything.origin}/mcp` },
        closed: { url: `http://127.0.0.1:${await freePort()}/mcp` },
        refused: { url: `${fixture.origin}/mcp`, headers: { Authorization: 'Bearer wrong' } },
        restarting: { url: `${restarting.origin}/mcp` },
        restarting_sse: { url: `${restarting.origin}/sse`, transport: 'sse' },
      },
    },
    { env: { ...process.env, REMOTE_TOKEN: SECRET } },
  );
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([fixture?.stop(), everything?.stop(), restarting?.stop()]);
});

const count = async (service: string, sessionId: string): Promise<string> => {
  const { status, body } = await gw.call(service, { tool: 'count', session_id: sessionId });
  expect(status, JSON.stringify(body)).toBe(200);
  return body.result;
};

describe('a Streamable HTTP server as a service (SPEC §13)', () => {
  test('its tools are listed from the cache, without opening an upstream session', async () => {
    const before = await fixture.state();
    const { status, body } = await gw.request('GET', '/services/fixture/tools');
    expect(status).toBe(200);
    expect(body.tools.map((tool: { name: string }) => tool.name)).toEqual(['count', 'echo', 'fail', 'progress']);
    expect(await fixture.state()).toEqual(before);
    const services = await gw.request('GET', '/services');
    expect(services.body.fixture).toMatchObject({ tools: 4, status: 'ready' });
  });

  test('a gateway session keeps one upstream session; another gets its own; DELETE ends it upstream', async () => {
    const { open, ended } = await fixture.state();
    expect([await count('fixture', 'r-a'), await count('fixture', 'r-a'), await count('fixture', 'r-a')]).toEqual(['1', '2', '3']);
    expect(await count('fixture', 'r-b')).toBe('1');
    expect((await fixture.state()).open).toBe(open + 2);

    expect((await gw.request('DELETE', '/sessions/r-a')).status).toBe(200);
    await waitFor(async () => (await fixture.state()).ended === ended + 1, { what: 'the upstream session to be deleted' });
    expect((await fixture.state()).open).toBe(open + 1);
    expect(await count('fixture', 'r-b')).toBe('2');
    const again = await gw.call('fixture', { tool: 'count', session_id: 'r-a' });
    expect(again.body).toMatchObject({ result: '1', session_created: true });
  });

  test('the SWAIG face calls it too, and the hang-up ends the upstream session', async () => {
    const call = (callId: string) =>
      gw.request('POST', '/swaig', { body: { function: 'mcp_fixture_count', argument: { parsed: [{}] }, call_id: callId } });
    expect([(await call('s-1')).body, (await call('s-1')).body, (await call('s-2')).body]).toEqual([
      { response: '1' },
      { response: '2' },
      { response: '1' },
    ]);
    const { ended } = await fixture.state();
    await gw.request('POST', '/swaig', { body: { function: 'hangup_hook', call_id: 's-1' } });
    await waitFor(async () => (await fixture.state()).ended === ended + 1, { what: 'the hang-up to end the upstream session' });
  });

  test('tool errors stay tool errors, and the secret header never reaches the log', async () => {
    const { status, body } = await gw.call('fixture', { tool: 'fail', session_id: 'r-err' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ is_error: true, result: 'fail requested' });
    expect(gw.logs.join('\n')).not.toContain(SECRET);
  });

  test('server-everything over Streamable HTTP answers through the gateway', async () => {
    const { status, body } = await gw.call('everything', { tool: 'echo', session_id: 'e-1', arguments: { message: 'hi' } });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.result).toContain('hi');
  });
});

describe('a legacy HTTP+SSE server as a service', () => {
  test('per-session state, isolation and DELETE, as over Streamable HTTP', async () => {
    const { ended } = await fixture.state();
    expect([await count('legacy', 'l-a'), await count('legacy', 'l-a'), await count('legacy', 'l-a')]).toEqual(['1', '2', '3']);
    expect(await count('legacy', 'l-b')).toBe('1');
    await gw.request('DELETE', '/sessions/l-a');
    await waitFor(async () => (await fixture.state()).ended === ended + 1, { what: 'the SSE session to end' });
    expect(await count('legacy', 'l-b')).toBe('2');
  });

  test('transport "auto" falls back to SSE when the server does not speak Streamable HTTP', async () => {
    expect([await count('guessed', 'g-a'), await count('guessed', 'g-a')]).toEqual(['1', '2']);
  });
});

describe('an unreachable or refusing server answers 502 quickly, naming the service', () => {
  test.each([
    ['closed', /Failed to start MCP service 'closed': cannot reach http:\/\/127\.0\.0\.1:\d+\/mcp \(ECONNREFUSED\)/],
    ['refused', /Failed to start MCP service 'refused': .* refused the configured credentials \(HTTP 401\)/],
  ])('%s', async (service, message) => {
    const started = Date.now();
    const { status, body } = await gw.call(service, { tool: 'count', session_id: `${service}-1` });
    expect(status).toBe(502);
    expect(body.error).toMatch(message);
    expect(Date.now() - started).toBeLessThan(5000);
    // The rest of the gateway is unaffected.
    expect(await count('fixture', `${service}-after`)).toBe('1');
  });
});

test('a server that restarts and forgets its sessions: the gateway sessions start afresh', async () => {
  expect([await count('restarting', 'x-1'), await count('restarting', 'x-1')]).toEqual(['1', '2']);
  expect(await count('restarting_sse', 'x-1')).toBe('1');
  await restarting.stop();
  restarting = await startRemoteFixture(undefined, restarting.port);

  // Streamable HTTP: the forgotten session id is answered 404; that call fails clearly, the next one starts afresh.
  const forgotten = await gw.call('restarting', { tool: 'count', session_id: 'x-1' });
  expect(forgotten.status).toBe(502);
  expect(forgotten.body.error).toMatch(/'restarting'.*no longer knows the session/);
  expect((await gw.call('restarting', { tool: 'count', session_id: 'x-1' })).body).toMatchObject({ result: '1', session_created: true });
  // Legacy SSE: the dropped event stream has already ended the session.
  await waitFor(() => !gw.gateway.registry.list().some((session) => session.service === 'restarting_sse'), { what: 'the SSE session to end' });
  expect((await gw.call('restarting_sse', { tool: 'count', session_id: 'x-1' })).body).toMatchObject({ result: '1', session_created: true });
});
