import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BASIC, fixtureService, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { openRaw, unfinishedPost } from '../helpers/raw-http.js';

/** The acceptance ceiling for a request whose body never completes (default request_timeout 30 s + slack). */
const CLOSE_CEILING_MS = 35_000;

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({
    // A short request timeout keeps the file fast; test/http/request-timeout-default.test.ts covers the default.
    server: { request_timeout: 3, max_connections_per_client: 1000 },
    services: { fx: fixtureService() },
  });
});

afterAll(async () => {
  await gw?.close();
});

describe('slow and hostile clients', () => {
  test('300 bodies that never complete are all closed while the gateway keeps serving', async () => {
    const connections = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        // Half authenticated (the body phase times out), half not (the 401 is sent, the rest is discarded up to a bound).
        openRaw(gw.url, unfinishedPost('/services/fx/call', i % 2 === 0 ? { authorization: BASIC } : {})),
      ),
    );
    const health = await fetch(`${gw.url}/health`);
    expect(health.status).toBe(200);
    const call = await gw.call('fx', { tool: 'echo', arguments: { text: 'still here' }, session_id: 'slow-clients' });
    expect(call.status).toBe(200);

    const lifetimes = await Promise.all(connections.map((connection) => connection.closed));
    expect(Math.max(...lifetimes)).toBeLessThan(CLOSE_CEILING_MS);
    const unauthenticated = connections.filter((_, i) => i % 2 === 1);
    for (const connection of unauthenticated) expect(connection.received()).toMatch(/^HTTP\/1\.1 401 /);
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
  }, 60_000);

  test('an unauthenticated request is answered 401 without waiting for its body', async () => {
    const connection = await openRaw(gw.url, unfinishedPost('/services/fx/call', {}, 10_000_000));
    await connection.closed;
    expect(connection.received()).toMatch(/^HTTP\/1\.1 401 /);
  });

  test('a request whose headers never complete is closed', async () => {
    const connection = await openRaw(gw.url, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    expect(await connection.closed).toBeLessThan(CLOSE_CEILING_MS);
  });

  test('10,000 levels of JSON nesting get 400 on every face', async () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const raw = `{"tool":"echo","session_id":"deep","arguments":{"text":${deep}}}`;
    const rest = await gw.request('POST', '/services/fx/call', { raw, headers: { 'content-type': 'application/json' } });
    expect(rest.status).toBe(400);
    expect(rest.body.error).toMatch(/nested deeper than/);
    const swaig = await gw.request('POST', '/swaig', { raw: `{"function":"mcp_fx_echo","argument":{"parsed":[${deep}]}}` });
    expect(swaig.status).toBe(400);
    // Brackets inside strings are text, not nesting.
    const text = await gw.call('fx', { tool: 'echo', session_id: 'deep', arguments: { text: '['.repeat(10_000) } });
    expect(text.status).toBe(200);
  });

  test('CONNECT and unusual methods get an answer', async () => {
    const connectAttempt = await openRaw(gw.url, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    await connectAttempt.closed;
    expect(connectAttempt.received()).toMatch(/^HTTP\/1\.1 405 /);
    for (const method of ['TRACE', 'PROPFIND', 'PURGE', 'HEAD', 'OPTIONS', 'PATCH']) {
      const response = await fetch(`${gw.url}/services`, { method, headers: { authorization: BASIC } }).catch((error: Error) => error);
      // fetch itself refuses TRACE; every method it sends gets a status.
      if (response instanceof Error) continue;
      expect(response.status, method).toBeGreaterThanOrEqual(200);
      expect(response.status, method).toBeLessThan(500);
    }
    const odd = await openRaw(gw.url, 'TRACE /services HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    await odd.closed;
    expect(odd.received()).toMatch(/^HTTP\/1\.1 4\d\d /);
  });

  test('an 11 MiB body sent with fetch reads 413 every time', async () => {
    const body = JSON.stringify({ tool: 'echo', arguments: { text: 'x'.repeat(11 * 1024 * 1024) } });
    for (let attempt = 0; attempt < 10; attempt++) {
      const response = await fetch(`${gw.url}/services/fx/call`, { method: 'POST', headers: { authorization: BASIC, 'content-type': 'application/json' }, body });
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({ error: 'Request body too large' });
    }
    // Without a Content-Length the limit is found while reading: the client still reads the 413.
    for (let attempt = 0; attempt < 3; attempt++) {
      const stream = new Blob([body]).stream();
      const response = await fetch(`${gw.url}/services/fx/call`, {
        method: 'POST',
        headers: { authorization: BASIC, 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      expect(response.status).toBe(413);
    }
  });
});

describe('connections per client', () => {
  test('connections over the cap are closed at once; the cap frees up when they close', async () => {
    const capped = await startTestGateway({ server: { max_connections_per_client: 3 }, services: { fx: fixtureService() } }, { skipValidation: true });
    try {
      const held = await Promise.all(Array.from({ length: 3 }, () => openRaw(capped.url, '')));
      const extra = await openRaw(capped.url, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await extra.closed;
      expect(extra.received()).toBe('');
      expect(capped.logs.some((line) => line.includes('connection limit per client reached'))).toBe(true);
      for (const connection of held) connection.socket.destroy();
      await Promise.all(held.map((connection) => connection.closed));
      // The server sees the closes a moment after the client does.
      let status = 0;
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
        status = await fetch(`${capped.url}/health`, { headers: { connection: 'close' } }).then((r) => r.status, () => 0);
      }
      expect(status).toBe(200);
    } finally {
      await capped.close();
    }
  });
});
