/**
 * One way to open Redis for everything the gateway keeps there (rate-limit counters, the cluster's
 * session directory): a Redis that is away or slow must answer a command quickly with an error,
 * never hold a request in a queue, so each caller can fall back to its own degraded mode.
 */
import { Redis } from 'ioredis';

export interface RedisBounds {
  connectTimeoutMs: number;
  /** How long one command may go unanswered before it fails. */
  commandTimeoutMs: number;
  /** Reconnect back-off cap: a dead Redis costs one attempt this often, not a busy loop. */
  reconnectMaxDelayMs: number;
}

export function openRedis(uri: string, bounds: RedisBounds): Redis {
  // ioredis turns on TLS only for a lowercase `rediss:`.
  return new Redis(uri.replace(/^[a-z]+:/i, (scheme) => scheme.toLowerCase()), {
    // Without these a command issued while Redis is away waits in a queue, and so does the request.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: bounds.connectTimeoutMs,
    commandTimeout: bounds.commandTimeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 100, bounds.reconnectMaxDelayMs),
  });
}
