import { randomUUID } from 'node:crypto';
import { WebStandardStreamableHTTPServerTransport, type Server } from '@modelcontextprotocol/server';
import type { McpScope } from './proxy-server.js';

interface OpenSession {
  transport: WebStandardStreamableHTTPServerTransport;
  scope: McpScope;
  lastSeen: number;
}

export interface McpSessionsDeps {
  /** More open MCP sessions than this are refused (each may hold a gateway session). */
  maxSessions: number;
  /** An MCP session unused this long is forgotten, as an idle gateway session is closed. */
  idleMs: number;
  now: () => number;
}

/**
 * The 2025-era MCP sessions of the face: one SDK transport and proxy server per `initialize`,
 * found again by the `Mcp-Session-Id` the gateway issued. Forgetting one only drops the MCP
 * state; the gateway session it used has its own lifetime (idle timeout, DELETE).
 */
export class McpSessions {
  private readonly open = new Map<string, OpenSession>();

  constructor(private readonly deps: McpSessionsDeps) {}

  /** The session `id` if it is open on this endpoint (`scope`). */
  find(id: string, scope: McpScope): WebStandardStreamableHTTPServerTransport | undefined {
    const session = this.open.get(id);
    if (session === undefined || session.scope !== scope) return undefined;
    session.lastSeen = this.deps.now();
    return session.transport;
  }

  /**
   * A transport for a new session, connected to `server`; undefined when the face is full.
   * `json`: the client does not read event streams, so every answer is one JSON body.
   */
  async start(scope: McpScope, server: Server, json: boolean): Promise<WebStandardStreamableHTTPServerTransport | undefined> {
    this.forgetIdle();
    if (this.open.size >= this.deps.maxSessions) return undefined;
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      enableJsonResponse: json,
      onsessioninitialized: (id) => void this.open.set(id, { transport, scope, lastSeen: this.deps.now() }),
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) this.open.delete(transport.sessionId);
    };
    await server.connect(transport);
    return transport;
  }

  get size(): number {
    return this.open.size;
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.open.values()].map(({ transport }) => transport.close()));
  }

  private forgetIdle(): void {
    const now = this.deps.now();
    for (const { transport, lastSeen } of this.open.values()) {
      if (now - lastSeen >= this.deps.idleMs) void transport.close();
    }
  }
}
