import { once } from 'node:events';
import type { Logger } from 'pino';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimit } from '../config/types.js';
import { openRedis } from '../redis.js';
import { createMemoryStore, type WindowStore } from './rate-limit-store.js';

/** Bounds how long Redis may hold a request up: the answer comes from memory instead (SPEC §8). */
const CONNECT_TIMEOUT_MS = 1_000;
const COMMAND_TIMEOUT_MS = 250;
/** Reconnect back-off cap: a dead Redis costs one attempt every 2 s, not a busy loop. */
const RECONNECT_MAX_DELAY_MS = 2_000;
/** While Redis rests, one PING this often decides when requests may ask it again. */
const PROBE_INTERVAL_MS = 1_000;

/**
 * Counters shared by every gateway instance on one Redis, with per-instance memory counters
 * while Redis is unreachable (SPEC §8; flask-limiter's in-memory fallback).
 */
export async function createRedisStore(opts: { storageUri: string; logger: Logger; now: () => number }): Promise<WindowStore> {
  const { logger, now } = opts;
  const client = openRedis(opts.storageUri, {
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    reconnectMaxDelayMs: RECONNECT_MAX_DELAY_MS,
  });
  const redisAt = `${client.options.host}:${client.options.port}`;
  const fallback = createMemoryStore(now);
  let isOnFallback = false;
  // After a failure requests stop asking Redis until a background probe answers: a frozen Redis
  // (stopped, not down) would otherwise cost every request a command timeout per limit.
  let probe: NodeJS.Timeout | undefined;
  let isClosed = false;

  const probeLater = (): void => {
    if (isClosed) return;
    probe = setTimeout(() => {
      client.ping().then(switchToRedis, probeLater);
    }, PROBE_INTERVAL_MS);
    probe.unref();
  };
  const switchToFallback = (err: unknown): void => {
    if (isOnFallback) return;
    isOnFallback = true;
    logger.warn({ err, redis: redisAt }, 'rate limit storage unreachable, using in-memory counters');
    probeLater();
  };
  const switchToRedis = (): void => {
    if (!isOnFallback) return;
    isOnFallback = false;
    clearTimeout(probe);
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
      if (isOnFallback) return fallback.hit(key, limit);
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
      return { count: res.consumedPoints, resetAtMs: now() + res.msBeforeNext };
    },
    async close() {
      isClosed = true;
      clearTimeout(probe);
      client.disconnect();
      await fallback.close();
    },
  };
}
