import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CallOutcome, GatewayEvents, SessionStartCause, ToolCallEvent } from '../sessions/events.js';

export interface MetricsDeps {
  /** Enabled service names: each gets a sessions gauge, 0 included. */
  serviceNames: () => string[];
  /** Live sessions per service, read at scrape time (never kept in step by hand). */
  sessionCounts: () => Map<string, number>;
}

export interface GatewayMetrics {
  /** The core's observer: counts tool calls and session starts. */
  events: GatewayEvents;
  /** Where other parts of the gateway add their own metrics (e.g. cluster gauges). */
  registry: Registry;
  routes: ReadonlyArray<{ url: string; methods: string[] }>;
  /** `GET /metrics` and the per-response HTTP counter. */
  register(app: FastifyInstance): void;
}

/** Tool calls last from milliseconds (a warm call) to minutes (a long tool with progress). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Fastify has no route pattern for a request that matched none. */
const UNMATCHED_ROUTE = 'unmatched';

/**
 * The Prometheus metrics of SPEC §15. Label children are created once per label combination and
 * kept in nested maps; a tool call's event then costs about 1 µs (prom-client still hashes the
 * labels inside `inc`/`observe`), against milliseconds for the call itself.
 */
export function createMetrics(deps: MetricsDeps): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const toolCalls = new Counter({
    name: 'mcp_gateway_tool_calls_total',
    help: 'Tool calls by service, tool (catalogue names; unknown ones as "other") and outcome',
    labelNames: ['service', 'tool', 'outcome'] as const,
    registers,
  });
  const callDuration = new Histogram({
    name: 'mcp_gateway_tool_call_duration_seconds',
    help: 'Tool call duration, from the request reaching the core to its answer (session start included)',
    labelNames: ['service'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const sessionStarts = new Counter({
    name: 'mcp_gateway_session_starts_total',
    help: 'Sessions started, by service and where their server came from (warm, cold, shared)',
    labelNames: ['service', 'cause'] as const,
    registers,
  });
  new Gauge({
    name: 'mcp_gateway_sessions',
    help: 'Live sessions per service',
    labelNames: ['service'] as const,
    registers,
    collect() {
      this.reset();
      for (const service of deps.serviceNames()) this.set({ service }, 0);
      for (const [service, count] of deps.sessionCounts()) this.set({ service }, count);
    },
  });
  const httpRequests = new Counter({
    name: 'mcp_gateway_http_requests_total',
    help: 'HTTP responses by route pattern and status',
    labelNames: ['route', 'status'] as const,
    registers,
  });

  type CallChild = ReturnType<typeof toolCalls.labels>;
  const byService = new Map<string, { duration: ReturnType<typeof callDuration.labels>; calls: Map<string, Map<CallOutcome, CallChild>> }>();
  const startChildren = new Map<string, Map<SessionStartCause, ReturnType<typeof sessionStarts.labels>>>();
  const httpChildren = new Map<string, Map<number, ReturnType<typeof httpRequests.labels>>>();

  const events: GatewayEvents = {
    toolCallEnded({ service, tool, outcome, seconds }: ToolCallEvent) {
      let entry = byService.get(service);
      if (!entry) {
        entry = { duration: callDuration.labels(service), calls: new Map() };
        byService.set(service, entry);
      }
      entry.duration.observe(seconds);
      const outcomes = cached(entry.calls, tool, () => new Map());
      cached(outcomes, outcome, () => toolCalls.labels(service, tool, outcome)).inc();
    },
    sessionStarted(service, cause) {
      cached(cached(startChildren, service, () => new Map()), cause, () => sessionStarts.labels(service, cause)).inc();
    },
  };

  return {
    events,
    registry,
    routes: [{ url: '/metrics', methods: ['GET'] }],
    register(app) {
      app.addHook('onResponse', (request, reply, done) => {
        const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
        const status = reply.statusCode;
        cached(cached(httpChildren, route, () => new Map()), status, () => httpRequests.labels(route, String(status))).inc();
        done();
      });
      // Scrapers poll all day long: the API's rate limits are not meant for them.
      app.get('/metrics', { config: { limitBucket: 'none' } }, async (_request, reply) => {
        const text = await registry.metrics();
        return reply.type(registry.contentType).send(text);
      });
    },
  };
}

/** What the cluster layer reports about itself (SPEC §12), read at scrape time. */
export interface ClusterMetricsSource {
  redis: 'up' | 'down';
  peers: number;
  draining: boolean;
}

/** The cluster's gauges (SPEC §15), on the gateway's registry; only a clustered gateway has them. */
export function addClusterGauges(registry: Registry, status: () => ClusterMetricsSource): void {
  const registers = [registry];
  new Gauge({
    name: 'mcp_gateway_cluster_redis_up',
    help: '1 while the session directory (Redis) answers; 0 in the degraded mode, where new sessions start locally',
    registers,
    collect() {
      this.set(status().redis === 'up' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'mcp_gateway_cluster_peers',
    help: 'Other live instances this one knows from their heartbeats',
    registers,
    collect() {
      this.set(status().peers);
    },
  });
  new Gauge({
    name: 'mcp_gateway_cluster_draining',
    help: '1 once this instance drains (SIGTERM): it serves its own sessions and places new ones elsewhere',
    registers,
    collect() {
      this.set(status().draining ? 1 : 0);
    },
  });
}

function cached<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}
