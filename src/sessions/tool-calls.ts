import type { CallToolResult, Tool } from '@modelcontextprotocol/client';
import type { Logger } from 'pino';
import type { Config, ServiceConfig } from '../config/types.js';
import { GatewayError, isGatewayError } from '../errors.js';
import type { ToolCatalogue } from '../upstream/catalogue.js';
import type { CallOptions } from '../upstream/mcp-client.js';
import { NO_EVENTS, OTHER_TOOL, outcomeOfError, type CallOutcome, type GatewayEvents } from './events.js';
import { enabledService, type SessionRegistry } from './registry.js';
import type { Session } from './session.js';

export interface ToolCallRequest {
  service: string;
  sessionId: string;
  tool: string;
  arguments: Record<string, unknown>;
  /** Idle timeout (seconds) of the session this call creates, if it creates one. */
  idleTimeoutSec?: number;
  metadata?: Record<string, unknown>;
  /** Aborted when the caller went away: the call is cancelled upstream. */
  signal?: AbortSignal;
  /** Progress notifications of the server, for a face that relays them (MCP). */
  onProgress?: CallOptions['onProgress'];
  /** The caller's own limit (ms) for the whole call, start included, that progress cannot extend (SWAIG). */
  budgetMs?: number;
}

/** A request other than a tool call (resources, prompts), relayed to the session's own server. */
export interface RelayRequest {
  service: string;
  sessionId: string;
  method: string;
  params: Record<string, unknown>;
  /** What the server must have declared; without it the answer is `undefined` and nothing is sent. */
  capability: 'resources' | 'prompts';
  signal?: AbortSignal;
}

export interface ToolCallOutcome {
  result: CallToolResult;
  sessionCreated: boolean;
}

/** Progress may extend a call, but never past this multiple of `call_timeout` (SPEC §6). */
export const PROGRESS_CEILING_FACTOR = 10;
export const MAX_CALL_MS = 3_600_000;
/** How long (at most; never longer than its call_timeout) a server whose call timed out has to answer a ping before it counts as wedged. */
const WEDGE_PING_MS = 5_000;

/**
 * What every face does with a tool: look it up in the catalogue, find or start the session, call
 * it. Faces (REST, SWAIG) only translate wire shapes around these functions.
 */
export class ToolCalls {
  constructor(
    private readonly deps: {
      config: Pick<Config, 'services'>;
      registry: SessionRegistry;
      catalogue: ToolCatalogue;
      logger: Logger;
      now: () => number;
      events?: GatewayEvents;
    },
  ) {}

  /** Enabled services in configuration order. */
  services(): ServiceConfig[] {
    return Object.values(this.deps.config.services).filter((service) => service.enabled);
  }

  service(name: string): ServiceConfig {
    return enabledService(this.deps.config, name);
  }

  cachedTools(serviceName: string): Tool[] | undefined {
    return this.deps.catalogue.cached(serviceName);
  }

  async listTools(serviceName: string): Promise<Tool[]> {
    this.service(serviceName);
    return this.deps.catalogue.tools(serviceName);
  }

  /** Calls a tool and reports how it ended (outcome, duration) to the gateway's observers. */
  async call(request: ToolCallRequest): Promise<ToolCallOutcome> {
    const deadline = request.budgetMs === undefined ? Infinity : this.deps.now() + request.budgetMs;
    const service = this.service(request.service);
    const events = this.deps.events ?? NO_EVENTS;
    const started = performance.now();
    let tool = OTHER_TOOL;
    let outcome: CallOutcome = 'failed';
    try {
      const { catalogue } = this.deps;
      if (!catalogue.knows(service.name, request.tool) && !(await catalogue.hasTool(service.name, request.tool))) {
        throw new GatewayError('UNKNOWN_TOOL', `Unknown tool: ${request.tool}`);
      }
      tool = request.tool;
      const answer = await this.callKnownTool(service, request, deadline);
      outcome = answer.result.isError === true ? 'tool_error' : 'ok';
      return answer;
    } catch (error) {
      outcome = outcomeOfError(isGatewayError(error) ? error.code : undefined, request.signal?.aborted === true);
      throw error;
    } finally {
      events.toolCallEnded({ service: service.name, tool, sessionId: request.sessionId, outcome, seconds: (performance.now() - started) / 1000 });
    }
  }

