import type { ErrorCode } from '../errors.js';

/** How a tool call ended, as metrics and the admin page name it (SPEC §15). */
export type CallOutcome =
  | 'ok'
  | 'tool_error'
  | 'timeout'
  | 'server_exited'
  | 'mcp_error'
  | 'start_failed'
  | 'session_limit'
  | 'unknown_tool'
  | 'shutting_down'
  | 'cancelled'
  | 'failed';

/** Where a new session's server came from: a pre-started one, a fresh start, or the service's shared one. */
export type SessionStartCause = 'warm' | 'cold' | 'shared';

export interface ToolCallEvent {
  service: string;
  /** A tool name from the service's catalogue, or `other`: label values must stay bounded. */
  tool: string;
  sessionId: string;
  outcome: CallOutcome;
  seconds: number;
}

/**
 * What the core reports as it works. The composition root passes one observer in (metrics, the
 * admin page's recent calls), so the core never knows who listens. Called on the hot path:
 * implementations must be cheap and must not throw.
 */
export interface GatewayEvents {
  toolCallEnded(event: ToolCallEvent): void;
  sessionStarted(service: string, cause: SessionStartCause): void;
}

/** The tool label for a name the catalogue does not know. */
export const OTHER_TOOL = 'other';

export const NO_EVENTS: GatewayEvents = { toolCallEnded: () => {}, sessionStarted: () => {} };

/** One observer that tells several. */
export function fanOut(...observers: GatewayEvents[]): GatewayEvents {
  return {
    toolCallEnded: (event) => {
      for (const observer of observers) observer.toolCallEnded(event);
    },
    sessionStarted: (service, cause) => {
      for (const observer of observers) observer.sessionStarted(service, cause);
    },
  };
}

const OUTCOME_OF_ERROR: Partial<Record<ErrorCode, CallOutcome>> = {
  CALL_TIMEOUT: 'timeout',
  SERVER_EXITED: 'server_exited',
  MCP_ERROR: 'mcp_error',
  START_FAILED: 'start_failed',
  SESSION_LIMIT: 'session_limit',
  UNKNOWN_TOOL: 'unknown_tool',
  SHUTTING_DOWN: 'shutting_down',
};

export function outcomeOfError(code: ErrorCode | undefined, isCancelled: boolean): CallOutcome {
  if (isCancelled) return 'cancelled';
  return (code === undefined ? undefined : OUTCOME_OF_ERROR[code]) ?? 'failed';
}
