/**
 * The gateway's one error type. Core code throws only GatewayError; the HTTP face maps codes to
 * statuses in src/http/error-map.ts, the SWAIG face maps them to spoken sentences.
 */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'UNKNOWN_SERVICE'
  | 'UNKNOWN_TOOL'
  | 'SESSION_LIMIT'
  | 'START_FAILED'
  | 'SERVER_EXITED'
  | 'CALL_TIMEOUT'
  | 'MCP_ERROR'
  | 'RATE_LIMITED'
  | 'SHUTTING_DOWN'
  | 'CLIENT_CLOSED';

export class GatewayError extends Error {
  override readonly name = 'GatewayError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function isGatewayError(error: unknown, code?: ErrorCode): error is GatewayError {
  return error instanceof GatewayError && (code === undefined || error.code === code);
}
