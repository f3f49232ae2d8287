import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, onTestFinished, test } from 'vitest';
import { fixtureService, startTestGateway, type TestGateway } from '../helpers/gateway.js';

async function gatewayFor(rateLimiting: Record<string, unknown>, server: Record<string, unknown> = {}): Promise<TestGateway> {
  const gw = await startTestGateway({
    services: { a: fixtureService(), b: fixtureService() },
    rate_limiting: { enabled: true, ...rateLimiting },
    server,
  });
  onTestFinished(() => gw.close());
  return gw;
}

const echo = (gw: TestGateway, service: string, headers: Record<string, string> = {}) =>
  gw.request('POST', `/services/${service}/call`, { body: { tool: 'echo', session_id: 'rl', arguments: { text: 'x' } }, headers });

describe('rate limits on the real routes (§8)', () => {
  test('the 4th call under "3 per minute" is 429 with all four headers; services share the call bucket; another client IP has its own', async () => {
    const gw = await gatewayFor({ call_limit: '3 per minute' }, { trust_proxy: true });
    const first = await echo(gw, 'a');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit')).toBe('3');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('2');
    expect(await echo(gw, 'b').then((response) => response.status)).toBe(200);
    expect(await echo(gw, 'a').then((response) => response.status)).toBe(200);
    const refused = await echo(gw, 'b');
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: 'Rate limit exceeded: 3 per 1 minute' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(refused.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);

    const otherClient = await echo(gw, 'a', { 'x-forwarded-for': '203.0.113.7' });
    expect(otherClient.status).toBe(200);
    expect(otherClient.headers.get('x-ratelimit-remaining')).toBe('2');
  });

  test('default limits count per (client, session): 16 calls over 4 sessions pass, the 11th in one session is 429', async () => {
    const gw = await gatewayFor({});
    const call = (session: string) => gw.call('a', { tool: 'echo', session_id: session, arguments: { text: 'x' } });
    for (let n = 0; n < 16; n += 1) expect((await call(`caller-${n % 4}`)).status).toBe(200);
    for (let n = 0; n < 10; n += 1) expect((await call('busy')).status).toBe(200);
    const refused = await call('busy');
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: 'Rate limit exceeded: 10 per 1 minute' });
  });

  test('call_limit_scope "client" counts every session of an address together', async () => {
    const gw = await gatewayFor({ call_limit: '3 per minute', call_limit_scope: 'client' });
    const statuses = [];
    for (let n = 0; n < 4; n += 1) statuses.push((await gw.call('a', { tool: 'echo', session_id: `s${n}`, arguments: { text: 'x' } })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  test('SWAIG function calls count per call_id; over the limit the model hears a sentence', async () => {
    const limited = await startTestGateway({ services: { a: fixtureService() }, swaig: { limit: '2 per minute' }, rate_limiting: { enabled: true } });
    onTestFinished(() => limited.close());
    const call = (callId: string) =>
      limited.request('POST', '/swaig', { body: { function: 'mcp_a_echo', call_id: callId, argument: { parsed: [{ text: 'x' }] } } });
    expect((await call('one')).body.response).toBe('x');
    expect((await call('two')).body.response).toBe('x');
    expect((await call('one')).body.response).toBe('x');
    const refused = await call('one');
    expect(refused.status).toBe(200);
    expect(refused.body.response).toMatch(/^Too many requests/);
    expect((await call('two')).body.response).toBe('x');
  });

  test('wrong passwords on a per-session route are still counted per client', async () => {
    const gw = await gatewayFor({ call_limit: '2 per minute' });
    const wrong = { authorization: `Basic ${Buffer.from('admin:guess').toString('base64')}` };
    const guess = (session: string) => gw.request('POST', '/services/a/call', { body: { tool: 'echo', session_id: session }, headers: wrong });
    expect((await guess('g1')).status).toBe(401);
    expect((await guess('g2')).status).toBe(401);
    expect((await guess('g3')).status).toBe(429);
  });

  test('wrong passwords are counted too: the limit runs before authentication', async () => {
    const gw = await gatewayFor({ default_limits: '2 per minute' });
    const wrong = { authorization: `Basic ${Buffer.from('admin:guess').toString('base64')}` };
    expect((await gw.request('GET', '/sessions', { headers: wrong })).status).toBe(401);
    expect((await gw.request('GET', '/sessions', { headers: wrong })).status).toBe(401);
    expect((await gw.request('GET', '/sessions')).status).toBe(429);
  });

  test('60 requests to /health in a row are all 200 under the documented default limits', async () => {
    const gw = await gatewayFor({});
    for (let n = 0; n < 60; n += 1) {
      const response = await gw.request('GET', '/health', { headers: { authorization: '' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ratelimit-limit')).toBeNull();
    }
  });

  test('two gateways on one Redis share their counters', async () => {
    const db = 3;
    const storage_uri = `redis://127.0.0.1:6379/${db}`;
    const clientIp = `198.51.100.${Math.floor(Math.random() * 200) + 1}-${randomUUID()}`;
    const redis = new Redis({ host: '127.0.0.1', port: 6379, db });
    onTestFinished(async () => {
      const keys = await redis.keys(`*${clientIp}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });
    const one = await gatewayFor({ storage_uri, call_limit: '3 per minute' }, { trust_proxy: true });
    const two = await gatewayFor({ storage_uri, call_limit: '3 per minute' }, { trust_proxy: true });
    const headers = { 'x-forwarded-for': clientIp };
    expect((await echo(one, 'a', headers)).status).toBe(200);
    expect((await echo(two, 'a', headers)).status).toBe(200);
    expect((await echo(one, 'b', headers)).status).toBe(200);
    expect((await echo(two, 'b', headers)).status).toBe(429);
  });
});

test('over swaig.limit a SWAIG function call still gets a 200 sentence the model can say (§9)', async () => {
  const gw = await startTestGateway({ services: { a: fixtureService() }, rate_limiting: { enabled: true }, swaig: { limit: '1 per minute' } });
  onTestFinished(() => gw.close());
  const body = { function: 'mcp_a_echo', argument: { parsed: [{ text: 'hi' }] }, call_id: 'c1' };
  expect((await gw.request('POST', '/swaig', { body })).body).toEqual({ response: 'hi' });
  const refused = await gw.request('POST', '/swaig', { body });
  expect(refused.status).toBe(200);
  expect(refused.body.response).toMatch(/too many requests/i);
  expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
});
