import type { JSONRPCMessage } from '@modelcontextprotocol/client';

/** JSON-RPC error code of the answer the gateway substitutes for a result it would not read. */
export const RESULT_TOO_LARGE_CODE = -32099;
/** Enough of either end of a line to find a response's id without keeping the line. */
const EDGE_BYTES = 256;
const ID = String.raw`(-?\d+|"(?:[^"\\]|\\.)*")`;
// Responses put `id` before `result`/`error` (SDK serialisation order) or last; either end is enough.
const ID_AT_HEAD = new RegExp(String.raw`^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*${ID}\s*,\s*"(?:result|error)"`);
const RESPONSE_AT_HEAD = /^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"(?:result|error)"/;
const ID_AT_TAIL = new RegExp(String.raw`,\s*"id"\s*:\s*${ID}\s*(?:,\s*"jsonrpc"\s*:\s*"2\.0"\s*)?\}\s*$`);

/**
 * A stdout line over the size limit, measured as it streams past and never kept: only its
 * length and both ends, so that the request it answers can be failed at once with its size.
 */
export class OversizedLine {
  /** Whether the error answer went out already (from the head; the rest of the line is only counted). */
  isAnswered = false;
  private bytes = 0;
  private head = Buffer.alloc(0);
  private tail = Buffer.alloc(0);

  add(piece: Buffer): void {
    this.bytes += piece.length;
    if (this.head.length < EDGE_BYTES) this.head = Buffer.concat([this.head, piece.subarray(0, EDGE_BYTES - this.head.length)]);
    const recent = piece.length >= EDGE_BYTES ? piece : Buffer.concat([this.tail, piece]);
    // A copy: a view would keep the whole chunk alive.
    this.tail = Buffer.from(recent.subarray(Math.max(0, recent.length - EDGE_BYTES)));
  }

  get size(): number {
    return this.bytes;
  }

  /**
   * The error answer to put in the response's place, or undefined when the line is not a
   * recognisable response. Before `isComplete` only the head is read: the request is failed as
   * soon as the limit is crossed, not when (if ever) the server finishes writing.
   */
  errorAnswer(limitBytes: number, isComplete: boolean): JSONRPCMessage | undefined {
    const head = this.head.toString('latin1');
    let idText = ID_AT_HEAD.exec(head)?.[1];
    if (idText === undefined && isComplete && RESPONSE_AT_HEAD.test(head)) idText = ID_AT_TAIL.exec(this.tail.toString('latin1'))?.[1];
    if (idText === undefined) return undefined;
    return {
      jsonrpc: '2.0',
      id: JSON.parse(idText) as string | number,
      error: {
        code: RESULT_TOO_LARGE_CODE,
        message: `result of ${isComplete ? '' : 'more than '}${this.bytes} bytes is over max_result_bytes (${limitBytes})`,
        data: { resultBytes: this.bytes, isComplete, maxResultBytes: limitBytes },
      },
    } as JSONRPCMessage;
  }
}
