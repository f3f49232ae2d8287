import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { RateLimit } from '../config/types.js';
import { createWindowStore } from './rate-limit-store.js';

/** The outcome of one request against a route's limits (SPEC §8). */
export interface RateLimitVerdict {
  allowed: boolean;
  /** The breached limit, else the smallest-window one (what flask-limiter reports in its headers). */
  limit: RateLimit;
  remaining: number;
  /** When `limit`'s window ends, in epoch seconds (flask-limiter's X-RateLimit-Reset is an epoch). */
  resetEpochSec: number;
  /** Seconds until `limit`'s window ends when rejected; 0 when allowed. */
  retryAfterSec: number;
}

export interface RateLimiter {
  /** Counts one request of `clientKey` in `bucket` against `limits` (at least one). */
  hit(bucket: string, clientKey: string, limits: RateLimit[]): Promise<RateLimitVerdict>;
  close(): Promise<void>;
}

const DEFAULT_KEY_PREFIX = 'mcp-gateway';

export async function createRateLimiter(opts: {
  storageUri: string;
  /** Namespaces the counters, e.g. per deployment sharing one Redis. */
  keyPrefix?: string;
  logger: Logger;
  now?: () => number;
}): Promise<RateLimiter> {
  const now = opts.now ?? Date.now;
  const keyPrefix = opts.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const store = await createWindowStore({ storageUri: opts.storageUri, logger: opts.logger, now });

  return {
    async hit(bucket, clientKey, limits) {
      let reported: RateLimitVerdict | undefined;
      // flask-limiter checks the smallest window first and stops at the first breach, so a request
      // rejected by "2 per second" is not charged to "5 per minute" (SPEC §8).
      for (const limit of [...limits].sort((a, b) => a.windowMs - b.windowMs)) {
        const key = `${keyPrefix}:${bucket}:${limit.amount}/${limit.multiples}${limit.unit}:${clientKey}`;
        const window = await store.hit(key, limit);
        const t = now();
        const allowed = window.count <= limit.amount;
        const verdict: RateLimitVerdict = {
          allowed,
          limit,
          remaining: Math.max(limit.amount - window.count, 0),
          resetEpochSec: Math.ceil(window.resetAtMs / 1000),
          retryAfterSec: allowed ? 0 : Math.max(Math.ceil((window.resetAtMs - t) / 1000), 0),
        };
        if (!allowed) return verdict;
        reported ??= verdict;
      }
      if (reported === undefined) throw new Error('rate limiter hit without limits');
      return reported;
    },
    close: () => store.close(),
  };
}

/** X-RateLimit-* on every limited response, Retry-After (delta seconds) only on a 429 (SPEC §8). */
export function rateLimitHeaders(v: RateLimitVerdict): Record<string, string> {
  const headers: Record<string, string> = {
    'X-RateLimit-Limit': String(v.limit.amount),
    'X-RateLimit-Remaining': String(v.remaining),
    'X-RateLimit-Reset': String(v.resetEpochSec),
  };
  if (!v.allowed) headers['Retry-After'] = String(v.retryAfterSec);
  return headers;
}

export interface LimitedRoute {
  bucket: string;
  limits: RateLimit[];
  /**
   * Counts per (client, session) instead of per client: the session id read from the parsed body.
   * One agents-SDK host is one address for all its conversations (`call_limit_scope`).
   */
  sessionOf?: (body: unknown) => string | undefined;
}

/** Longest session id part of a counter key (valid ids are at most 128 characters). */
const MAX_SESSION_KEY = 128;

/** The counter key of one session of one client (`call_limit_scope: "session"`), for every face that counts calls. */
export function sessionLimitKey(clientKey: string, sessionId: string | undefined): string {
  return `${clientKey}\0${sessionId?.slice(0, MAX_SESSION_KEY) ?? ''}`;
}

/**
 * A global onRequest hook: registered on the root instance before the routes and before
 * authentication, it runs first, so failed logins are counted too (SPEC §8; a route-level auth
 * hook would run before it and leave 401 floods unlimited). A per-session route needs the body,
 * so an authenticated request to it is counted once the body is parsed (preHandler); one that
 * will fail authentication is still counted here, per client.
 */
export function registerRateLimit(
  app: FastifyInstance,
  opts: {
    limiter: RateLimiter;
    /** The route's bucket and limits; undefined or no limits = not limited (e.g. /health). */
    route: (request: FastifyRequest) => LimitedRoute | undefined;
    clientKey: (request: FastifyRequest) => string;
    /** Default: every request counts as authenticated (per-session routes are counted after parsing). */
    isAuthenticated?: (request: FastifyRequest) => boolean;
    /** A route may answer a refusal its own way (SWAIG speaks a 200 sentence); default 429 JSON. */
    refusal?: (request: FastifyRequest, verdict: RateLimitVerdict) => { status: number; body: unknown } | undefined;
  },
): void {
  /** Counts the request; a refused one is answered here (the hook returns the reply to stop the chain). */
  const check = async (request: FastifyRequest, reply: FastifyReply, route: LimitedRoute, key: string): Promise<FastifyReply | undefined> => {
    const verdict = await opts.limiter.hit(route.bucket, key, route.limits);
    reply.headers(rateLimitHeaders(verdict));
    if (verdict.allowed) return undefined;
    request.log.info({ bucket: route.bucket, limit: verdict.limit.text }, 'rate limit exceeded');
    const refusal = opts.refusal?.(request, verdict) ?? { status: 429, body: { error: `Rate limit exceeded: ${verdict.limit.text}` } };
    return reply.code(refusal.status).send(refusal.body);
  };
  app.addHook('onRequest', async (request, reply) => {
    const route = opts.route(request);
    if (route === undefined || route.limits.length === 0) return undefined;
    if (route.sessionOf !== undefined && (opts.isAuthenticated?.(request) ?? true)) return undefined;
    return check(request, reply, route, opts.clientKey(request));
  });
  app.addHook('preHandler', async (request, reply) => {
    const route = opts.route(request);
    if (route?.sessionOf === undefined || route.limits.length === 0) return undefined;
    return check(request, reply, route, sessionLimitKey(opts.clientKey(request), route.sessionOf(request.body)));
  });
}
