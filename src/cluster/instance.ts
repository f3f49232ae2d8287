import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ClusterConfig } from '../config/types.js';
import type { SessionRegistry } from '../sessions/registry.js';
import type { Directory, Peer } from './directory.js';

/** Bounds the owner cache: ids of calls that ended stay until they are pushed out. */
const MAX_KNOWN_OWNERS = 10_000;

/** Where a session's requests run (SPEC §12). */
export type Location =
  /** Here (after a takeover from a dead owner, `wasTakenOver` says so until the id closes). */
  | { where: 'here' }
  /** On a peer: its owner, or (while this instance drains) the live instance chosen to start it. */
  | { where: 'peer'; peer: Peer };

export interface ClusterStatus {
  instance_id: string;
  redis: 'up' | 'down';
  peers: number;
  draining: boolean;
}

/**
 * This instance's membership of the cluster: its heartbeat, the session ids it owns, where other
 * ids live, degraded mode while Redis is away, and the drain. Knows sessions only through the
 * registry's public view; knows nothing of HTTP.
 */
export class ClusterInstance {
  /** Random per process start, never hostname:pid: two processes must never share one (scale-out.md P2). */
  static newId(): string {
    return randomBytes(8).toString('hex');
  }

  readonly id: string;
  private readonly owned = new Map<string, number>();
  /** Ids this instance took over from a dead owner and has not yet told a client about (REST: every new server). */
  private readonly takenOver = new Set<string>();
  /** Requests running here per session id: an id with a request in flight is live even before its server exists. */
  private readonly inFlight = new Map<string, number>();
  /**
   * Owners of ids that live elsewhere, as last resolved: a forwarded call then costs no Redis
   * round trip here (the owner checks its ownership anyway). A wrong guess costs a 421 and a fresh lookup.
   */
  private readonly knownOwners = new Map<string, Peer>();
  private peerList: Peer[] = [];
  private isDraining = false;
  private hasLeft = false;
  private isDegraded = false;
  private timer: NodeJS.Timeout | undefined;
  private beat: Promise<void> | undefined;
  private nextPeer = 0;

  constructor(
    private readonly deps: {
      id: string;
      config: ClusterConfig;
      directory: Directory;
      registry: Pick<SessionRegistry, 'list' | 'closeSessionId' | 'size'>;
      logger: Logger;
    },
  ) {
    this.id = deps.id;
    deps.directory.onReconnect(() => {
      if (!this.isDegraded) return;
      this.isDegraded = false;
      this.deps.logger.info({ instance: this.id }, 'cluster directory reachable again, re-publishing sessions');
      void this.heartbeat();
    });
  }

  get url(): string {
    return this.deps.config.instance_url;
  }

  /** After listen: an earlier process on this address is dead; publish, then beat every `heartbeat` seconds. */
  async start(): Promise<void> {
    try {
      await this.deps.directory.replacePredecessor(this.url);
    } catch (error) {
      this.degrade(error);
    }
    await this.heartbeat();
    this.timer = setInterval(() => void this.heartbeat(), this.deps.config.heartbeat * 1000);
    this.timer.unref();
    this.deps.logger.info({ instance: this.id, url: this.url }, 'cluster member started');
  }

  /**
   * Where the requests of `sessionId` run. `claim`: a request that may start a session (a tool
   * call); `lookup`: one that only reaches an existing one (DELETE, hangup). The seam every face
   * uses, the MCP face included. Never throws: without Redis the answer is "here".
   */
  async locate(sessionId: string, mode: 'claim' | 'lookup', options: { isFresh?: boolean } = {}): Promise<Location> {
    const known = options.isFresh ? undefined : this.knownOwner(sessionId);
    if (known) return { where: 'peer', peer: known };
    if (!this.deps.directory.isConnected) return this.locally(sessionId);
    // A stopping instance starts nothing: new ids go to a live peer (SPEC §12 drain).
    const placement = this.isDraining && mode === 'claim' ? this.placement() : undefined;
    let resolution;
    try {
      resolution = await this.deps.directory.resolve(sessionId, placement ? 'lookup' : mode);
    } catch (error) {
      this.degrade(error);
      return this.locally(sessionId);
    }
    if (resolution.kind === 'remote') this.remember(sessionId, resolution.owner);
    else this.knownOwners.delete(sessionId);
    switch (resolution.kind) {
      case 'mine':
        // Left the directory at the end of a drain: what still arrives is started by a live peer.
        if (this.hasLeft && placement) return placement;
        this.owned.set(sessionId, resolution.epoch);
        if (resolution.takenOverFrom !== undefined) {
          this.takenOver.add(sessionId);
          this.deps.logger.warn({ sessionId, previousOwner: resolution.takenOverFrom, epoch: resolution.epoch }, 'session taken over from a dead instance');
        }
        return { where: 'here' };
      case 'remote':
        // Fencing: another instance holds the id now (this one stalled past owner_timeout); its servers here are stale.
        if (this.owned.delete(sessionId)) this.deps.registry.closeSessionId(sessionId, 'superseded');
        return { where: 'peer', peer: resolution.owner };
      case 'none':
        return placement ?? { where: 'here' };
    }
  }

