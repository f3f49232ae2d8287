import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { describe, expect, onTestFinished, test } from 'vitest';
import { parseLimits } from '../../src/config/limits.js';
import type { RateLimit } from '../../src/config/types.js';
import { createRateLimiter, rateLimitHeaders, registerRateLimit } from '../../src/http/rate-limit.js';
import type { RateLimiter } from '../../src/http/rate-limit.js';

const T0 = 1_700_000_000_000;

/** A clock the test moves by hand: windows are checked without sleeping (STYLE §2.7). */
function manualClock(start = T0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

async function memoryLimiter(now: () => number): Promise<RateLimiter> {
  const limiter = await createRateLimiter({ storageUri: 'memory://', logger: pino({ level: 'silent' }), now });
  onTestFinished(() => limiter.close());
  return limiter;
}

/**
 * A bare app shaped like the gateway's routes: /a and /b share the "call" bucket as every
 * /services/<name>/call does, /health is never limited, and an auth hook added after the limiter
 * refuses requests without `x-password: ok`.
 */
async function buildApp(limiter: RateLimiter, table: Record<string, { bucket: string; limits: RateLimit[] }>): Promise<FastifyInstance> {
  const app = Fastify();
  registerRateLimit(app, {
    limiter,
    route: (request) => table[request.routeOptions.url ?? ''],
    clientKey: (request) => String(request.headers['x-client'] ?? request.ip),
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url !== '/health' && request.headers['x-password'] !== 'ok') {
      return reply.code(401).send({ error: 'Unauthorized' });
    }
  });
  for (const url of ['/a', '/b', '/other', '/health']) app.get(url, async () => ({ ok: true }));
  onTestFinished(() => app.close());
  await app.ready();
  return app;
}

const get = (app: FastifyInstance, url: string, client = '10.0.0.1', password = 'ok') =>
  app.inject({ method: 'GET', url, headers: { 'x-client': client, 'x-password': password } });

describe('rate limiting over HTTP (SPEC §8)', () => {
  test('the 4th call under "3 per minute" gets 429 naming the limit, with all four headers (§8)', async () => {
    const clock = manualClock();
    const app = await buildApp(await memoryLimiter(clock.now), { '/a': { bucket: 'call', limits: parseLimits('3 per minute') } });

    for (let i = 0; i < 3; i++) expect((await get(app, '/a')).statusCode).toBe(200);
    clock.advance(10_000);
    const res = await get(app, '/a');

    expect(res.statusCode).toBe(429);
    expect(res.json()).toEqual({ error: 'Rate limit exceeded: 3 per 1 minute' });
    expect(res.headers['x-ratelimit-limit']).toBe('3');
    expect(res.headers['x-ratelimit-remaining']).toBe('0');
    // The window started at the first hit (T0), not at this one.
    expect(res.headers['x-ratelimit-reset']).toBe(String((T0 + 60_000) / 1000));
    expect(res.headers['retry-after']).toBe('50');
  });

  test('limited successes carry X-RateLimit-* but no Retry-After; unlimited routes carry none (§8)', async () => {
    const app = await buildApp(await memoryLimiter(manualClock().now), {
      '/a': { bucket: 'call', limits: parseLimits('3 per minute') },
      '/other': { bucket: 'other', limits: [] },
    });

    const first = await get(app, '/a');
    const second = await get(app, '/a');
    expect(first.statusCode).toBe(200);
    expect(first.headers).toMatchObject({ 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '2', 'x-ratelimit-reset': String((T0 + 60_000) / 1000) });
    expect(first.headers['retry-after']).toBeUndefined();
    expect(second.headers['x-ratelimit-remaining']).toBe('1');

    for (const url of ['/other', '/health']) {
      const res = await get(app, url);
      expect(res.statusCode).toBe(200);
      expect(Object.keys(res.headers).filter((h) => h.startsWith('x-ratelimit') || h === 'retry-after')).toEqual([]);
    }
  });

  test('two routes mapped to one bucket share its count, another bucket counts apart (§8 call_limit)', async () => {
    const limits = parseLimits('3 per minute');
    const app = await buildApp(await memoryLimiter(manualClock().now), {
      '/a': { bucket: 'call', limits },
      '/b': { bucket: 'call', limits },
      '/other': { bucket: 'other', limits },
    });

    const statuses = [];
    for (const url of ['/a', '/b', '/a', '/b']) statuses.push((await get(app, url)).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await get(app, '/other')).headers['x-ratelimit-remaining']).toBe('2');
  });

  test('each client key has its own count (§8)', async () => {
    const app = await buildApp(await memoryLimiter(manualClock().now), { '/a': { bucket: 'call', limits: parseLimits('3 per minute') } });

    for (let i = 0; i < 4; i++) await get(app, '/a', '10.0.0.1');
    expect((await get(app, '/a', '10.0.0.1')).statusCode).toBe(429);
    const other = await get(app, '/a', '10.0.0.2');
    expect(other.statusCode).toBe(200);
    expect(other.headers['x-ratelimit-remaining']).toBe('2');
  });

  test('limits run before authentication: failed logins are counted and limited (§8)', async () => {
    const app = await buildApp(await memoryLimiter(manualClock().now), { '/a': { bucket: 'call', limits: parseLimits('3 per minute') } });

    const guesses = [];
    for (let i = 0; i < 4; i++) guesses.push(await get(app, '/a', '10.0.0.1', 'guess'));
    expect(guesses.map((r) => r.statusCode)).toEqual([401, 401, 401, 429]);
    expect(guesses.map((r) => r.headers['x-ratelimit-remaining'])).toEqual(['2', '1', '0', '0']);
    // Rejected hits count (flask-limiter), so the right password does not help inside the window.
    expect((await get(app, '/a')).statusCode).toBe(429);
  });

  test('"2 per second; 5 per minute": a hit refused by the second window is not charged to the minute (§8)', async () => {
    const clock = manualClock();
    const app = await buildApp(await memoryLimiter(clock.now), { '/a': { bucket: 'call', limits: parseLimits('5 per minute; 2 per second') } });

    const seen: string[] = [];
    const hit = async (): Promise<Awaited<ReturnType<typeof get>>> => {
      const res = await get(app, '/a');
      seen.push(`${res.statusCode} ${res.headers['x-ratelimit-limit']}/${res.headers['x-ratelimit-remaining']}`);
      return res;
    };
    await hit(); await hit(); await hit();
    clock.advance(1_000);
    await hit(); await hit(); await hit();
    clock.advance(1_000);
    await hit();
    const last = await hit();

    // Had the 3rd and 6th hits been charged to the minute, the 7th would be the minute's 7th hit and
    // refused. Successes report the smallest window; refusals the window that refused.
    expect(seen).toEqual(['200 2/1', '200 2/0', '429 2/0', '200 2/1', '200 2/0', '429 2/0', '200 2/1', '429 5/0']);
    expect(last.json()).toEqual({ error: 'Rate limit exceeded: 5 per 1 minute' });
    expect(last.headers['x-ratelimit-reset']).toBe(String((T0 + 60_000) / 1000));
    expect(last.headers['retry-after']).toBe('58');
  });

  test('a window ends one period after its first hit, and the next hit opens a fresh one (§8)', async () => {
    const clock = manualClock();
    const app = await buildApp(await memoryLimiter(clock.now), { '/a': { bucket: 'call', limits: parseLimits('3 per minute') } });

    for (let i = 0; i < 3; i++) await get(app, '/a');
    clock.advance(59_999);
    // Still the first window: rejected hits do not extend it, they only count.
    expect((await get(app, '/a')).statusCode).toBe(429);
    clock.advance(1);
    const fresh = await get(app, '/a');
    expect(fresh.statusCode).toBe(200);
    expect(fresh.headers['x-ratelimit-remaining']).toBe('2');
    expect(fresh.headers['x-ratelimit-reset']).toBe(String((T0 + 120_000) / 1000));
  });
});

