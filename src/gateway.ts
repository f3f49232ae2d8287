import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { Tool } from '@modelcontextprotocol/client';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config, ServiceConfig } from './config/types.js';
import { createAdminFace } from './faces/admin/routes.js';
import { createMcpFace } from './faces/mcp/routes.js';
import { createSwaigFace } from './faces/swaig/routes.js';
import { addClusterGauges, createMetrics, type GatewayMetrics } from './http/metrics.js';
import { createRateLimiter, sessionLimitKey, type RateLimiter } from './http/rate-limit.js';
import { Readiness } from './http/readiness.js';
import { buildApp } from './http/server.js';
import { loadTls } from './http/tls.js';
import { fanOut } from './sessions/events.js';
import { RecentCalls } from './sessions/recent-calls.js';
import { SessionRegistry } from './sessions/registry.js';
import { diffServices, sectionsNeedingRestart } from './sessions/reload.js';
import { ServiceStartup, type ServiceReport, type ServiceState } from './sessions/service-startup.js';
import { ToolCalls } from './sessions/tool-calls.js';
import { ToolCatalogue } from './upstream/catalogue.js';
import { createLauncher } from './upstream/launcher.js';
import type { EraVerdicts } from './upstream/mcp-client.js';
import { ProcessGroups, type CloseTimings } from './upstream/process.js';
import { createMemoryWatchdog } from './upstream/memory-watchdog.js';
import { createPackageCache } from './upstream/package-cache.js';
import { describeProtections, type SandboxHost, type SandboxTools, type UnixUser } from './upstream/sandbox.js';
import { findSandboxTools } from './upstream/sandbox-tools.js';
import { createToolFilter } from './upstream/tool-filter.js';
import { createContainment } from './upstream/containment/containment.js';

export type { ServiceReport } from './sessions/service-startup.js';

export interface GatewayOptions {
  logger: Logger;
  /** The environment children may inherit from; only config/ and cli.ts read the real one. */
  env: Record<string, string | undefined>;
  cwd?: string;
  now?: () => number;
  closeTimings?: CloseTimings;
  sandboxTools?: SandboxTools;
  /** How long a shutdown lets in-flight requests finish before their sessions are closed under them. */
  drainMs?: number;
  /** Who `drop_privileges` servers run as (default nobody); tests use a uid no other process has. */
  unprivilegedUser?: UnixUser;
  /** Stand-in for the machine's cgroup mounts (containment/cgroup-detect.ts); for tests. */
  cgroupFsRoot?: string;
  /** Where per-session uid locks live (default /run/mcp-gateway/uids); for tests. */
  uidLockDir?: string;
}

/** A service's start-up report, with how its servers are contained (sandbox, limits, isolation). */
export interface StartReport extends ServiceReport {
  protections: string;
}

export interface ReloadReport {
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: string[];
  /** Sections that changed in the file but take effect only after a restart. */
  needsRestart: string[];
  /** Start-up reports of the added and changed services. */
  services: StartReport[];
}

export interface Gateway {
  app: FastifyInstance;
  registry: SessionRegistry;
  catalogue: ToolCatalogue;
  readiness: Readiness;
  isTls: boolean;
  /** The Prometheus registry: other parts add their metrics here. */
  metrics: GatewayMetrics;
  /**
   * Starts every enabled service once (initialize + list tools) to fill the catalogue, a few at a
   * time; a service that fails is retried in the background until it comes up.
   */
  validateServices(): Promise<StartReport[]>;
  /**
   * Takes the services of a newly loaded config (SPEC §15): added ones start, removed ones close
   * their sessions, changed ones serve new sessions from the new definition while live sessions
   * keep their servers, unchanged ones are not touched.
   */
  reload(next: Config): Promise<ReloadReport>;
  /** Stops accepting, drains, closes every session; resolves when every process tree is gone. */
  close(): Promise<void>;
  /** Synchronous last resort when the process is exiting: SIGKILL every process group. */
  killAllNow(): void;
}

/** How long a legacy server may leave `server/discover` unanswered before it counts as legacy. */
const PROBE_TIMEOUT_MS = 3000;
const MEMORY_CHECK_INTERVAL_MS = 500;
/** How long a shutdown lets requests, and then session starts, finish (SPEC §2: bounded, e.g. 10 s). */
const DRAIN_MS = 10_000;
/** Calls the admin page shows. */
const RECENT_CALLS = 50;

const wait = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms).unref());

