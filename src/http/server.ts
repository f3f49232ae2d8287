import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config, RateLimit } from '../config/types.js';
import { GatewayError } from '../errors.js';
import type { ClusterRouting } from '../cluster/routing.js';
import { REST_ROUTES, registerRestRoutes, type RestDeps } from '../faces/rest/routes.js';
import { sanitize } from '../log.js';
import { createAuthenticator, UNAUTHORIZED_BODY, WWW_AUTHENTICATE } from './auth.js';
import { discardRestOfRequest, guardConnections, serverConstructionOptions, type ConnectionLimits } from './connection-guard.js';
import { errorBody, extraHeadersFor, httpStatusFor } from './error-map.js';
import { corsHeaders, isHostAllowed, securityHeaders } from './headers.js';
import { isNestedDeeperThan, MAX_JSON_DEPTH } from './json-depth.js';
import { registerOpenApi } from './openapi.js';
import { registerRateLimit, type LimitedRoute, type RateLimiter } from './rate-limit.js';
import { READY_ROUTE, registerReadyRoute, type Readiness } from './readiness.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  tls?: { key: string; cert: string };
  rateLimiter?: RateLimiter;
  rest: RestDeps;
  readiness: Readiness;
  /** Present with a `cluster` config: routes each session's requests to the instance that owns it (SPEC §12). */
  cluster?: ClusterRouting;
  /** Extra faces (SWAIG) register their routes here; each lists its routes for the 405 table. */
  faces?: ReadonlyArray<{ routes: ReadonlyArray<{ url: string; methods: string[] }>; register: (app: FastifyInstance) => void }>;
}

const ALL_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes that answer without credentials (`/health`). */
    isPublic?: boolean;
    /** Rate-limit bucket of the route (SPEC §8); absent = `default_limits` counted per route. */
    limitBucket?: 'tools' | 'call' | 'session_delete' | 'swaig' | 'none';
    /** The session a request of this route belongs to, for `call_limit_scope: "session"`. */
    limitSessionOf?: (body: unknown) => string | undefined;
    /** What a refused request of this route gets instead of the 429 JSON (SWAIG: a 200 sentence, SPEC §9). */
    rateLimitedReply?: { status: number; body: unknown };
  }
}

