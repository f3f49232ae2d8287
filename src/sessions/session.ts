import type { SessionServer } from '../upstream/launcher.js';
import type { Upstream } from '../upstream/mcp-client.js';

/** One (session id, service) pair: one MCP server instance for one conversation (SPEC §4.2). */
export class Session {
  readonly createdAt: number;
  lastAccessed: number;
  calls = 0;
  /** Calls running right now: a session is never idle while one runs, however long it takes. */
  inFlight = 0;
  isClosed = false;

  constructor(
    readonly id: string,
    readonly service: string,
    readonly server: SessionServer,
    readonly idleTimeoutMs: number,
    readonly metadata: Record<string, unknown>,
    now: number,
  ) {
    this.createdAt = now;
    this.lastAccessed = now;
  }

  get upstream(): Upstream {
    return this.server.upstream;
  }

  isExpired(now: number): boolean {
    return this.inFlight === 0 && now - this.lastAccessed >= this.idleTimeoutMs;
  }
}
