import { SdkHttpError, SSEClientTransport, StreamableHTTPClientTransport, type FetchLike, type Transport } from '@modelcontextprotocol/client';
import type { ServiceConfig } from '../config/types.js';
import type { GatewayError } from '../errors.js';
import { startFailed, Upstream, type HandshakeOptions, type ServerLink } from './mcp-client.js';
import type { ExitInfo } from './process.js';

/** How long a session's closing DELETE may take before the gateway stops waiting for it. */
const TERMINATE_TIMEOUT_MS = 2000;
/** Answers to a first Streamable HTTP POST that mean "this is a legacy HTTP+SSE server" (spec 2025-03-26 §backwards compatibility). */
const SSE_FALLBACK_STATUSES = new Set([400, 404, 405]);

/**
 * One remote MCP session (SPEC §13): the gateway's own `Mcp-Session-Id` at the server, ended by
 * a DELETE. A 404 on a request that carried the session id means the server forgot the session
 * (restart): the link counts as ended, so the registry closes the gateway session and the next
 * call opens a fresh one instead of failing forever.
 */
class RemoteLink implements ServerLink {
  readonly pid = undefined;
  readonly stderr = { tail: (): string[] => [] };
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private markExited!: (exit: ExitInfo) => void;
  private closing: Promise<void> | undefined;
  transport: Transport | undefined;

  constructor() {
    this.exited = new Promise((resolve) => (this.markExited = resolve));
  }

  get isAlive(): boolean {
    return this.exitInfo === undefined;
  }

  get exitStatus(): ExitInfo | undefined {
    return this.exitInfo;
  }

  end(reason: string): void {
    if (this.exitInfo) return;
    this.exitInfo = { code: null, signal: null, reason };
    this.markExited(this.exitInfo);
  }

  /** Watches the transport's requests for the server forgetting the session. */
  readonly fetch: FetchLike = async (url, init) => {
    const response = await fetch(url, init);
    if (response.status === 404 && new Headers(init?.headers).has('mcp-session-id')) {
      this.end('the remote server no longer knows the session (HTTP 404)');
    }
    return response;
  };

  killNow(): void {
    void this.close();
  }

  close(): Promise<void> {
    this.closing ??= this.terminate();
    return this.closing;
  }

  private async terminate(): Promise<void> {
    const transport = this.transport;
    if (transport instanceof StreamableHTTPClientTransport && transport.sessionId !== undefined && this.isAlive) {
      // Best effort: a server that is down cannot be told, and must not hold the session's close.
      await Promise.race([transport.terminateSession().catch(() => {}), delay(TERMINATE_TIMEOUT_MS)]);
    }
    this.end('session closed');
    await transport?.close().catch(() => {});
  }
}

/**
 * Opens an MCP session with a remote server: Streamable HTTP, legacy HTTP+SSE, or `auto`
 * (Streamable HTTP, falling back to SSE when the server answers the first POST as a legacy
 * server would). Every failure is a START_FAILED naming the service and the reason, never a
 * header value.
 */
export async function connectRemote(service: ServiceConfig, options: HandshakeOptions): Promise<Upstream> {
  const url = new URL(service.url!);
  const open = async (kind: 'streamable-http' | 'sse'): Promise<Upstream> => {
    const link = new RemoteLink();
    const init = { requestInit: { headers: service.headers }, fetch: link.fetch };
    const transport = kind === 'sse' ? new SSEClientTransport(url, init) : new StreamableHTTPClientTransport(url, init);
    link.transport = transport;
    const upstream = await Upstream.handshake(options, link, transport, async (error) => remoteFailure(service.name, url, error));
    if (kind === 'sse') {
      // A legacy session lives as long as its event stream. The SDK's EventSource would reconnect
      // into a new, empty session at the server and carry on as if nothing happened; ending the
      // link instead makes the loss visible (the registry closes the gateway session, the next
      // call reports session_created).
      const onerror = transport.onerror;
      transport.onerror = (error) => {
        onerror?.(error);
        link.end('the event stream from the remote server broke');
        void link.close();
      };
    }
    return upstream;
  };
  if (service.transport !== 'auto') return open(service.transport);
  try {
    return await open('streamable-http');
  } catch (error) {
    const status = httpStatusIn(error);
    if (status === undefined || !SSE_FALLBACK_STATUSES.has(status)) throw error;
    return open('sse');
  }
}

function remoteFailure(service: string, url: URL, error: unknown): GatewayError {
  return startFailed(service, describeRemoteFailure(url, error), error);
}

/** The reason a client can act on: refused credentials, an unreachable address, an HTTP status. */
export function describeRemoteFailure(url: URL, error: unknown): string {
  // Origin and path only: a query string or user info may carry a secret.
  const where = `${url.origin}${url.pathname}`;
  const status = httpStatusIn(error);
  if (status === 401 || status === 403) return `${where} refused the configured credentials (HTTP ${status})`;
  if (status !== undefined) return `${where} answered HTTP ${status}`;
  const code = systemErrorCode(error);
  if (code !== undefined) return `cannot reach ${where} (${code})`;
  return `${where}: ${(error as Error).message}`;
}

function httpStatusIn(error: unknown): number | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof SdkHttpError) return cause.status;
  }
  return undefined;
}

/** ECONNREFUSED, ENOTFOUND…: fetch hides them in its error's cause chain. */
function systemErrorCode(error: unknown): string | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  }
  return undefined;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
