import type { FastifyInstance } from 'fastify';
import type { RecentCalls } from '../../sessions/recent-calls.js';
import type { SessionRegistry } from '../../sessions/registry.js';
import type { ServiceState } from '../../sessions/service-startup.js';
import type { ToolCalls } from '../../sessions/tool-calls.js';
import { VERSION } from '../../version.js';
import { ADMIN_CSP, ADMIN_HTML } from './page.js';

export interface AdminDeps {
  toolCalls: ToolCalls;
  registry: SessionRegistry;
  recentCalls: RecentCalls;
  serviceStatus: (service: string) => ServiceState;
  /** One line saying how a service's servers are contained (the start-up log's wording). */
  protections: (service: string) => string;
  now: () => number;
}

/** `GET /admin` and the state it polls (SPEC §15), behind the API's authentication. */
export function createAdminFace(deps: AdminDeps) {
  return {
    routes: [
      { url: '/admin', methods: ['GET'] },
      { url: '/admin/state', methods: ['GET'] },
    ],
    register(app: FastifyInstance) {
      app.get('/admin', async (_request, reply) =>
        reply.type('text/html; charset=utf-8').header('content-security-policy', ADMIN_CSP).header('cache-control', 'no-store').send(ADMIN_HTML),
      );
      // The page polls this every few seconds: the API's rate limits are not meant for it.
      app.get('/admin/state', { config: { limitBucket: 'none' } }, async (_request, reply) => {
        reply.header('cache-control', 'no-store');
        return adminState(deps);
      });
    },
  };
}

function adminState(deps: AdminDeps) {
  const now = deps.now();
  return {
    version: VERSION,
    services: deps.toolCalls.services().map((service) => {
      const tools = deps.toolCalls.cachedTools(service.name);
      const state = deps.serviceStatus(service.name);
      return {
        name: service.name,
        description: service.description,
        status: state.status,
        ...(state.status === 'failed' ? { error: state.error } : {}),
        tools: tools ? tools.length : null,
        protections: deps.protections(service.name),
      };
    }),
    sessions: deps.registry.list().map((session) => ({
      id: session.id,
      service: session.service,
      pid: session.upstream.pid,
      calls: session.calls,
      idle_seconds: session.inFlight > 0 ? 0 : Math.max(0, (now - session.lastAccessed) / 1000),
    })),
    recent_calls: deps.recentCalls.list(),
  };
}
