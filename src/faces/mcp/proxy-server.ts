import { randomUUID } from 'node:crypto';
import { ProtocolError, ProtocolErrorCode, Server, type CallToolResult, type ServerContext, type Tool } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import { isGatewayError } from '../../errors.js';
import type { SessionRegistry } from '../../sessions/registry.js';
import type { RelayRequest, ToolCalls } from '../../sessions/tool-calls.js';
import { VERSION } from '../../version.js';
import { buildFunctionNames, type ToolRef } from '../swaig/names.js';
import { gatewaySessionIdOf } from './session-id.js';

/** One service's endpoint (`/mcp/<service>`), or every enabled service's (`/mcp`, scope `undefined`). */
export type McpScope = string | undefined;

/**
 * Called before a request of a limited kind runs (a call: with its gateway session, for
 * `call_limit_scope: "session"`); throws RATE_LIMITED when the caller is over (SPEC §8).
 */
export type LimitCheck = (bucket: 'tools' | 'call', request: Request | undefined, sessionId?: string) => Promise<void>;

export interface ProxyDeps {
  toolCalls: ToolCalls;
  registry: SessionRegistry;
  logger: Logger;
  limit: LimitCheck;
  /** Subscribes to changes of a service's tool list; returns the unsubscribe. */
  onToolsChanged: (listener: (service: string) => void) => () => void;
}

/** Faces name the aggregated endpoint's tools `<service>_<tool>`: the SWAIG rules without a prefix (SPEC §13). */
const AGGREGATE_PREFIX = '';

/**
 * The MCP server a client of the MCP face talks to: a low-level SDK Server whose handlers relay
 * to the gateway's sessions, so results (isError, structured content) pass through as the
 * upstream server sent them. One instance per MCP session, or per request for sessionless ones.
 */
export function createProxyServer(scope: McpScope, deps: ProxyDeps): Server {
  const server = new Server(
    { name: scope === undefined ? 'mcp-gateway' : `mcp-gateway/${scope}`, version: VERSION },
    { capabilities: scope === undefined ? { tools: { listChanged: true } } : { tools: { listChanged: true }, resources: {}, prompts: {} } },
  );

  server.setRequestHandler('tools/list', async (_request, ctx) => {
    await deps.limit('tools', ctx.http?.req);
    return { tools: (await listScope(scope, deps.toolCalls, deps.logger)).map(({ exposed }) => exposed) };
  });

  server.setRequestHandler('tools/call', async (request, ctx) => {
    try {
      return await withSession(ctx, deps.registry, async (sessionId) => {
        await deps.limit('call', ctx.http?.req, sessionId);
        const ref = await resolveTool(scope, request.params.name, deps);
        const progressToken = ctx.mcpReq._meta?.progressToken;
        const { result } = await deps.toolCalls.call({
          ...ref,
          sessionId,
          arguments: request.params.arguments ?? {},
          signal: ctx.mcpReq.signal,
          onProgress:
            progressToken === undefined
              ? undefined
              : (progress) => void ctx.mcpReq.notify({ method: 'notifications/progress', params: { ...progress, progressToken } }).catch(() => {}),
        });
        return result;
      });
    } catch (error) {
      return toolFailure(error);
    }
  });

  if (scope !== undefined) {
    const relay = (method: string, capability: RelayRequest['capability'], empty?: Record<string, unknown>) =>
      server.setRequestHandler(method as 'resources/list', async (request, ctx) => {
        try {
          const { _meta, ...params } = (request.params ?? {}) as Record<string, unknown>;
          const result = await withSession(ctx, deps.registry, (sessionId) =>
            deps.toolCalls.relay({ service: scope, sessionId, method, params, capability, signal: ctx.mcpReq.signal }),
          );
          if (result !== undefined) return result as never;
          if (empty !== undefined) return empty as never;
          throw new ProtocolError(ProtocolErrorCode.MethodNotFound, `Service '${scope}' offers no ${capability}`);
        } catch (error) {
          throw protocolFailure(error);
        }
      });
    relay('resources/list', 'resources', { resources: [] });
    relay('resources/templates/list', 'resources', { resourceTemplates: [] });
    relay('resources/read', 'resources');
    relay('prompts/list', 'prompts', { prompts: [] });
    relay('prompts/get', 'prompts');
  }

  // list_changed passes through: the catalogue hears it from the upstream server and tells us.
  const unsubscribe = deps.onToolsChanged((service) => {
    if (scope === undefined || scope === service) void server.sendToolListChanged().catch(() => {});
  });
  const previousOnClose = server.onclose;
  server.onclose = () => {
    unsubscribe();
    previousOnClose?.();
  };
  return server;
}

