import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface ForwardRequest {
  /** The owner's instance_url. */
  origin: string;
  method: string;
  /** Path and query, exactly as the client sent them. */
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The client went away: the owner sees its caller go away too, and cancels the call. */
  signal: AbortSignal;
  timeoutMs: number;
}

export interface ForwardAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Why a forward failed. `unreachable`: the request never reached the owner (nothing listens
 * there), so trying again elsewhere is safe. `failed`: it may have reached the owner, which may
 * have run the tool: it is never sent again (tools have side effects, SPEC §12).
 */
export class ForwardError extends Error {
  constructor(
    readonly kind: 'unreachable' | 'failed',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Errors raised before a connection existed: the owner cannot have seen the request. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** A peer that accepts no connection within this is treated like one that refuses. */
const CONNECT_TIMEOUT_MS = 1_000;

/**
 * One hop to the owner over keep-alive connections (SPEC §12: a forwarded call costs one loopback
 * exchange, not a TCP handshake). node:http, not fetch: fetch adds about a millisecond of
 * stream plumbing per request, the whole budget of a hop.
 */
export function createForwarder(): { forward(request: ForwardRequest): Promise<ForwardAnswer>; close(): void } {
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  return {
    forward(request) {
      return new Promise((resolve, reject) => {
        const url = new URL(request.path, request.origin);
        const isHttps = url.protocol === 'https:';
        const send = isHttps ? httpsRequest : httpRequest;
        let isConnected = false;
        const outgoing = send(url, {
          method: request.method,
          agent: isHttps ? agents.https : agents.http,
          headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
          signal: request.signal,
          timeout: request.timeoutMs,
        });
        const connectTimer = setTimeout(() => outgoing.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS);
        outgoing.once('socket', (socket) => {
          const connected = (): void => {
            isConnected = true;
            clearTimeout(connectTimer);
          };
          if (outgoing.reusedSocket || !socket.connecting) connected();
          else socket.once(isHttps ? 'secureConnect' : 'connect', connected);
        });
        outgoing.once('timeout', () => outgoing.destroy(new Error(`no answer within ${request.timeoutMs} ms`)));
        outgoing.once('response', (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.once('end', () => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: Buffer.concat(chunks) }));
          response.once('error', (error) => reject(new ForwardError('failed', error.message, { cause: error })));
        });
        outgoing.once('error', (error: NodeJS.ErrnoException) => {
          clearTimeout(connectTimer);
          const kind = !isConnected && (NOT_CONNECTED.has(error.code ?? '') || error.code === 'ETIMEDOUT') ? 'unreachable' : 'failed';
          reject(new ForwardError(kind, error.message, { cause: error }));
        });
        outgoing.once('close', () => clearTimeout(connectTimer));
        outgoing.end(request.body);
      });
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
