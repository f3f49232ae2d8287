import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../../config/types.js';
import type { SessionRegistry } from '../../sessions/registry.js';
import type { ToolCalls } from '../../sessions/tool-calls.js';
import type { McpRequest, McpRequestHandler } from './handler.js';
import type { ProxyDeps } from './proxy-server.js';

export interface McpFaceDeps {
  config: Config;
  toolCalls: ToolCalls;
  registry: SessionRegistry;
  logger: Logger;
  now: () => number;
  /** Counts one request of `clientKey` (and its session) against a rate-limit bucket; absent when limiting is off. */
  rateLimit?: (bucket: 'tools' | 'call', clientKey: string, sessionId?: string) => Promise<{ allowed: boolean; limitText: string }>;
  onToolsChanged: ProxyDeps['onToolsChanged'];
}

export interface McpFace {
  routes: ReadonlyArray<{ url: string; methods: string[] }>;
  register(app: FastifyInstance): void;
}

const METHODS = ['GET', 'POST', 'DELETE'];

/**
 * The MCP face's routes (SPEC §13). What answers them (handler.ts, and with it the MCP server SDK)
 * is loaded by the first request: a gateway whose clients only use REST and SWAIG does not carry
 * the server SDK's code in memory (about 2.7 MB of JS heap).
 */
export function createMcpFace(deps: McpFaceDeps): McpFace {
  let handler: Promise<McpRequestHandler> | undefined;
  const loaded = (): Promise<McpRequestHandler> => (handler ??= import('./handler.js').then((module) => module.createMcpRequestHandler(deps)));
  return {
    routes: [
      { url: '/mcp', methods: METHODS },
      { url: '/mcp/:service', methods: METHODS },
    ],
    register(app) {
      for (const url of ['/mcp', '/mcp/:service']) {
        app.route({ method: METHODS, url, config: { limitBucket: 'none' }, handler: async (request: McpRequest, reply) => (await loaded()).serve(request, reply) });
      }
      app.addHook('preClose', async () => {
        if (handler) await (await handler).close();
      });
    },
  };
}
