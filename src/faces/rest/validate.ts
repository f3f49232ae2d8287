import { GatewayError } from '../../errors.js';
import { isPlainObject } from '../../json.js';

/** Name rules of SPEC §4. Tool names follow MCP (1..128, `.` allowed). */
const NAME_RULES = {
  service: { label: 'service name', pattern: /^[A-Za-z0-9_-]+$/, max: 64 },
  tool: { label: 'tool name', pattern: /^[A-Za-z0-9_.-]+$/, max: 128 },
  session: { label: 'session ID', pattern: /^[A-Za-z0-9_.-]+$/, max: 128 },
} as const;

type NameKind = keyof typeof NAME_RULES;

export function checkName(kind: NameKind, value: string): void {
  const rule = NAME_RULES[kind];
  if (value.length < 1 || value.length > rule.max) throw badRequest(`Invalid ${rule.label} length`);
  if (!rule.pattern.test(value)) {
    throw badRequest(`${rule.label[0]!.toUpperCase()}${rule.label.slice(1)} contains invalid characters`);
  }
}

export interface CallBody {
  tool: string;
  session_id: string;
  arguments: Record<string, unknown>;
  timeout?: number;
  metadata?: Record<string, unknown>;
}

/** Validates a `POST /services/<name>/call` body with the reference's messages (SPEC §4.1); unknown fields are ignored. */
export function parseCallBody(body: unknown): CallBody {
  if (!isPlainObject(body)) throw badRequest('Invalid JSON');
  const { tool, session_id: sessionId, arguments: args = {}, timeout, metadata } = body;
  if (typeof tool !== 'string' || tool === '') throw badRequest("Missing 'tool' parameter");
  if (typeof sessionId !== 'string' || sessionId === '') throw badRequest("Missing 'session_id' parameter");
  checkName('tool', tool);
  checkName('session', sessionId);
  if (!isPlainObject(args)) throw badRequest("Invalid 'arguments' parameter");
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0 && timeout <= 3600))) {
    throw badRequest("Invalid 'timeout' parameter");
  }
  if (metadata !== undefined && !isPlainObject(metadata)) throw badRequest("Invalid 'metadata' parameter");
  return { tool, session_id: sessionId, arguments: args, timeout, metadata };
}

function badRequest(message: string): GatewayError {
  return new GatewayError('BAD_REQUEST', message);
}