/** The composition root: the only place that constructs collaborators. */
export async function createGateway(initial: Config, options: GatewayOptions): Promise<Gateway> {
  // The one live config: every collaborator reads `config.services` from it, so a reload swaps
  // the service table for all of them at once.
  const config: Config = { ...initial };
  const { logger } = options;
  const now = options.now ?? Date.now;
  const cwd = options.cwd ?? process.cwd();
  const eras: EraVerdicts = new Map();
  const background = new Set<Promise<unknown>>();
  const track = (promise: Promise<unknown>): void => {
    const settled = promise.catch(() => {});
    background.add(settled);
    void settled.finally(() => background.delete(settled));
  };

  const groups = new ProcessGroups();
  const host: SandboxHost = {
    tools: options.sandboxTools ?? (await findSandboxTools()),
    isRoot: process.getuid?.() === 0,
    unprivilegedUid: options.unprivilegedUser?.uid,
    unprivilegedGid: options.unprivilegedUser?.gid,
  };
  const sandboxDir = resolve(cwd, config.session.sandbox_dir);
  const packageCacheDir = config.session.package_cache_dir ?? join(sandboxDir, '.package-cache');
  const containment = await createContainment({
    sandboxRoot: sandboxDir,
    services: Object.values(config.services),
    isRoot: host.isRoot,
    gatewayCwd: cwd,
    logger,
    cgroupFsRoot: options.cgroupFsRoot,
    env: options.env,
    uidLockDir: options.uidLockDir,
  });
  const startServer = createLauncher({
    sandboxDir: containment.sessionRoot,
    sessionsRoot: sandboxDir,
    containment,
    gatewayCwd: cwd,
    parentEnv: options.env,
    secrets: [config.server.auth_password, config.server.auth_token].filter((secret) => secret !== ''),
    host,
    watchMemory: createMemoryWatchdog({ intervalMs: MEMORY_CHECK_INTERVAL_MS }),
    eras,
    logger,
    probeTimeoutMs: PROBE_TIMEOUT_MS,
    packageCache: packageCacheDir === '' ? undefined : createPackageCache(resolve(cwd, packageCacheDir)),
    timings: options.closeTimings,
    groups,
    onToolsChanged: (service, tools) => catalogue.store(service, tools),
  });
  const recentCalls = new RecentCalls(RECENT_CALLS, now);
  const metrics = createMetrics({
    serviceNames: () => toolCalls.services().map((service) => service.name),
    sessionCounts: () => registry.countsByService(),
  });
  const events = fanOut(metrics.events, recentCalls);
  const registry = new SessionRegistry({ config, startServer, now, logger, events });

  const startup: ServiceStartup = new ServiceStartup({
    start: async (service) => ({ tools: (await catalogue.refresh(service, true)).length }),
    onReady: (service) => registry.warmUp(service),
    logger,
    now,
    concurrency: Math.max(2, availableParallelism()),
  });
  /** Starts one short-lived server and lists its tools: part of the start, so `start_timeout` bounds it. */
  const listByStarting = async (service: string): Promise<Tool[]> => {
    const server = await startServer(config.services[service]!, 'catalogue');
    let isKept = false;
    try {
      const tools = await server.upstream.listTools(config.services[service]!.start_timeout * 1000);
      // The server is started and unused: it becomes the first warm one instead of being thrown away.
      isKept = registry.offerWarm(service, server);
      return tools;
    } finally {
      if (!isKept) track(server.dispose());
    }
  };
  /** A live session can answer for its service; otherwise one short-lived server is started. */
  const fetchTools = async (service: string): Promise<Tool[]> => {
    const live = registry.anyOf(service);
    if (live) return live.upstream.listTools(config.services[service]!.call_timeout * 1000);
    return startup.observe(service, listByStarting(service));
  };
  // Replaced by a reload, which may change a service's `tools` filter.
  let toolFilter = createToolFilter(config.services, logger);
  // Tracked so that close() also waits for a listing server that is still starting.
  const catalogue = new ToolCatalogue((service) => {
    const listing = fetchTools(service);
    track(listing);
    return listing;
  }, now, undefined, (service, tools) => toolFilter(service, tools));
  const toolCalls = new ToolCalls({ config, registry, catalogue, logger, now, events });
  const serviceStatus = (service: string): ServiceState => startup.state(service) ?? { status: catalogue.cached(service) ? 'ready' : 'starting' };
  const protectionsOf = (service: ServiceConfig): string =>
    describeProtections(service, host, { memoryByCgroup: containment.limitsMemory(service), sessionUids: containment.hasSessionUids(service) });
  const protections = (service: string): string => {
    const definition = config.services[service];
    return definition ? protectionsOf(definition) : '';
  };

  const tls = await loadTls({ security: config.security, cwd });
  let rateLimiter: RateLimiter | undefined;
  if (config.rate_limiting.enabled) {
    rateLimiter = await createRateLimiter({ storageUri: config.rate_limiting.storage_uri, keyPrefix: 'mcp-gateway', logger });
  }
  const readiness = new Readiness();
  // SPEC §12: without a `cluster` section no Redis connection is made and nothing changes.
  // Loaded only for a cluster: it brings ioredis (about 9 MB of resident memory).
  const cluster = config.cluster && (await (await import('./cluster/cluster.js')).createCluster({ config, cluster: config.cluster, registry, logger, now }));
  if (cluster) addClusterGauges(metrics.registry, () => cluster.status());
  const app = await buildApp({
    config,
    logger,
    tls,
    rateLimiter,
    readiness,
    cluster: cluster?.routing,
    rest: {
      toolCalls,
      registry,
      now,
      health: cluster && (() => ({ cluster: cluster.status() })),
      serviceStatus,
    },
    faces: [
      metrics,
      createAdminFace({ toolCalls, registry, recentCalls, serviceStatus, protections, now }),
      // SPEC §9: with `swaig.enabled: false` the SWAIG routes do not exist (404).
      ...(config.swaig.enabled ? [createSwaigFace({ config, toolCalls, registry })] : []),
      createMcpFace({
        config,
        toolCalls,
        registry,
        logger,
        now,
        onToolsChanged: (listener) => catalogue.onChange(listener),
        // The REST buckets, so a caller's MCP and REST calls count together (SPEC §8, §13).
        rateLimit: rateLimiter && limitedBy(rateLimiter, config),
      }),
    ],
  });

  app.addHook('onListen', async () => {
    await cluster?.start();
    readiness.markReady();
  });

  const sweeper = setInterval(() => registry.sweep(), config.session.cleanup_interval * 1000);
  sweeper.unref();

  /** Starts services a few at a time (failed ones keep retrying in the background) and logs each outcome. */
  const startServices = async (services: ServiceConfig[]): Promise<StartReport[]> => {
    const reports = await startup.startAll(services.map((service) => service.name));
    return reports.map((report, index) => {
      const service = services[index]!;
      const sandbox = protectionsOf(service);
      if (report.ok) logger.info({ ...report, sandbox, containment: containment.describe(service) }, 'service ready');
      else logger.error(report, 'service failed to start');
      return { ...report, protections: sandbox };
    });
  };

  return {
    app,
    registry,
    catalogue,
    readiness,
    metrics,
    isTls: tls !== undefined,
    validateServices: () => startServices(toolCalls.services()),
    async reload(next) {
      const changes = diffServices(config.services, next.services);
      const needsRestart = sectionsNeedingRestart(config, next);
      config.services = next.services;
      toolFilter = createToolFilter(config.services, logger);
      for (const service of changes.removed) {
        registry.retire(service, false);
        catalogue.forget(service.name);
        startup.forget(service.name);
      }
      for (const { before } of changes.changed) {
        registry.retire(before, true);
        catalogue.forget(before.name);
        startup.forget(before.name);
      }
      const names = (services: ServiceConfig[]): string[] => services.map((service) => service.name);
      const report = {
        added: names(changes.added),
        changed: names(changes.changed.map(({ after }) => after)),
        removed: names(changes.removed),
        unchanged: changes.unchanged,
        needsRestart,
      };
      logger.info({ event: 'config_reloaded', ...report }, 'configuration reloaded');
      if (needsRestart.length > 0) logger.warn({ sections: needsRestart }, 'changed sections take effect after a restart');
      return { ...report, services: await startServices([...changes.added, ...changes.changed.map(({ after }) => after)]) };
    },
    async close() {
      readiness.markDraining();
      // A cluster member keeps serving its own sessions first (SPEC §12); a single instance stops at once.
      await cluster?.drain();
      clearInterval(sweeper);
      startup.stop();
      const drainMs = options.drainMs ?? DRAIN_MS;
      const drained = app.close();
      await Promise.race([drained, wait(drainMs)]);
      await registry.closeAll(drainMs);
      await Promise.race([Promise.allSettled(background), wait(drainMs)]);
      // Whatever is still running (a start that never finished, a listing server) ends now, which
      // also ends the requests still waiting on it.
      await groups.killAll();
      await containment.close();
      await Promise.race([drained, wait(drainMs)]);
      // After that nothing may keep the server open, not even a stalled client.
      app.server.closeAllConnections();
      await drained;
      await rateLimiter?.close();
      await cluster?.close();
    },
    killAllNow() {
      groups.killAllNow();
    },
  };
}

/** The MCP face's tool calls counted as REST's `/call`: the same bucket and key, per client or per (client, session). */
function limitedBy(limiter: RateLimiter, config: Config) {
  return async (bucket: 'tools' | 'call', clientKey: string, sessionId?: string): Promise<{ allowed: boolean; limitText: string }> => {
    const limits = bucket === 'tools' ? config.rate_limiting.tools_limit : config.rate_limiting.call_limit;
    if (limits.length === 0) return { allowed: true, limitText: '' };
    const perSession = bucket === 'call' && config.rate_limiting.call_limit_scope === 'session';
    const key = perSession ? sessionLimitKey(clientKey, sessionId) : clientKey;
    const verdict = await limiter.hit(bucket, key, limits);
    return { allowed: verdict.allowed, limitText: verdict.limit.text };
  };
}
