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
    // Loaded only when configured: ioredis and its limiter cost memory a memory:// gateway never uses.
    const { createRedisStore } = await import('./rate-limit-redis.js');
    return createRedisStore({ ...opts, storageUri: opts.storageUri.replace(/^[a-z]+:/i, (scheme) => scheme.toLowerCase()) });
  }
  // Only the scheme: the rest of the URI may carry a password.
  throw new Error(`unsupported rate limit storage_uri scheme '${opts.storageUri.split(':', 1)[0]}'`);
}

/**
 * Per-process counters driven by `now`, so tests move the clock instead of sleeping (STYLE §2.5);
 * rate-limiter-flexible's RateLimiterMemory reads Date.now and expires keys with real timers.
 */
export function createMemoryStore(now: () => number): WindowStore {
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