/**
 * Builds the HTTP app over the core; never listens (tests use `inject()` or `listen({port: 0})`).
 * Hook order matters: headers and request id, then the rate limit, then authentication, so
 * password guessing is limited too (SPEC §8).
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const connectionLimits: ConnectionLimits = {
    requestTimeoutMs: config.server.request_timeout * 1000,
    maxConnectionsPerClient: config.server.max_connections_per_client,
    maxRequestBytes: config.security.max_request_size,
  };
  // One instance type for HTTP and HTTPS: routes and hooks do not care which server carries them.
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // One access line per request (onResponse below) instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.security.max_request_size,
    trustProxy: config.server.trust_proxy,
    genReqId: (raw) => deps.cluster?.carriedRequestId(raw) ?? randomUUID(),
    requestIdHeader: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    requestTimeout: connectionLimits.requestTimeoutMs,
    http: serverConstructionOptions(),
    ...(deps.tls ? { https: { ...deps.tls, ...serverConstructionOptions() } } : {}),
  }) as unknown as FastifyInstance;
  guardConnections(app.server, connectionLimits, deps.logger);

  const staticHeaders = securityHeaders({ isTls: deps.tls !== undefined, security: config.security });
  const authenticate = createAuthenticator(config.server);
  const { allowed_hosts: allowedHosts, cors_origins: corsOrigins } = config.security;

  // Every body is JSON whatever the client called it: `curl -d` sends form encoding by default,
  // and a body that does not parse is a 400 either way (SPEC §4).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined);
    if (isNestedDeeperThan(body as string, MAX_JSON_DEPTH)) {
      return done(new GatewayError('BAD_REQUEST', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
    }
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new GatewayError('BAD_REQUEST', 'Invalid JSON'), undefined);
    }
  });

  // Hooks on every request use fastify's callback form: an async hook costs a promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(staticHeaders);
    reply.header('x-request-id', request.id);
    if (corsOrigins.length > 0) reply.headers(corsHeaders(request.headers.origin, corsOrigins));
    if (!isHostAllowed(request.headers.host, allowedHosts)) {
      reply.code(400).send({ error: 'Host not allowed' });
      return;
    }
    done();
  });

  // Before the rate limit and authentication: a verified hop was counted and authenticated where it arrived.
  deps.cluster?.verifyHops(app);

  if (deps.rateLimiter && config.rate_limiting.enabled) {
    registerRateLimit(app, {
      limiter: deps.rateLimiter,
      clientKey: (request) => request.ip,
      isAuthenticated: (request) => authenticate(request.headers.authorization),
      route: (request) => (request.gatewayHop ? undefined : limitsFor(request, config)),
      refusal: (request) => request.routeOptions.config.rateLimitedReply,
    });
  }

  app.addHook('onRequest', (request, reply, done) => {
    const routeConfig = request.routeOptions.config;
    if (request.routeOptions.url !== undefined && !routeConfig.isPublic && !request.gatewayHop && !authenticate(request.headers.authorization)) {
      request.log.info({ event: 'auth_failed', ip: request.ip, url: sanitize(request.url) }, 'authentication failed');
      reply.code(401).header('www-authenticate', WWW_AUTHENTICATE).send(UNAUTHORIZED_BODY);
      return;
    }
    done();
  });

  // After the rate limit's own preHandler: a request is counted where it arrived, then forwarded.
  deps.cluster?.route(app);

  // Once close() has begun, an answer ends its keep-alive connection: otherwise a connection that
  // goes idle after the close started holds the server open until its keep-alive timeout.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (!app.server.listening) reply.header('connection', 'close');
    // An answer sent before the body arrived keeps the connection until the rest is discarded
    // (onResponse): closing now would reset a client that writes its whole body before reading.
    else if (!request.raw.complete) reply.removeHeader('connection');
    done(null, payload);
  });

  app.addHook('onResponse', (request, reply, done) => {
    discardRestOfRequest(request.raw, connectionLimits);
    if (deps.logger.isLevelEnabled('info')) {
      request.log.info({ method: request.method, url: sanitize(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 }, 'request');
    }
    done();
  });

  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'Not found' }));

  app.setErrorHandler((error: FastifyError | GatewayError, request, reply) => {
    if (error instanceof GatewayError) {
      const status = httpStatusFor(error);
      request.log[status >= 500 ? 'warn' : 'info']({ code: error.code, err: error.message }, 'request failed');
      return reply.code(status).headers(extraHeadersFor(error)).send(errorBody(error));
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      request.log.info({ code: error.code }, 'client error');
      return reply.code(status).send({ error: clientErrorMessage(error) });
    }
    request.log.error({ err: error }, 'internal error');
    return reply.code(500).send({ error: 'Internal server error' });
  });

  registerReadyRoute(app, deps.readiness);
  await registerOpenApi(app);
  registerRestRoutes(app, deps.rest);
  for (const face of deps.faces ?? []) face.register(app);
  registerMethodNotAllowed(app, [READY_ROUTE, ...REST_ROUTES, ...(deps.faces ?? []).flatMap((face) => face.routes)], corsOrigins.length > 0);
  return app;
}

function limitsFor(request: FastifyRequest, config: Config): LimitedRoute | undefined {
  const url = request.routeOptions.url;
  if (url === undefined || url === '/health') return undefined;
  const limits = config.rate_limiting;
  const perSession = limits.call_limit_scope === 'session' ? { sessionOf: request.routeOptions.config.limitSessionOf } : {};
  switch (request.routeOptions.config.limitBucket) {
    case 'none':
      return undefined;
    case 'tools':
      return { bucket: 'tools', limits: limits.tools_limit };
    // One bucket for every service's /call, like the reference (SPEC §8).
    case 'call':
      return { bucket: 'call', limits: limits.call_limit, ...perSession };
    case 'session_delete':
      return { bucket: 'session_delete', limits: limits.session_delete_limit };
    case 'swaig':
      return { bucket: 'swaig', limits: config.swaig.limit, ...perSession };
    default:
      return { bucket: `${request.method} ${url}`, limits: limits.default_limits };
  }
}

/** Known paths answer other methods with 405 and `Allow`, never 404 or 500 (SPEC §4, §11). */
function registerMethodNotAllowed(
  app: FastifyInstance,
  routes: ReadonlyArray<{ url: string; methods: string[] }>,
  answerPreflight: boolean,
): void {
  for (const { url, methods } of routes) {
    const allowed = methods.includes('GET') ? [...methods, 'HEAD'] : methods;
    const allow = allowed.join(', ');
    const others = ALL_METHODS.filter((method) => !methods.includes(method));
    app.route({
      method: others,
      url,
      config: { isPublic: true, limitBucket: 'none' },
      handler: async (request, reply) => {
        if (request.method === 'OPTIONS' && answerPreflight) return reply.code(204).header('allow', allow).send();
        return reply.code(405).header('allow', allow).send({ error: 'Method not allowed' });
      },
    });
  }
}

function clientErrorMessage(error: FastifyError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'Request body too large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Unsupported content type';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'Invalid JSON';
    default:
      return error.message;
  }
}
