import { once } from 'node:events';
import { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from 'pino';
import type { RateLimit } from '../config/types.js';

/** One fixed window right after a hit on it. */
export interface WindowHit {
  /** Hits in the window including this one; rejected hits count too (flask-limiter INCR-then-compare, SPEC §8). */
  count: number;
  /** Epoch ms at which the window ends; it started at the key's first hit. */
  resetAtMs: number;
}

/** Counts hits per key in fixed windows that start at the key's first hit (SPEC §8). */
export interface WindowStore {
  hit(key: string, limit: RateLimit): Promise<WindowHit>;
  close(): Promise<void>;
}

/** Bounds how long Redis may hold a request up: the answer comes from memory instead (SPEC §8). */
const CONNECT_TIMEOUT_MS = 1_000;
const COMMAND_TIMEOUT_MS = 250;
/** Reconnect back-off cap: a dead Redis costs one attempt every 2 s, not a busy loop. */
const RECONNECT_MAX_DELAY_MS = 2_000;

/** `memory://` or `redis://` / `rediss://` with optional password and db, as flask-limiter's storage_uri. */
export async function createWindowStore(opts: {
  storageUri: string;
  logger: Logger;
  now: () => number;
}): Promise<WindowStore> {
  // Schemes are case-insensitive, as config/schema.ts accepts them.
  if (/^memory:\/\//i.test(opts.storageUri)) return createMemoryStore(opts.now);
  if (/^rediss?:\/\//i.test(opts.storageUri)) {
    // ioredis turns on TLS only for a lowercase `rediss:`; "REDISS://" would connect in clear.
    return createRedisStore({ ...opts, storageUri: opts.storageUri.replace(/^[a-z]+:/i, (scheme) => scheme.toLowerCase()) });
  }
  // Only the scheme: the rest of the URI may carry a password.
  throw new Error(`unsupported rate limit storage_uri scheme '${opts.storageUri.split(':', 1)[0]}'`);
}

/**
 * Per-process counters driven by `now`, so tests move the clock instead of sleeping (STYLE §2.5);
 * rate-limiter-flexible's RateLimiterMemory reads Date.now and expires keys with real timers.
 */
function createMemoryStore(now: () => number): WindowStore {
  // One map per window length: insertion order is then expiry order, so expired windows are
  // dropped from the front of the map, a few per hit, instead of by one timer per key.
  const windowsByLength = new Map<number, Map<string, WindowHit>>();
  return {
    async hit(key, limit) {
      const t = now();
      let windows = windowsByLength.get(limit.windowMs);
      if (windows === undefined) {
        windows = new Map();
        windowsByLength.set(limit.windowMs, windows);
      }
      for (const [oldKey, old] of windows) {
        if (old.resetAtMs > t) break;
        windows.delete(oldKey);
      }
      let window = windows.get(key);
      if (window === undefined) {
        window = { count: 0, resetAtMs: t + limit.windowMs };
        windows.set(key, window);
      }
      window.count += 1;
      return { count: window.count, resetAtMs: window.resetAtMs };
    },
    async close() {
      windowsByLength.clear();
    },
  };
}

/**
 * Counters shared by every gateway instance on one Redis, with per-instance memory counters
 * while Redis is unreachable (SPEC §8; flask-limiter's in-memory fallback).
 */
async function createRedisStore(opts: { storageUri: string; logger: Logger; now: () => number }): Promise<WindowStore> {
  const { logger, now } = opts;
  const client = new Redis(opts.storageUri, {
    // Without these a command issued while Redis is away waits in a queue, and so does the request.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 100, RECONNECT_MAX_DELAY_MS),
  });
  const redisAt = `${client.options.host}:${client.options.port}`;
  const fallback = createMemoryStore(now);
  let isOnFallback = false;

  const switchToFallback = (err: unknown): void => {
    if (isOnFallback) return;
    isOnFallback = true;
    logger.warn({ err, redis: redisAt }, 'rate limit storage unreachable, using in-memory counters');
  };
  const switchToRedis = (): void => {
    if (!isOnFallback) return;
    isOnFallback = false;
    logger.info({ redis: redisAt }, 'rate limit storage back on redis');
  };
  // ioredis reports every failed reconnect; without a listener it prints them to the console.
  client.on('error', (err: Error) => logger.debug({ err, redis: redisAt }, 'rate limit redis error'));
  client.on('ready', switchToRedis);

  // Wait for the first connection so the first requests do not report a fallback that never was;
  // an unreachable Redis at startup is not fatal, the gateway serves from memory (SPEC §8).
  await once(client, 'ready').catch(switchToFallback);

  // One rate-limiter-flexible limiter per limit, created on first use and kept.
  const limiters = new Map<string, RateLimiterRedis>();
  const limiterFor = (limit: RateLimit): RateLimiterRedis => {
    const id = `${limit.amount}/${limit.windowMs}`;
    let limiter = limiters.get(id);
    if (limiter === undefined) {
      limiter = new RateLimiterRedis({
        storeClient: client,
        rejectIfRedisNotReady: true,
        points: limit.amount,
        duration: limit.windowMs / 1000,
        // The caller's key already carries the gateway's prefix.
        keyPrefix: '',
      });
      limiters.set(id, limiter);
    }
    return limiter;
  };

  return {
    async hit(key, limit) {
      let res: RateLimiterRes;
      try {
        // A rejection carrying a RateLimiterRes is an over-limit answer from Redis, not a failure.
        res = await limiterFor(limit)
          .consume(key)
          .catch((reason: unknown) => {
            if (reason instanceof RateLimiterRes) return reason;
            throw reason;
          });
      } catch (err) {
        switchToFallback(err);
        return fallback.hit(key, limit);
      }
      switchToRedis();
      return { count: res.consumedPoints, resetAtMs: now() + res.msBeforeNext };
    },
    async close() {
      client.disconnect();
      await fallback.close();
    },
  };
}
