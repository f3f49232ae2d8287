import type { CallToolResult } from '@modelcontextprotocol/client';
import { renderResultText } from '../render.js';
import { isPlainObject } from '../../json.js';

/** The SWAIG function reply (swaig-protocol.md §2.1); sent with HTTP 200 whatever happened. */
export interface SwaigReply {
  response: string;
  action?: unknown[];
  post_process?: boolean;
}

const TRUNCATION_MARKER = '… [truncated]';

/**
 * The reply for a tool result (SPEC §9): the same text as the REST `result`, `Tool error: ` in
 * front when the tool failed, at most `maxChars` UTF-16 units long including the marker.
 * A result's `_meta.swaig.action` / `post_process` pass through, so an MCP server can make the
 * call say something, transfer or hang up.
 */
export function renderSwaigResponse(result: CallToolResult, maxChars: number): SwaigReply {
  const text = renderResultText(result);
  const reply: SwaigReply = { response: truncate(result.isError === true ? `Tool error: ${text}` : text, maxChars) };
  const swaig = result._meta?.swaig;
  if (!isPlainObject(swaig)) return reply;
  // SWAIG takes one action object or an array of them; the reply always uses the array form.
  if (Array.isArray(swaig.action)) reply.action = swaig.action;
  else if (isPlainObject(swaig.action)) reply.action = [swaig.action];
  if (typeof swaig.post_process === 'boolean') reply.post_process = swaig.post_process;
  return reply;
}

function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  // Too small for the marker to fit: a bare cut still honours the limit.
  if (maxChars < TRUNCATION_MARKER.length) return cutAt(text, Math.max(0, maxChars));
  return `${cutAt(text, maxChars - TRUNCATION_MARKER.length).trimEnd()}${TRUNCATION_MARKER}`;
}

/** Cuts to at most `end` UTF-16 units without splitting a surrogate pair (an emoji). */
function cutAt(text: string, end: number): string {
  const last = text.charCodeAt(end - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? end - 1 : end);
}

