import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/client';
import { OversizedLine } from './oversized-line.js';
import type { ProcessHandle } from './process.js';

/**
 * SDK Transport over a process we own (see process.ts for why we do not use the SDK's stdio
 * transport). Framing is newline-delimited JSON; a line that is not a JSON-RPC message is reported
 * through `onNoise` and skipped, never fatal (SPEC §6).
 */
export class ProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private oversized: OversizedLine | undefined;
  private closed = false;

  /**
   * `maxLineBytes` bounds one message (a tool result): a longer line is measured and skipped, and
   * the request it answers gets an error saying how large it was instead of waiting for a timeout.
   */
  constructor(
    private readonly handle: ProcessHandle,
    private readonly maxLineBytes: number,
    private readonly onNoise: (line: string) => void = () => {},
  ) {}

  /**
   * `pid` and `stderr` make the SDK recognise a stdio transport (it checks for the two properties,
   * not a class): an unanswered `server/discover` probe then means "legacy server" instead of an
   * HTTP outage, so a server too busy starting to answer the probe in time still connects.
   */
  get pid(): number {
    return this.handle.pid;
  }

  /** Drained by the process handle into its ring (see `Upstream.stderrTail`), never by the SDK. */
  get stderr(): null {
    return null;
  }

  async start(): Promise<void> {
    this.handle.stdout.on('data', (chunk: Buffer) => this.receive(chunk));
    void this.handle.exited.then(() => this.markClosed());
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error('MCP server process is gone');
    this.handle.stdin.write(`${JSON.stringify(message)}\n`);
  }

  /** Closing the transport ends the process tree; the gateway never waits for that on a hot path. */
  async close(): Promise<void> {
    void this.handle.close();
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.();
  }

  private receive(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(10, start);
      const piece = chunk.subarray(start, newline === -1 ? chunk.length : newline);
      if (this.oversized === undefined && this.pendingBytes + piece.length > this.maxLineBytes) {
        this.oversized = new OversizedLine();
        for (const earlier of this.pending) this.oversized.add(earlier);
        this.pending = [];
        this.pendingBytes = 0;
        this.oversized.add(piece);
        this.answerOversized(false);
      } else if (this.oversized !== undefined) {
        this.oversized.add(piece);
      } else if (piece.length > 0) {
        this.pending.push(piece);
        this.pendingBytes += piece.length;
      }
      if (newline === -1) return;
      this.endLine();
      start = newline + 1;
    }
  }

  private endLine(): void {
    if (this.oversized !== undefined) {
      const line = this.oversized;
      this.answerOversized(true);
      this.oversized = undefined;
      this.onerror?.(new Error(`MCP server wrote a line of ${line.size} bytes, over ${this.maxLineBytes}; skipped`));
      return;
    }
    const line = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    this.dispatch(line.toString('utf8'));
  }

  private answerOversized(isComplete: boolean): void {
    const line = this.oversized;
    if (line === undefined || line.isAnswered) return;
    const answer = line.errorAnswer(this.maxLineBytes, isComplete);
    if (answer === undefined) return;
    line.isAnswered = true;
    this.onmessage?.(answer);
  }

  private dispatch(line: string): void {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.trim() === '') return;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.onNoise(text);
      return;
    }
    if (typeof message !== 'object' || message === null || (message as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
      this.onNoise(text);
      return;
    }
    this.onmessage?.(message as JSONRPCMessage);
  }
}
