import {
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  WebStandardStreamableHTTPServerTransport,
  type McpHttpHandler,
} from '@modelcontextprotocol/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../../errors.js';
import { onClientLeaves } from '../rest/routes.js';
import { checkName } from '../rest/validate.js';
import { createProxyServer, type LimitCheck, type McpScope, type ProxyDeps } from './proxy-server.js';
import type { McpFaceDeps } from './routes.js';
import { McpSessions } from './sessions.js';
import { gatewaySessionIdOf, JOIN_SESSION_HEADER, MCP_SESSION_HEADER } from './session-id.js';

export interface McpRequestHandler {
  serve(request: McpRequest, reply: FastifyReply): Promise<Response>;
  /** Ends the face's MCP sessions and handlers (the gateway is closing). */
  close(): Promise<void>;
}

export type McpRequest = FastifyRequest<{ Params: { service?: string } }>;

const BOTH_ACCEPTED = 'application/json, text/event-stream';
/** The answer the spec prescribes for an unknown or ended MCP session: the client initializes again. */
const SESSION_NOT_FOUND = { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null };

/**
 * What answers the MCP face's requests (SPEC §13): the gateway as a Streamable HTTP MCP server over
 * its own sessions. 2025-era clients get a stateful MCP session per `initialize`
 * (`Mcp-Session-Id`); 2026-07-28 requests and 2025-era requests without a session are served one
 * by one. Each request runs in the gateway session it names (`X-Session-Id`), else in its MCP
 * session's own.
 */
export function createMcpRequestHandler(deps: McpFaceDeps): McpRequestHandler {
  const sessions = new McpSessions({
    maxSessions: deps.config.session.max_total_sessions,
    idleMs: deps.config.session.default_timeout * 1000,
    now: deps.now,
  });
  // The client address per request, for the rate limits (the SDK hands handlers the web Request).
  const clients = new WeakMap<Request, string>();
  const limit: LimitCheck = async (bucket, request, sessionId) => {
    const clientKey = request && clients.get(request);
    if (!deps.rateLimit || clientKey === undefined) return;
    const verdict = await deps.rateLimit(bucket, clientKey, sessionId);
    if (!verdict.allowed) throw new GatewayError('RATE_LIMITED', `Rate limit exceeded: ${verdict.limitText}`);
  };
  const proxyDeps: ProxyDeps = { toolCalls: deps.toolCalls, registry: deps.registry, logger: deps.logger, limit, onToolsChanged: deps.onToolsChanged };
  const modern = new Map<string, McpHttpHandler>();
  const modernHandler = (scope: McpScope, json: boolean): McpHttpHandler => {
    const key = `${json ? 'json' : 'auto'}\0${scope ?? ''}`;
    let handler = modern.get(key);
    if (!handler) {
      handler = createMcpHandler(() => createProxyServer(scope, proxyDeps), {
        legacy: 'reject',
        responseMode: json ? 'json' : 'auto',
        onerror: (error) => deps.logger.debug({ err: error.message }, 'mcp face request rejected'),
      });
      modern.set(key, handler);
    }
    return handler;
  };

  const serve = async (request: McpRequest, reply: FastifyReply): Promise<Response> => {
    const scope = request.params.service;
    if (scope !== undefined) {
      checkName('service', scope);
      deps.toolCalls.service(scope);
    }
    const joined = headerOf(request, JOIN_SESSION_HEADER);
    if (joined !== undefined) checkName('session', joined);
    const json = !acceptsEventStream(request);
    const web = toWebRequest(request, reply);
    clients.set(web, request.ip);
    const parsedBody = request.body;

    const mcpSessionId = headerOf(request, MCP_SESSION_HEADER);
    if (mcpSessionId !== undefined) {
      const transport = sessions.find(mcpSessionId, scope);
      if (!transport) return Response.json(SESSION_NOT_FOUND, { status: 404 });
      const response = await transport.handleRequest(web, { parsedBody });
      // Terminating the MCP session ends its gateway session and so its servers (SPEC §13).
      if (request.method === 'DELETE' && response.ok) deps.registry.closeSessionId(gatewaySessionIdOf((name) => headerOf(request, name))!);
      return response;
    }
    if (request.method === 'POST' && isInitializing(parsedBody)) {
      const transport = await sessions.start(scope, createProxyServer(scope, proxyDeps), json);
      if (!transport) throw new GatewayError('SESSION_LIMIT', `Maximum MCP session limit (${deps.config.session.max_total_sessions}) reached`);
      return transport.handleRequest(web, { parsedBody });
    }
    if (request.method !== 'POST') return Response.json({ ...SESSION_NOT_FOUND, error: { code: -32000, message: 'Mcp-Session-Id header is required' } }, { status: 400 });
    if (await isLegacyRequest(web, parsedBody)) {
      // A 2025-era request outside any MCP session (a client that keeps no session): served on
      // its own, in the gateway session it names, as one JSON answer.
      const server = createProxyServer(scope, proxyDeps);
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await server.connect(transport);
      try {
        return await transport.handleRequest(web, { parsedBody });
      } finally {
        void server.close();
      }
    }
    return modernHandler(scope, json).fetch(web, { parsedBody });
  };

  return {
    serve,
    async close() {
      await sessions.closeAll();
      await Promise.allSettled([...modern.values()].map((handler) => handler.close()));
    },
  };
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** SignalWire's client posts and reads JSON only (SPEC §13): it must never be sent an event stream. */
function acceptsEventStream(request: FastifyRequest): boolean {
  return headerOf(request, 'accept')?.includes('text/event-stream') ?? false;
}

/**
 * The web Request the SDK reads. The body travels separately (fastify has parsed it already);
 * `Accept` always names both types, because a JSON-only client is answered in JSON mode instead
 * of the 406 the SDK would give it; the signal ends the exchange when the client leaves.
 */
function toWebRequest(request: FastifyRequest, reply: FastifyReply): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined && name !== 'content-length') headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  headers.set('accept', BOTH_ACCEPTED);
  // A signal per request: the Request keeps its listener on the signal it is given for good.
  const leaving = new AbortController();
  onClientLeaves(reply, () => leaving.abort());
  return new Request(`http://gateway${request.url}`, { method: request.method, headers, signal: leaving.signal });
}

function isInitializing(body: unknown): boolean {
  return Array.isArray(body) ? body.some((message) => isInitializeRequest(message)) : isInitializeRequest(body);
}
