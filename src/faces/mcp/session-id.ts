/** The header a client names the gateway session it joins with (SPEC §13), e.g. SignalWire's `${call_id}`. */
export const JOIN_SESSION_HEADER = 'x-session-id';
/** The MCP session the gateway issued at `initialize` (2025-era Streamable HTTP). */
export const MCP_SESSION_HEADER = 'mcp-session-id';

/** Reads one request header, whatever the request object (fastify's or a web Request). */
export type HeaderReader = (name: string) => string | undefined;

/**
 * The gateway session an MCP-face request belongs to: the one it joins by name (`X-Session-Id`),
 * else the one of its MCP session (the gateway's `Mcp-Session-Id` doubles as the gateway session
 * id). Undefined for an `initialize`, and for a sessionless request that names none (it gets a
 * session of its own for that request only). The one place this is decided, so that requests
 * can also be routed by it.
 */
export function gatewaySessionIdOf(header: HeaderReader): string | undefined {
  return nonEmpty(header(JOIN_SESSION_HEADER)) ?? nonEmpty(header(MCP_SESSION_HEADER));
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