  private async callKnownTool(service: ServiceConfig, request: ToolCallRequest, deadline: number): Promise<ToolCallOutcome> {
    const { registry } = this.deps;
    const live = registry.live(service.name, request.sessionId);
    const { session, created } = live
      ? { session: live, created: false }
      : await registry.acquire(service.name, request.sessionId, { idleTimeoutSec: request.idleTimeoutSec, metadata: request.metadata });
    session.calls += 1;
    this.deps.logger.info(
      { event: 'tool_call', service: service.name, tool: request.tool, sessionId: request.sessionId, sessionCreated: created },
      'tool call',
    );
    const leftMs = Math.max(deadline - this.deps.now(), 1);
    const timeoutMs = Math.min(service.call_timeout * 1000, leftMs);
    session.inFlight += 1;
    try {
      const result = await session.upstream.callTool(request.tool, request.arguments, {
        timeoutMs,
        maxTotalMs: Math.min(timeoutMs * PROGRESS_CEILING_FACTOR, MAX_CALL_MS, leftMs),
        signal: request.signal,
        onProgress: request.onProgress,
      });
      // A long call counts as activity: the idle clock starts when it ends.
      session.lastAccessed = this.deps.now();
      return { result, sessionCreated: created };
    } catch (error) {
      // An error answer is activity; a timeout is not, or a wedged server would never expire.
      if (isGatewayError(error, 'MCP_ERROR')) session.lastAccessed = this.deps.now();
      if (isGatewayError(error, 'CALL_TIMEOUT') && !request.signal?.aborted) void this.replaceIfWedged(session, request.tool, Math.min(timeoutMs, WEDGE_PING_MS));
      throw error;
    } finally {
      session.inFlight -= 1;
      // Replace the warm server this session may have taken only once its first answer is on its
      // way: spawning blocks the event loop for ~5 ms (measured), which the first call should not wait for.
      if (created) setImmediate(() => this.deps.registry.warmUp(service.name));
    }
  }

  /** Relays a request to the session's server (started by this call if needed). */
  async relay(request: RelayRequest): Promise<Record<string, unknown> | undefined> {
    const service = this.service(request.service);
    const { session } = await this.deps.registry.acquire(service.name, request.sessionId);
    if (!session.upstream.supports(request.capability)) return undefined;
    const timeoutMs = service.call_timeout * 1000;
    session.inFlight += 1;
    try {
      const answer = await session.upstream.relay(request.method, request.params, { timeoutMs, maxTotalMs: timeoutMs, signal: request.signal });
      // Only an answer keeps a session alive: a server that answers nothing must still expire.
      session.lastAccessed = this.deps.now();
      return answer;
    } finally {
      session.inFlight -= 1;
    }
  }

  /**
   * A call timed out: a server that does not answer a ping either (stopped, spinning, deadlocked)
   * is killed, which closes its sessions, so the next call starts a fresh one (`session_created`).
   */
  private async replaceIfWedged(session: Session, tool: string, pingTimeoutMs: number): Promise<void> {
    const { upstream } = session;
    if (!upstream.isAlive || (await upstream.answersPing(pingTimeoutMs))) return;
    if (!upstream.isAlive) return;
    this.deps.logger.warn(
      { event: 'server_wedged', service: session.service, sessionId: session.id, tool, pid: upstream.pid },
      'mcp server answers nothing, not even ping; replacing it',
    );
    upstream.terminate(`stopped answering: no reply to a ping after a call to '${tool}' timed out`);
  }
}
