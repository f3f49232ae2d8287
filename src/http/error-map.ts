import type { ErrorCode, GatewayError } from '../errors.js';

/** The one table from error code to HTTP status (SPEC §4.1). `satisfies` makes a new code without a status a type error. */
const STATUS = {
  BAD_REQUEST: 400,
  UNKNOWN_SERVICE: 404,
  UNKNOWN_TOOL: 404,
  SESSION_LIMIT: 503,
  START_FAILED: 502,
  SERVER_EXITED: 502,
  CALL_TIMEOUT: 504,
  MCP_ERROR: 502,
  RATE_LIMITED: 429,
  SHUTTING_DOWN: 503,
  // nginx's "client closed request": nobody reads it, but the access log says what happened.
  CLIENT_CLOSED: 499,
} as const satisfies Record<ErrorCode, number>;

/** Invalid params and unknown method are the caller's mistake, not the server's trouble (SPEC §4.1). */
const CLIENT_MCP_ERRORS = new Set([-32602, -32601]);

/** How long a client refused for capacity should wait before trying again. */
export const RETRY_AFTER_SECONDS = 5;

export function httpStatusFor(error: GatewayError): number {
  if (error.code === 'MCP_ERROR') {
    const mcpError = error.details['mcp_error'] as { code?: number } | undefined;
    if (mcpError?.code !== undefined && CLIENT_MCP_ERRORS.has(mcpError.code)) return 400;
  }
  return STATUS[error.code];
}

/** `{"error": message}` plus the structured details a client can use (`mcp_error`). */
export function errorBody(error: GatewayError): Record<string, unknown> {
  const body: Record<string, unknown> = { error: error.message };
  if (error.details['mcp_error'] !== undefined) body['mcp_error'] = error.details['mcp_error'];
  return body;
}

export function extraHeadersFor(error: GatewayError): Record<string, string> {
  return STATUS[error.code] === 503 ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : {};
}
