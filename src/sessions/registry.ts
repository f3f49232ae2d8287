import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Config, ServiceConfig } from '../config/types.js';
import { GatewayError } from '../errors.js';
import type { SessionServer, StartServer } from '../upstream/launcher.js';
import type { Upstream } from '../upstream/mcp-client.js';
import { NO_EVENTS, type GatewayEvents } from './events.js';
import { ServerSupply } from './server-supply.js';
import { Session } from './session.js';

export interface SessionRegistryDeps {
  config: Pick<Config, 'services' | 'session'>;
  startServer: StartServer;
  now: () => number;
  logger: Logger;
  events?: GatewayEvents;
}

export interface AcquireOptions {
  /** Idle timeout in seconds for a session this call creates. */
  idleTimeoutSec?: number;
  metadata?: Record<string, unknown>;
}

/** `superseded`: another gateway instance owns the session id now (SPEC §12); `removed`: a reload dropped the service. */
type CloseReason = 'deleted' | 'idle' | 'crashed' | 'shutdown' | 'hangup' | 'superseded' | 'removed';

/**
 * All live sessions, keyed by (session id, service). Starts are single-flight and limits are
 * checked before anything is spawned; closing never blocks other sessions (SPEC §5).
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();
  private readonly starting = new Map<string, Promise<Session>>();
  /** Starts whose session id was closed (DELETE, hangup) before they finished: they close on arrival. */
  private readonly cancelledStarts = new Set<string>();
  /** Sessions per server: one exit listener per process, also for a shared server used by many. */
  private readonly byUpstream = new Map<Upstream, Set<Session>>();
  private readonly disposing = new Set<Promise<void>>();
  private isShuttingDown = false;
  private readonly supply: ServerSupply;
  /** Sessions running a service definition that a reload has since replaced. */
  private readonly outdated = new WeakSet<Session>();
  /** Shared servers of replaced definitions: they end with the last session on them. */
  private readonly retiredShared = new Map<Upstream, SessionServer>();

  constructor(private readonly deps: SessionRegistryDeps) {
    this.supply = new ServerSupply({
      startServer: deps.startServer,
      logger: deps.logger,
      hasRoom: (service) => this.hasRoomForWarm(service),
    });
  }

  /** Keeps an unused, started server (the catalogue's) warm for the next session; false if not wanted. */
  offerWarm(serviceName: string, server: SessionServer): boolean {
    const service = this.deps.config.services[serviceName];
    return service !== undefined && this.supply.offer(service, server);
  }

  /** Fills the service's warm pool in the background. */
  warmUp(serviceName: string): void {
    const service = this.deps.config.services[serviceName];
    if (service?.enabled) this.supply.refill(service);
  }

  /**
   * The open, unexpired session for (id, service), or undefined: a warm call's lookup without a
   * promise. The call itself moves the idle clock when the server answers it (tool-calls.ts): a
   * call that only times out must not keep a session alive for ever.
   */
  live(serviceName: string, sessionId: string): Session | undefined {
    const existing = this.sessions.get(sessionKey(sessionId, serviceName));
    return existing !== undefined && !existing.isExpired(this.deps.now()) ? existing : undefined;
  }

  /** The live session for (id, service), started by this call if there is none (`created`). */
  async acquire(serviceName: string, sessionId: string, options: AcquireOptions = {}): Promise<{ session: Session; created: boolean }> {
    const service = enabledService(this.deps.config, serviceName);
    const key = sessionKey(sessionId, serviceName);
    const existing = this.sessions.get(key);
    if (existing) {
      if (!existing.isExpired(this.deps.now())) return { session: existing, created: false };
      this.close(existing, 'idle');
    }
    const pending = this.starting.get(key);
    if (pending) return { session: await pending, created: false };

    this.checkLimits(serviceName);
    const start = this.start(service, sessionId, key, options).finally(() => this.starting.delete(key));
    this.starting.set(key, start);
    return { session: await start, created: true };
  }

  /** Any live session of a service's current definition (used to refresh its tool list without spawning). */
  anyOf(serviceName: string): Session | undefined {
    for (const session of this.sessions.values()) {
      if (session.service === serviceName && session.upstream.isAlive && !this.outdated.has(session)) return session;
    }
    return undefined;
  }

  /**
   * A reload replaced (`keepSessions`) or removed this definition of a service (SPEC §15): no new
   * session gets one of its servers; live sessions keep theirs until they end, or close now when
   * the service is gone.
   */
  retire(service: ServiceConfig, keepSessions: boolean): void {
    const shared = this.supply.retire(service);
    for (const session of this.sessions.values()) {
      if (session.service !== service.name) continue;
      if (keepSessions) this.outdated.add(session);
      else this.close(session, 'removed');
    }
    if (!keepSessions) {
      for (const key of this.starting.keys()) if (key.endsWith(`\0${service.name}`)) this.cancelledStarts.add(key);
    }
    void shared?.then((server) => {
      this.retiredShared.set(server.upstream, server);
      this.endRetiredWhenUnused(server.upstream);
    }, () => {});
  }

  list(): Session[] {
    return [...this.sessions.values()];
  }

  /**
   * Closes every service of a session id without waiting for the processes, including sessions
   * still starting (a caller who hangs up during the first call); false when there was none.
   */
  closeSessionId(sessionId: string, reason: CloseReason = 'deleted'): boolean {
    let found = false;
    for (const session of this.sessions.values()) {
      if (session.id === sessionId) {
        found = true;
        this.close(session, reason);
      }
    }
    for (const key of this.starting.keys()) {
      if (key.startsWith(`${sessionId}\0`)) {
        found = true;
        this.cancelledStarts.add(key);
      }
    }
    return found;
  }

  /** Closes sessions idle past their timeout; the sweeper calls this every `cleanup_interval`. */
  sweep(): number {
    const now = this.deps.now();
    let closed = 0;
    for (const session of this.sessions.values()) {
      if (session.isExpired(now)) {
        this.close(session, 'idle');
        closed += 1;
      }
    }
    return closed;
  }

  /**
   * Refuses new sessions, closes all, and resolves when every process tree and directory is gone.
   * Starts in progress get `startWaitMs` to finish (a server that never answers its handshake
   * must not hold shutdown for its whole start timeout); the caller kills what is left.
   */
  async closeAll(startWaitMs: number): Promise<void> {
    this.isShuttingDown = true;
    const bound = new AbortController();
    await Promise.race([
      Promise.allSettled(this.starting.values()),
      delay(startWaitMs, undefined, { signal: bound.signal }).catch(() => {}),
    ]);
    bound.abort();
    for (const session of this.sessions.values()) this.close(session, 'shutdown');
    await Promise.allSettled([...this.disposing, this.supply.drain()]);
  }

  countFor(serviceName: string): number {
    let count = 0;
    for (const session of this.sessions.values()) if (session.service === serviceName) count += 1;
    for (const key of this.starting.keys()) if (key.endsWith(`\0${serviceName}`)) count += 1;
    return count;
  }

  /** Live sessions per service. */
  countsByService(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const session of this.sessions.values()) counts.set(session.service, (counts.get(session.service) ?? 0) + 1);
    return counts;
  }

  get size(): number {
    return this.sessions.size + this.starting.size;
  }

  close(session: Session, reason: CloseReason): void {
    if (session.isClosed) return;
    session.isClosed = true;
    const key = sessionKey(session.id, session.service);
    if (this.sessions.get(key) === session) this.sessions.delete(key);
    this.byUpstream.get(session.upstream)?.delete(session);
    this.endRetiredWhenUnused(session.upstream);
    this.deps.logger.info(
      { event: 'session_closed', sessionId: session.id, service: session.service, reason, calls: session.calls },
      'session closed',
    );
    const disposal = session.server.dispose().catch((error: unknown) => {
      this.deps.logger.error({ err: error, sessionId: session.id, service: session.service }, 'session cleanup failed');
    });
    this.disposing.add(disposal);
    void disposal.finally(() => this.disposing.delete(disposal));
    // The session's room may let the warm pool refill.
    this.warmUp(session.service);
  }

  private async start(service: ServiceConfig, sessionId: string, key: string, options: AcquireOptions): Promise<Session> {
    const { server, cause } = await this.supply.take(service, sessionId);
    const idleTimeoutSec = options.idleTimeoutSec ?? this.deps.config.session.default_timeout;
    const session = new Session(sessionId, service.name, server, idleTimeoutSec * 1000, options.metadata ?? {}, this.deps.now());
    if (this.isShuttingDown || this.cancelledStarts.delete(key)) {
      this.close(session, this.isShuttingDown ? 'shutdown' : 'deleted');
      throw this.isShuttingDown
        ? new GatewayError('SHUTTING_DOWN', 'Gateway is shutting down')
        : new GatewayError('SERVER_EXITED', `MCP server for '${service.name}' exited (session ${sessionId} was closed while it started)`);
    }
    this.sessions.set(key, session);
    this.watchExit(session);
    (this.deps.events ?? NO_EVENTS).sessionStarted(service.name, cause);
    this.deps.logger.info({ sessionId, service: service.name, pid: server.upstream.pid, era: server.upstream.era }, 'session started');
    return session;
  }

  /** A server that exits closes every session on it at once: their calls in flight have already failed (SPEC §5). */
  private watchExit(session: Session): void {
    const { upstream } = session;
    let sessions = this.byUpstream.get(upstream);
    if (!sessions) {
      const onUpstream = new Set<Session>();
      sessions = onUpstream;
      this.byUpstream.set(upstream, onUpstream);
      void upstream.ended.then((exit) => {
        this.byUpstream.delete(upstream);
        for (const crashed of onUpstream) {
          this.deps.logger.warn({ sessionId: crashed.id, service: crashed.service, exit, stderr: upstream.stderrTail() }, 'mcp server exited');
          this.close(crashed, 'crashed');
        }
      });
    }
    sessions.add(session);
  }


  private endRetiredWhenUnused(upstream: Upstream): void {
    const server = this.retiredShared.get(upstream);
    if (!server || (this.byUpstream.get(upstream)?.size ?? 0) > 0) return;
    this.retiredShared.delete(upstream);
    this.track(server.dispose());
  }

  private track(disposal: Promise<void>): void {
    const settled = disposal.catch((error: unknown) => this.deps.logger.error({ err: error }, 'server cleanup failed'));
    this.disposing.add(settled);
    void settled.finally(() => this.disposing.delete(settled));
  }

  /** Warm servers count within the limits (issue 6): they are processes waiting to become sessions. */
  private hasRoomForWarm(serviceName: string): boolean {
    if (this.isShuttingDown) return false;
    const { max_sessions_per_service: perService, max_total_sessions: total } = this.deps.config.session;
    return this.countFor(serviceName) + this.supply.pooled(serviceName) < perService && this.size + this.supply.pooledTotal() < total;
  }

  private checkLimits(serviceName: string): void {
    if (this.isShuttingDown) throw new GatewayError('SHUTTING_DOWN', 'Gateway is shutting down');
    const { max_sessions_per_service: perService, max_total_sessions: total } = this.deps.config.session;
    if (this.countFor(serviceName) >= perService) {
      throw new GatewayError('SESSION_LIMIT', `Max sessions limit reached for service ${serviceName}`);
    }
    if (this.size >= total) throw new GatewayError('SESSION_LIMIT', `Maximum session limit (${total}) reached`);
  }
}

/** The configured, enabled service called `name`, or UNKNOWN_SERVICE (SPEC §4.1). */
export function enabledService(config: Pick<Config, 'services'>, name: string): ServiceConfig {
  const service = config.services[name];
  if (!service?.enabled) throw new GatewayError('UNKNOWN_SERVICE', `Unknown service: ${name}`);
  return service;
}

function sessionKey(sessionId: string, service: string): string {
  return `${sessionId}\0${service}`;
}
