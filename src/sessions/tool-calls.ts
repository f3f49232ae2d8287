import type { CallToolResult, Tool } from '@modelcontextprotocol/client';
import type { Logger } from 'pino';
import type { Config, ServiceConfig } from '../config/types.js';
import { GatewayError, isGatewayError } from '../errors.js';
import type { ToolCatalogue } from '../upstream/catalogue.js';
import { NO_EVENTS, OTHER_TOOL, outcomeOfError, type CallOutcome, type GatewayEvents } from './events.js';
import { enabledService, type SessionRegistry } from './registry.js';

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
}

export interface ToolCallOutcome {
  result: CallToolResult;
  sessionCreated: boolean;
}

/** Progress may extend a call, but never past this multiple of `call_timeout` (SPEC §6). */
export const PROGRESS_CEILING_FACTOR = 10;
export const MAX_CALL_MS = 3_600_000;

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
    const service = this.service(request.service);
    const events = this.deps.events ?? NO_EVENTS;
    const started = performance.now();
    let tool = OTHER_TOOL;
    let outcome: CallOutcome = 'failed';
    try {
      if (!(await this.deps.catalogue.hasTool(service.name, request.tool))) {
        throw new GatewayError('UNKNOWN_TOOL', `Unknown tool: ${request.tool}`);
      }
      tool = request.tool;
      const answer = await this.callKnownTool(service, request);
      outcome = answer.result.isError === true ? 'tool_error' : 'ok';
      return answer;
    } catch (error) {
      outcome = outcomeOfError(isGatewayError(error) ? error.code : undefined, request.signal?.aborted === true);
      throw error;
    } finally {
      events.toolCallEnded({ service: service.name, tool, sessionId: request.sessionId, outcome, seconds: (performance.now() - started) / 1000 });
    }
  }

  private async callKnownTool(service: ServiceConfig, request: ToolCallRequest): Promise<ToolCallOutcome> {
    const { session, created } = await this.deps.registry.acquire(service.name, request.sessionId, {
      idleTimeoutSec: request.idleTimeoutSec,
      metadata: request.metadata,
    });
    session.calls += 1;
    this.deps.logger.info(
      { event: 'tool_call', service: service.name, tool: request.tool, sessionId: request.sessionId, sessionCreated: created },
      'tool call',
    );
    const timeoutMs = service.call_timeout * 1000;
    session.inFlight += 1;
    try {
      const result = await session.upstream.callTool(request.tool, request.arguments, {
        timeoutMs,
        maxTotalMs: Math.min(timeoutMs * PROGRESS_CEILING_FACTOR, MAX_CALL_MS),
        signal: request.signal,
      });
      // A long call counts as activity: the idle clock starts when it ends.
      session.lastAccessed = this.deps.now();
      return { result, sessionCreated: created };
    } finally {
      session.inFlight -= 1;
      // Replace the warm server this session may have taken only once its first answer is on its
      // way: spawning blocks the event loop for ~5 ms (measured), which the first call should not wait for.
      if (created) setImmediate(() => this.deps.registry.warmUp(service.name));
    }
  }
}
