import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/client';
import type { ProcessHandle } from './process.js';

/** Same cap as the SDK's ReadBuffer: one line may not exceed 10 MiB. */
const MAX_LINE_BYTES = 10 * 1024 * 1024;

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
  private closed = false;

  constructor(
    private readonly handle: ProcessHandle,
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
    let newline = chunk.indexOf(10);
    while (newline !== -1) {
      const piece = chunk.subarray(start, newline);
      const line = this.pendingBytes === 0 ? piece : Buffer.concat([...this.pending, piece]);
      this.pending = [];
      this.pendingBytes = 0;
      this.dispatch(line.toString('utf8'));
      start = newline + 1;
      newline = chunk.indexOf(10, start);
    }
    if (start < chunk.length) {
      this.pendingBytes += chunk.length - start;
      if (this.pendingBytes > MAX_LINE_BYTES) {
        this.pending = [];
        this.pendingBytes = 0;
        this.onerror?.(new Error(`MCP server wrote a line longer than ${MAX_LINE_BYTES} bytes; dropped`));
        return;
      }
      this.pending.push(chunk.subarray(start));
    }
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