/**
 * Runs `work` in the request's gateway session; a sessionless request that names none gets a
 * session of its own, closed when the work is done (nothing else could ever reach it).
 */
async function withSession<T>(ctx: ServerContext, registry: SessionRegistry, work: (sessionId: string) => Promise<T>): Promise<T> {
  const headers = ctx.http?.req?.headers;
  const named = gatewaySessionIdOf((name) => headers?.get(name) ?? undefined);
  if (named !== undefined) return work(named);
  const ownId = `mcp-${randomUUID()}`;
  try {
    return await work(ownId);
  } finally {
    registry.closeSessionId(ownId);
  }
}

interface ListedTool {
  ref: ToolRef;
  exposed: Tool;
}

/** The scope's tools as its clients see them; on `/mcp` a service that cannot list is left out, not fatal. */
async function listScope(scope: McpScope, toolCalls: ToolCalls, logger: Logger): Promise<ListedTool[]> {
  if (scope !== undefined) {
    return (await toolCalls.listTools(scope)).map((tool) => ({ ref: { service: scope, tool: tool.name }, exposed: tool }));
  }
  const perService = await Promise.all(
    toolCalls.services().map(async (service) => {
      try {
        return (await toolCalls.listTools(service.name)).map((tool) => ({ service: service.name, tool }));
      } catch (error) {
        logger.warn({ service: service.name, err: (error as Error).message }, 'service left out of the aggregated MCP tool list');
        return [];
      }
    }),
  );
  const all = perService.flat();
  const names = buildFunctionNames(AGGREGATE_PREFIX, all.map(({ service, tool }) => ({ service, tool: tool.name })));
  return all.map(({ service, tool }) => ({ ref: { service, tool: tool.name }, exposed: { ...tool, name: names.nameOf(service, tool.name)! } }));
}

async function resolveTool(scope: McpScope, name: string, deps: ProxyDeps): Promise<ToolRef> {
  if (scope !== undefined) return { service: scope, tool: name };
  const match = (await listScope(scope, deps.toolCalls, deps.logger)).find(({ exposed }) => exposed.name === name);
  if (!match) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
  return match.ref;
}

/**
 * A tool call that did not get a result: the caller's mistakes (unknown tool, bad arguments) and
 * the server's own JSON-RPC errors are JSON-RPC errors; the gateway's trouble reaching the server
 * (start failed, timeout, limit) is a tool error the model can read, as SignalWire reads only text.
 */
function toolFailure(error: unknown): CallToolResult {
  if (error instanceof ProtocolError) throw error;
  if (isGatewayError(error) && (error.code === 'UNKNOWN_TOOL' || error.code === 'BAD_REQUEST' || error.details['mcp_error'] !== undefined)) {
    throw protocolFailure(error);
  }
  return { content: [{ type: 'text', text: (error as Error).message }], isError: true };
}

function protocolFailure(error: unknown): ProtocolError {
  if (error instanceof ProtocolError) return error;
  if (!isGatewayError(error)) return new ProtocolError(ProtocolErrorCode.InternalError, 'Internal error');
  const relayed = error.details['mcp_error'] as { code: number; message: string; data?: unknown } | undefined;
  if (relayed !== undefined) return new ProtocolError(relayed.code, relayed.message, relayed.data);
  const isCallerMistake = error.code === 'UNKNOWN_TOOL' || error.code === 'BAD_REQUEST' || error.code === 'UNKNOWN_SERVICE';
  return new ProtocolError(isCallerMistake ? ProtocolErrorCode.InvalidParams : ProtocolErrorCode.InternalError, error.message);
}
