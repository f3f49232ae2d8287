import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isPlainObject } from '../../json.js';
import { sanitize } from '../../log.js';
import { VERSION } from '../../version.js';
import type { SessionRegistry } from '../../sessions/registry.js';
import type { ServiceState } from '../../sessions/service-startup.js';
import type { Session } from '../../sessions/session.js';
import type { ToolCalls } from '../../sessions/tool-calls.js';
import { renderResultText } from '../render.js';
import { CALL_SCHEMA, DELETE_SESSION_SCHEMA, HEALTH_SCHEMA, SERVICES_SCHEMA, SESSIONS_SCHEMA, TOOLS_SCHEMA } from './schemas.js';
import { checkName, parseCallBody } from './validate.js';

export interface RestDeps {
  toolCalls: ToolCalls;
  registry: SessionRegistry;
  serviceStatus: (service: string) => ServiceState;
  now: () => number;
  /** Extra `/health` fields (`cluster`, SPEC §12). */
  health?: () => Record<string, unknown>;
}

/** Routes and the methods they answer; anything else on these paths is a 405 with `Allow`. */
export const REST_ROUTES: ReadonlyArray<{ url: string; methods: string[] }> = [
  { url: '/health', methods: ['GET'] },
  { url: '/services', methods: ['GET'] },
  { url: '/services/:name/tools', methods: ['GET'] },
  { url: '/services/:name/call', methods: ['POST'] },
  { url: '/sessions', methods: ['GET'] },
  { url: '/sessions/:id', methods: ['DELETE'] },
];

/** Request schemas only document: the face checks requests itself, with the messages SPEC §4.1 fixes. */
const documentOnly = () => () => true;

/** The REST face, wire-compatible with the reference gateway (SPEC §4). */
export function registerRestRoutes(app: FastifyInstance, deps: RestDeps): void {
  const { toolCalls, registry } = deps;

  // Public, so it names each service's state but never its error (stderr may quote paths or data).
  app.get('/health', { config: { isPublic: true }, schema: HEALTH_SCHEMA }, async () => {
    const services = Object.fromEntries(toolCalls.services().map((service) => [service.name, deps.serviceStatus(service.name).status]));
    return {
      status: Object.values(services).includes('failed') ? 'degraded' : 'healthy',
      timestamp: new Date(deps.now()).toISOString(),
      version: VERSION,
      services,
      ...deps.health?.(),
    };
  });

  app.get('/services', { schema: SERVICES_SCHEMA }, async () => {
    const services: Record<string, unknown> = {};
    for (const service of toolCalls.services()) {
      const tools = toolCalls.cachedTools(service.name);
      services[service.name] = {
        description: service.description,
        enabled: service.enabled,
        tools: tools ? tools.length : null,
        ...deps.serviceStatus(service.name),
      };
    }
    return services;
  });

  app.get('/services/:name/tools', { config: { limitBucket: 'tools' }, schema: TOOLS_SCHEMA, validatorCompiler: documentOnly }, async (request: FastifyRequest<{ Params: { name: string } }>) => {
    const { name } = request.params;
    checkName('service', name);
    return { service: name, tools: await toolCalls.listTools(name) };
  });

  app.post('/services/:name/call', { config: { limitBucket: 'call', limitSessionOf: callSessionOf }, schema: CALL_SCHEMA, validatorCompiler: documentOnly }, async (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
    const { name } = request.params;
    checkName('service', name);
    const body = parseCallBody(request.body);
    const abandoned = abortWhenClientLeaves(reply);
    const { result, sessionCreated } = await toolCalls.call({
      service: name,
      sessionId: body.session_id,
      tool: body.tool,
      arguments: body.arguments,
      idleTimeoutSec: body.timeout,
      metadata: body.metadata,
      signal: abandoned,
    });
    return {
      session_id: body.session_id,
      service: name,
      tool: body.tool,
      result: renderResultText(result),
      content: result.content ?? [],
      ...(result.structuredContent === undefined ? {} : { structured_content: result.structuredContent }),
      is_error: result.isError === true,
      session_created: sessionCreated,
    };
  });

  app.get('/sessions', { schema: SESSIONS_SCHEMA }, async () => {
    const byId: Record<string, Record<string, unknown>> = {};
    const now = deps.now();
    for (const session of registry.list()) {
      // Expired but not yet swept: already gone as far as any caller is concerned.
      if (session.isExpired(now)) continue;
      const entry = (byId[session.id] ??= describeSession(session, now));
      (entry['services'] as Record<string, unknown>)[session.service] = {
        created_at: iso(session.createdAt),
        last_accessed: iso(session.lastAccessed),
        calls: session.calls,
        pid: session.upstream.pid,
      };
    }
    return byId;
  });

  app.delete('/sessions/:id', { config: { limitBucket: 'session_delete' }, schema: DELETE_SESSION_SCHEMA, validatorCompiler: documentOnly }, async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const { id } = request.params;
    checkName('session', id);
    if (!registry.closeSessionId(id)) return reply.code(404).send({ error: `Session ${id} not found` });
    return { message: `Session ${id} closed` };
  });
}

/** The `session_id` of a call body, for per-session rate limits (the body is validated later). */
function callSessionOf(body: unknown): string | undefined {
  return isPlainObject(body) && typeof body['session_id'] === 'string' ? body['session_id'] : undefined;
}

/** The reference's fields describe the session's first service (SPEC §4.2). */
function describeSession(session: Session, now: number): Record<string, unknown> {
  return {
    service_name: session.service,
    created_at: iso(session.createdAt),
    last_accessed: iso(session.lastAccessed),
    timeout: session.idleTimeoutMs / 1000,
    metadata: session.metadata,
    time_remaining: Math.max(0, Math.round((session.lastAccessed + session.idleTimeoutMs - now) / 1000)),
    services: {},
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** One controller per client connection: a request can only be abandoned by closing its connection. */
const connectionAborts = new WeakMap<object, AbortController>();

/**
 * Aborts when the HTTP client disconnects before the answer is sent: the tool call is cancelled
 * upstream. The signal is the connection's, shared by the requests a keep-alive connection
 * carries one after another (creating an AbortSignal per request was a measurable part of a warm
 * call), so it suits only users that remove their listener when done, as the MCP SDK client and
 * node:http do; a web `Request` never does, and gets a signal of its own (`onClientLeaves`).
 */
export function abortWhenClientLeaves(reply: FastifyReply): AbortSignal {
  const connection: object = reply.raw.socket ?? reply.raw;
  let controller = connectionAborts.get(connection);
  if (controller === undefined || controller.signal.aborted) {
    controller = new AbortController();
    connectionAborts.set(connection, controller);
  }
  const aborts = controller;
  onClientLeaves(reply, () => aborts.abort());
  return aborts.signal;
}

/**
 * Runs `leave` when the HTTP client disconnects before the answer is sent. Such a request never
 * reaches onResponse, so its access-log line is written here.
 */
export function onClientLeaves(reply: FastifyReply, leave: () => void): void {
  reply.raw.once('close', () => {
    if (reply.raw.writableFinished) return;
    const { request } = reply;
    request.log.info({ method: request.method, url: sanitize(request.url), status: 499, event: 'client_abort', ms: Math.round(reply.elapsedTime * 100) / 100 }, 'request');
    leave();
  });
}
