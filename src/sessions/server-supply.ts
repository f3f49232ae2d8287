import type { Logger } from 'pino';
import type { ServiceConfig } from '../config/types.js';
import type { SessionServer, StartServer } from '../upstream/launcher.js';
import { usesSessionId } from '../upstream/placeholders.js';
import type { SessionStartCause } from './events.js';

export interface ServerSupplyDeps {
  startServer: StartServer;
  logger: Logger;
  /** Whether one more process for `service` stays within the session limits (warm ones count too). */
  hasRoom: (service: string) => boolean;
}

/** A warm start that failed is not retried before this, doubling up to the maximum. */
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;

/**
 * Where a new session's server comes from (SPEC §5, issue 6): a pre-started warm one when the
 * service keeps a `warm_pool`, the single shared one for `session_mode: "shared"`, else a fresh
 * start. Warm servers are never used before they are handed out, are handed to one session only,
 * count within the session limits, and are refilled in the background.
 */
export class ServerSupply {
  private readonly warm = new Map<string, SessionServer[]>();
  private readonly warming = new Map<string, number>();
  /** Sessions waiting for a warm server that is still starting (handing it over beats a second start). */
  private readonly waiting = new Map<string, Array<(server: SessionServer | undefined) => void>>();
  private readonly backoff = new Map<string, { delayMs: number; isWaiting: boolean; retry: NodeJS.Timeout }>();
  private readonly shared = new Map<string, Promise<SessionServer>>();
  private readonly disposing = new Set<Promise<void>>();
  /** Warm starts in flight: drain waits for them, since each ends in a process to dispose. */
  private readonly pendingStarts = new Set<Promise<unknown>>();
  private isDraining = false;
  /** Definitions replaced or removed by a reload: their warm starts still in flight are not kept. */
  private readonly retired = new WeakSet<ServiceConfig>();

  constructor(private readonly deps: ServerSupplyDeps) {}

  /** A server for a new session of `service`, and where it came from. The caller owns it (and disposes it) from here on. */
  async take(service: ServiceConfig, sessionId: string): Promise<{ server: SessionServer; cause: SessionStartCause }> {
    if (service.session_mode === 'shared') return { server: await this.sharedServer(service), cause: 'shared' };
    if (usesSessionId(service)) return { server: await this.deps.startServer(service, sessionId), cause: 'cold' };
    // The caller refills once the new session is counted, so the pool never overshoots the limits.
    const ready = this.warm.get(service.name)?.shift();
    if (ready) {
      // Served a session: the service's warm starts are healthy again.
      clearTimeout(this.backoff.get(service.name)?.retry);
      this.backoff.delete(service.name);
      return { server: ready, cause: 'warm' };
    }
    const queue = this.waiting.get(service.name) ?? [];
    if ((this.warming.get(service.name) ?? 0) > queue.length) {
      this.waiting.set(service.name, queue);
      const handedOver = await new Promise<SessionServer | undefined>((resolve) => queue.push(resolve));
      if (handedOver) return { server: handedOver, cause: 'warm' };
    }
    return { server: await this.deps.startServer(service, sessionId), cause: 'cold' };
  }

  /** Keeps an already started, unused server warm (the catalogue's start-up server); false if not wanted. */
  offer(service: ServiceConfig, server: SessionServer): boolean {
    if (this.isDraining || service.session_mode === 'shared' || usesSessionId(service) || this.pooled(service.name) >= service.warm_pool) return false;
    if (!this.deps.hasRoom(service.name) || !server.upstream.isAlive) return false;
    this.keepWarm(service, server);
    return true;
  }

  /** Starts warm servers in the background until the pool is full or the limits say stop. */
  refill(service: ServiceConfig): void {
    if (this.isDraining || service.session_mode === 'shared' || usesSessionId(service)) return;
    if (this.backoff.get(service.name)?.isWaiting) return;
    while (this.pooled(service.name) < service.warm_pool && this.deps.hasRoom(service.name)) {
      this.warming.set(service.name, (this.warming.get(service.name) ?? 0) + 1);
      // Counted down before anyone is handed the server, so no one queues for a start already spoken for.
      const settle = (): void => void this.warming.set(service.name, (this.warming.get(service.name) ?? 1) - 1);
      const started = this.startWarm(service);
      this.pendingStarts.add(started);
      void started.finally(() => this.pendingStarts.delete(started)).catch(() => {});
      void started.then(
        (server) => {
          settle();
          const waiter = this.waiting.get(service.name)?.shift();
          if (this.retired.has(service)) {
            this.dispose(server);
            waiter?.(undefined);
          } else if (waiter) waiter(server);
          else if (this.isDraining) this.dispose(server);
          else this.keepWarm(service, server);
        },
        (error: unknown) => {
          settle();
          this.waiting.get(service.name)?.shift()?.(undefined);
          this.backOff(service, error);
        },
      );
    }
  }