  private knownOwner(sessionId: string): Peer | undefined {
    const peer = this.knownOwners.get(sessionId);
    if (peer === undefined) return undefined;
    // Only while the owner still heartbeats; a dead owner's ids go back to the directory.
    if (this.peerList.some((live) => live.id === peer.id && !live.draining)) return peer;
    this.knownOwners.delete(sessionId);
    return undefined;
  }

  private remember(sessionId: string, peer: Peer): void {
    this.knownOwners.delete(sessionId);
    this.knownOwners.set(sessionId, peer);
    // Oldest first in a Map: drop the least recently resolved beyond the bound.
    if (this.knownOwners.size > MAX_KNOWN_OWNERS) this.knownOwners.delete(this.knownOwners.keys().next().value!);
  }

  /** Counts a request for `sessionId` running here; call the returned function when it is answered. */
  enter(sessionId: string): () => void {
    this.inFlight.set(sessionId, (this.inFlight.get(sessionId) ?? 0) + 1);
    return () => {
      const left = (this.inFlight.get(sessionId) ?? 1) - 1;
      if (left === 0) this.inFlight.delete(sessionId);
      else this.inFlight.set(sessionId, left);
    };
  }

  /** True once per taken-over id for faces that cannot say `session_created` (SWAIG). */
  tellTakeoverOnce(sessionId: string): boolean {
    return this.takenOver.delete(sessionId);
  }

  wasTakenOver(sessionId: string): boolean {
    return this.takenOver.has(sessionId);
  }

  peers(): Peer[] {
    return this.peerList.filter((peer) => peer.id !== this.id);
  }

  status(): ClusterStatus {
    return { instance_id: this.id, redis: this.isDegraded || !this.deps.directory.isConnected ? 'down' : 'up', peers: this.peers().length, draining: this.isDraining };
  }

  /**
   * SPEC §12 drain: new ids go elsewhere, this instance's sessions are served until they end or
   * `drain_timeout`; then it leaves the directory, keeping the keys of sessions still open so their
   * next call is taken over and reported as lost.
   */
  async drain(): Promise<void> {
    this.isDraining = true;
    await this.heartbeat();
    const deadline = Date.now() + this.deps.config.drain_timeout * 1000;
    while (Date.now() < deadline && (this.deps.registry.size > 0 || this.inFlight.size > 0)) {
      await delay(Math.min(this.deps.config.heartbeat * 1000, 250));
    }
    await this.leave();
  }

  /** Stops the heartbeat; leaves the directory if the drain did not. */
  async close(): Promise<void> {
    if (!this.hasLeft) await this.leave();
    this.deps.directory.close();
  }

  private async leave(): Promise<void> {
    clearInterval(this.timer);
    await this.beat;
    this.hasLeft = true;
    const live = this.liveIds();
    const released = [...this.owned.keys()].filter((id) => !live.has(id));
    try {
      await this.deps.directory.leave(this.url, released);
    } catch (error) {
      this.degrade(error);
    }
  }

  private heartbeat(): Promise<void> {
    // One beat at a time: a slow Redis must not pile them up.
    this.beat ??= this.beatOnce().finally(() => (this.beat = undefined));
    return this.beat;
  }

  private async beatOnce(): Promise<void> {
    const live = this.liveIds();
    const owned = [...this.owned].map(([sessionId, epoch]) => ({ sessionId, epoch, isLive: live.has(sessionId) }));
    let result;
    try {
      result = await this.deps.directory.heartbeat({ url: this.url, draining: this.isDraining }, owned);
    } catch (error) {
      this.degrade(error);
      return;
    }
    this.isDegraded = false;
    this.peerList = result.peers;
    for (const { sessionId, isLive } of owned) {
      if (!isLive) {
        this.owned.delete(sessionId);
        this.takenOver.delete(sessionId);
      }
    }
    for (const sessionId of result.lost) {
      this.owned.delete(sessionId);
      this.deps.logger.warn({ sessionId }, 'another instance owns this session now; closing it here');
      this.deps.registry.closeSessionId(sessionId, 'superseded');
    }
  }

  private liveIds(): Set<string> {
    const ids = new Set(this.inFlight.keys());
    for (const session of this.deps.registry.list()) ids.add(session.id);
    return ids;
  }

  /** Redis unreachable: serve here what lives here, start new ids here, say so once (SPEC §12). */
  private locally(sessionId: string): Location {
    // Epoch 0 loses to any epoch Redis handed out meanwhile: on reconnect the other owner keeps the id.
    if (!this.owned.has(sessionId)) this.owned.set(sessionId, 0);
    return { where: 'here' };
  }

  /** A live peer that is not draining, in turn; none: the id stays here (better than refusing a call). */
  private placement(): Location | undefined {
    const live = this.peers().filter((peer) => !peer.draining);
    if (live.length === 0) return undefined;
    return { where: 'peer', peer: live[this.nextPeer++ % live.length]! };
  }

  private degrade(error: unknown): void {
    if (this.isDegraded) return;
    this.isDegraded = true;
    this.deps.logger.warn({ err: error, instance: this.id }, 'cluster directory unreachable: serving owned sessions and starting new ones here');
  }
}