describe('createRateLimiter (SPEC §8)', () => {
  test('windows of different limits and clients expire independently (§8)', async () => {
    const clock = manualClock();
    const limiter = await memoryLimiter(clock.now);
    const [perSecond] = parseLimits('1 per second');
    const [perMinute] = parseLimits('1 per minute');
    if (perSecond === undefined || perMinute === undefined) throw new Error('limits did not parse');

    await limiter.hit('x', 'c1', [perMinute]);
    clock.advance(30_000);
    await limiter.hit('x', 'c2', [perSecond]);
    clock.advance(1_000);
    // c2's one-second window is over; c1's minute window, older, is not.
    expect((await limiter.hit('x', 'c2', [perSecond])).allowed).toBe(true);
    expect((await limiter.hit('x', 'c1', [perMinute])).allowed).toBe(false);
  });

  test('an unknown storage scheme is refused without echoing the rest of the URI (§8)', async () => {
    await expect(createRateLimiter({ storageUri: 'memcached://user:secret@host:11211', logger: pino({ level: 'silent' }) }))
      .rejects.toThrow("unsupported rate limit storage_uri scheme 'memcached'");
  });
});

describe('rateLimitHeaders (SPEC §8)', () => {
  const [limit] = parseLimits('10 per 1 minute');
  test.each([
    { allowed: true, expected: { 'X-RateLimit-Limit': '10', 'X-RateLimit-Remaining': '4', 'X-RateLimit-Reset': '1700000060' }, why: 'success: no Retry-After' },
    { allowed: false, expected: { 'X-RateLimit-Limit': '10', 'X-RateLimit-Remaining': '4', 'X-RateLimit-Reset': '1700000060', 'Retry-After': '42' }, why: '429: Retry-After in seconds' },
  ])('$why', ({ allowed, expected }) => {
    if (limit === undefined) throw new Error('limit did not parse');
    expect(rateLimitHeaders({ allowed, limit, remaining: 4, resetEpochSec: 1_700_000_060, retryAfterSec: allowed ? 0 : 42 })).toEqual(expected);
  });
});
