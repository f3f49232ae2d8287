import { GatewayError, type ErrorCode } from '../../errors.js';
import { isPlainObject } from '../../json.js';
import { sanitize } from '../../log.js';

/**
 * Every sentence the AI hears from the gateway when it cannot give a tool's answer. SWAIG answers
 * HTTP 200 with `{"response": ...}` whatever happened (SPEC §9, swaig-protocol.md §2.1), so this
 * file is to SWAIG what src/http/error-map.ts is to REST (STYLE §2.3). A sentence tells the model
 * what happened and what it may do next; it never carries stack traces, stderr or command lines.
 */
export interface SwaigErrorReply {
  response: string;
}

/** The service the failed call was for, as the model knows it from `[<service>]` descriptions. */
export interface ReplyContext {
  service: string;
}

type Sentence = (error: GatewayError, context: ReplyContext) => string;

/** Tool servers' own error messages reach the model, but never at length (SPEC §10 bounded outputs). */
const MAX_TOOL_MESSAGE_CHARS = 300;

// `satisfies`: a new ErrorCode without a sentence is a type error.
const SENTENCES = {
  BAD_REQUEST: (error) => `The tool gateway could not accept this request: ${clause(error.message)}`,
  UNKNOWN_SERVICE: (_error, { service }) => `The ${service} tools are not available, so this cannot be done right now.`,
  UNKNOWN_TOOL: (_error, { service }) => `The ${service} service no longer offers this function, so this cannot be done right now.`,
  SESSION_LIMIT: (_error, { service }) => `The ${service} service is handling too many calls right now. Try again in a moment.`,
  START_FAILED: (_error, { service }) => `The ${service} service could not be started, so this cannot be done right now.`,
  // The caller must learn that state is gone: the next call starts a fresh server (SPEC §5).
  SERVER_EXITED: (_error, { service }) =>
    `The ${service} service stopped unexpectedly while working on this, and anything it remembered during this call may be lost. Try again if it is still needed.`,
  // The tool may have acted before it was cancelled (SPEC §6), so the model must not assume either way.
  CALL_TIMEOUT: (_error, { service }) =>
    `The ${service} service took too long to answer and the request was cancelled. It may or may not have been carried out.`,
  // Nobody hears it: the platform closed the connection. It may or may not have been carried out either.
  CLIENT_CLOSED: (_error, { service }) => `The request to the ${service} service was cancelled. It may or may not have been carried out.`,
  MCP_ERROR: (error) => {
    const message = toolMessage(error);
    return message === undefined ? 'The tool failed with an internal error.' : `The tool reported an error: ${clause(message)}`;
  },
  RATE_LIMITED: () => 'Too many requests are being made right now. Wait a moment, then try again.',
  SHUTTING_DOWN: () => 'The tool gateway is restarting. Try again in a moment.',
} satisfies Record<ErrorCode, Sentence>;

/** Situations the SWAIG face detects itself, before any core code runs. */
export const SWAIG_REPLIES = {
  unknownFunction: { response: 'This function is not available on the tool gateway.' },
  // Decided here (SPEC §9 is silent): a tool run with `{}` instead of what the model meant could
  // act wrongly; told this, the model can call again with proper arguments.
  invalidArguments: { response: 'The arguments were not a JSON object. Call the function again with its arguments as a JSON object.' },
  missingCallId: { response: 'The call could not be identified (no call_id), so the function was not run.' },
  sessionsClosed: { response: 'The tool sessions of this call are closed.' },
  noSessions: { response: 'This call had no open tool sessions.' },
  unexpected: { response: 'Something went wrong in the tool gateway, so this cannot be done right now.' },
  // SPEC §12: the gateway instance running this call's tools stopped; nothing is replayed.
  ownerFailed: { response: 'The gateway server for this call stopped mid-request, so it may or may not have been done, and what the tools remembered may be lost.' },
  ownerUnreachable: { response: 'The tool gateway server handling this call cannot be reached right now. Try again in a moment.' },
} as const satisfies Record<string, SwaigErrorReply>;

/** Put before the first answer after a takeover: the model must not rely on what the tools held before (SPEC §12). */
export const STATE_LOST_NOTE = 'Note: the tools of this call were restarted and have lost what they held earlier in the call.';

/** The reply for a failed tool call; anything that is not a GatewayError is a gateway bug. */
export function swaigErrorReply(error: unknown, context: ReplyContext): SwaigErrorReply {
  if (!(error instanceof GatewayError)) return SWAIG_REPLIES.unexpected;
  return { response: SENTENCES[error.code](error, context) };
}

/** The MCP server's own message (JSON-RPC error), which often says how to call the tool correctly. */
function toolMessage(error: GatewayError): string | undefined {
  const mcpError = error.details['mcp_error'];
  if (!isPlainObject(mcpError) || typeof mcpError['message'] !== 'string') return undefined;
  // Line breaks become spaces (sanitize would glue the words together); the reply is one sentence.
  const message = sanitize(mcpError['message'].replace(/\s+/gu, ' ').trim(), MAX_TOOL_MESSAGE_CHARS);
  return message === '' ? undefined : message;
}

/** Ends a quoted message as a sentence without doubling its punctuation. */
function clause(message: string): string {
  return /[.!?…]$/u.test(message) ? message : `${message}.`;
}
