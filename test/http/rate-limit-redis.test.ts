import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { describe, expect, onTestFinished, test } from 'vitest';
import { parseLimits } from '../../src/config/limits.js';
import { createRateLimiter, registerRateLimit } from '../../src/http/rate-limit.js';
import type { RateLimiter } from '../../src/http/rate-limit.js';
import { freePort, startRedis, stopRedis } from '../helpers/redis-server.js';

/** The shared Redis CI keeps running (issue acceptance); tests stay inside their own key prefix. */
const SHARED_REDIS = 'redis://127.0.0.1:6379';
const LIMITS = parseLimits('3 per minute');
const FALLBACK_MSG = 'rate limit storage unreachable, using in-memory counters';
const BACK_MSG = 'rate limit storage back on redis';

interface LogLine {
  level: number;
  msg: string;
}

/** A pino logger writing into an array, plus a way to await a message instead of polling for it. */
function captureLogs(): { logger: pino.Logger; lines: LogLine[]; count: (msg: string) => number; next: (msg: string) => Promise<void> } {
  const lines: LogLine[] = [];
  const written = new EventEmitter();
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const line = JSON.parse(chunk.toString()) as LogLine;
      lines.push(line);
      written.emit('line', line);
      callback();
    },
  });
  const count = (msg: string): number => lines.filter((l) => l.msg === msg).length;
  const next = async (msg: string): Promise<void> => {
    if (count(msg) > 0) return;
    await new Promise<void>((resolve) => {
      const onLine = (line: LogLine): void => {
        if (line.msg !== msg) return;
        written.off('line', onLine);
        resolve();
      };
      written.on('line', onLine);
    });
  };
  return { logger: pino({ level: 'info' }, stream), lines, count, next };
}

/** One gateway instance as far as limiting goes: its own limiter and app on a given storage. */
async function instance(storageUri: string, keyPrefix: string): Promise<{ app: FastifyInstance; limiter: RateLimiter; logs: ReturnType<typeof captureLogs> }> {
  const logs = captureLogs();
  const limiter = await createRateLimiter({ storageUri, keyPrefix, logger: logs.logger });
  const app = Fastify();
  registerRateLimit(app, { limiter, route: () => ({ bucket: 'call', limits: LIMITS }), clientKey: () => '10.0.0.1' });
  app.get('/call', async () => ({ ok: true }));
  onTestFinished(async () => {
    await app.close();
    await limiter.close();
  });
  await app.ready();
  return { app, limiter, logs };
}

async function statuses(sequence: FastifyInstance[]): Promise<number[]> {
  const seen = [];
  for (const app of sequence) seen.push((await app.inject({ method: 'GET', url: '/call' })).statusCode);
  return seen;
}

/** Removes every key a test wrote under its prefix. */
async function deleteKeys(redisUri: string, keyPrefix: string): Promise<void> {
  const client = new Redis(redisUri);
  try {
    const keys = await client.keys(`${keyPrefix}:*`);
    if (keys.length > 0) await client.del(...keys);
  } finally {
    client.disconnect();
  }
}


describe('rate limiting on Redis (SPEC §8)', () => {
  test('two instances on one Redis share counters under prefix:bucket:limit:client keys (§8)', async () => {
    const keyPrefix = `test-rl-${randomUUID()}`;
    onTestFinished(() => deleteKeys(SHARED_REDIS, keyPrefix));
    const a = await instance(SHARED_REDIS, keyPrefix);
    const b = await instance(SHARED_REDIS, keyPrefix);

    expect(await statuses([a.app, b.app, a.app, b.app])).toEqual([200, 200, 200, 429]);

    const check = new Redis(SHARED_REDIS);
    onTestFinished(() => check.disconnect());
    expect(await check.keys(`${keyPrefix}:*`)).toEqual([`${keyPrefix}:call:3/1minute:10.0.0.1`]);
    expect(a.logs.count(FALLBACK_MSG) + b.logs.count(FALLBACK_MSG)).toBe(0);
  });

  test('Redis going away: both instances keep answering from memory, warn once, and share again when it is back (§8)', async () => {
    const port = await freePort();
    const password = randomUUID();
    // Password and db index in the URI, as storage_uri allows (§8).
    const redisUri = `redis://:${password}@127.0.0.1:${port}/2`;
    const keyPrefix = `test-rl-${randomUUID()}`;
    let redis = await startRedis(port, password);
    onTestFinished(() => stopRedis(redis));
    const a = await instance(redisUri, keyPrefix);
    const b = await instance(redisUri, keyPrefix);
    expect(await statuses([a.app, b.app, a.app, b.app])).toEqual([200, 200, 200, 429]);

    await stopRedis(redis);
    // On Redis this client is over the limit; each instance now counts alone, from zero.
    expect(await statuses([a.app, a.app, a.app, a.app])).toEqual([200, 200, 200, 429]);
    expect(await statuses([b.app, b.app])).toEqual([200, 200]);
    for (const { logs } of [a, b]) {
      expect(logs.count(FALLBACK_MSG)).toBe(1);
      expect(logs.lines.find((l) => l.msg === FALLBACK_MSG)?.level).toBe(40);
    }

    redis = await startRedis(port, password);
    onTestFinished(() => stopRedis(redis));
    await Promise.all([a.logs.next(BACK_MSG), b.logs.next(BACK_MSG)]);
    // The new Redis starts empty: one shared count again, not two per-instance ones.
    expect(await statuses([a.app, b.app, a.app, b.app])).toEqual([200, 200, 200, 429]);
    for (const { logs } of [a, b]) {
      expect(logs.count(FALLBACK_MSG)).toBe(1);
      expect(logs.count(BACK_MSG)).toBe(1);
      expect(JSON.stringify(logs.lines)).not.toContain(password);
    }
    const check = new Redis(redisUri);
    onTestFinished(() => check.disconnect());
    expect(await check.keys(`${keyPrefix}:*`)).toEqual([`${keyPrefix}:call:3/1minute:10.0.0.1`]);
  });

  test('Redis unreachable at startup: the limiter still starts and limits from memory (§8)', async () => {
    const { app, logs } = await instance(`redis://127.0.0.1:${await freePort()}`, `test-rl-${randomUUID()}`);

    expect(await statuses([app, app, app, app])).toEqual([200, 200, 200, 429]);
    expect(logs.count(FALLBACK_MSG)).toBe(1);
  });
});