  /** Warm servers of `service`, ready or starting. */
  pooled(service: string): number {
    return (this.warm.get(service)?.length ?? 0) + (this.warming.get(service) ?? 0);
  }

  pooledTotal(): number {
    let total = 0;
    for (const service of new Set([...this.warm.keys(), ...this.warming.keys()])) total += this.pooled(service);
    return total;
  }

  /**
   * Stops supplying servers of this definition of a service (a reload replaced or removed it):
   * warm servers end now; the shared server, still used by live sessions, is handed to the caller.
   */
  retire(service: ServiceConfig): Promise<SessionServer> | undefined {
    this.retired.add(service);
    clearTimeout(this.backoff.get(service.name)?.retry);
    this.backoff.delete(service.name);
    for (const server of this.warm.get(service.name)?.splice(0) ?? []) this.dispose(server);
    const shared = this.shared.get(service.name);
    this.shared.delete(service.name);
    return shared;
  }

  /** Ends every warm and shared server; resolves when their process trees are gone. */
  async drain(): Promise<void> {
    this.isDraining = true;
    for (const { retry } of this.backoff.values()) clearTimeout(retry);
    for (const servers of this.warm.values()) for (const server of servers.splice(0)) this.dispose(server);
    for (const pending of this.shared.values()) void pending.then((server) => this.dispose(server), () => {});
    this.shared.clear();
    await Promise.allSettled(this.pendingStarts);
    while (this.disposing.size > 0) await Promise.allSettled(this.disposing);
  }

  /**
   * A warm server has answered one request before anyone gets it: a 2026-07-28 server connects
   * with zero round trips and would otherwise still be loading when its first call arrives
   * (measured: 40 ms for the demo server's first call, against 3 ms once it has answered).
   */
  private async startWarm(service: ServiceConfig): Promise<SessionServer> {
    const server = await this.deps.startServer(service, 'warm');
    try {
      await server.upstream.listTools(service.start_timeout * 1000);
      return server;
    } catch (error) {
      this.dispose(server);
      throw error;
    }
  }

  /** The next warm start of `service` waits, twice as long after each failure in a row. */
  private backOff(service: ServiceConfig, error: unknown): void {
    const previous = this.backoff.get(service.name);
    const delayMs = Math.min((previous?.delayMs ?? FIRST_BACKOFF_MS / 2) * 2, MAX_BACKOFF_MS);
    clearTimeout(previous?.retry);
    // The timer alone ends the wait (one clock, so it cannot fire "early" against another), and
    // the pool is topped up then even if no session comes by to ask.
    const entry = { delayMs, isWaiting: true, retry: setTimeout(() => {
      entry.isWaiting = false;
      this.refill(service);
    }, delayMs).unref() };
    this.backoff.set(service.name, entry);
    this.deps.logger.warn({ service: service.name, err: (error as Error).message, retryInMs: delayMs }, 'warm server failed');
  }

  private keepWarm(service: ServiceConfig, server: SessionServer): void {
    const list = this.warm.get(service.name) ?? [];
    this.warm.set(service.name, list);
    list.push(server);
    // A warm server that dies while waiting is dropped and replaced.
    void server.upstream.ended.then(() => {
      const index = list.indexOf(server);
      if (index === -1) return;
      list.splice(index, 1);
      this.dispose(server);
      // Dying unused counts as a failed start: a server that keeps exiting is not respawned in a loop.
      this.backOff(service, new Error('warm server exited before it was used'));
      this.refill(service);
    });
  }

  /**
   * One process for every session of a stateless service. Sessions get a handle whose dispose is
   * a no-op; the process is replaced when it dies and ended at drain.
   */
  private async sharedServer(service: ServiceConfig): Promise<SessionServer> {
    let pending = this.shared.get(service.name);
    if (!pending) {
      pending = this.deps.startServer(service, 'shared');
      this.shared.set(service.name, pending);
      const forget = (): void => {
        if (this.shared.get(service.name) === pending) this.shared.delete(service.name);
      };
      pending.then((server) => server.upstream.ended.then(() => {
        forget();
        this.dispose(server);
      }), forget);
    }
    const server = await pending;
    return { upstream: server.upstream, dispose: async () => {} };
  }

  private dispose(server: SessionServer): void {
    const disposal = server.dispose().catch((error: unknown) => this.deps.logger.error({ err: error }, 'server cleanup failed'));
    this.disposing.add(disposal);
    void disposal.finally(() => this.disposing.delete(disposal));
  }
}
