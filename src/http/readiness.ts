import type { FastifyInstance } from 'fastify';

export type ReadinessState = 'starting' | 'ready' | 'draining';

/**
 * Whether a load balancer should send this instance new work (SPEC §15 `/ready`). The composition
 * root owns the one instance and moves it: ready once listening (and, in a cluster, published),
 * draining from the moment a shutdown begins.
 */
export class Readiness {
  private current: ReadinessState = 'starting';

  get state(): ReadinessState {
    return this.current;
  }

  markReady(): void {
    if (this.current === 'starting') this.current = 'ready';
  }

  markDraining(): void {
    this.current = 'draining';
  }
}

/** `GET /ready`: no credentials, never rate limited; 503 while starting or draining. */
export function registerReadyRoute(app: FastifyInstance, readiness: Readiness): void {
  app.get('/ready', { config: { isPublic: true, limitBucket: 'none' } }, async (_request, reply) => {
    const { state } = readiness;
    return state === 'ready' ? { status: 'ready' } : reply.code(503).send({ status: state });
  });
}

export const READY_ROUTE = { url: '/ready', methods: ['GET'] };
