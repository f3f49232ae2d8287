import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';

/** Headers must arrive within this (or the request timeout, if shorter): no request needs longer. */
const HEADERS_TIMEOUT_MS = 10_000;
/** How often node looks for requests past their deadline; it bounds how late a timeout fires. */
const CHECK_INTERVAL_MS = 1_000;
/** How long the rest of a request answered early (401, 413) is read and thrown away before closing. */
const DISCARD_MS = 5_000;
const MIN_DISCARD_BYTES = 16 * 1024 * 1024;

const CONNECT_REFUSAL = [
  'HTTP/1.1 405 Method Not Allowed',
  'Content-Type: application/json; charset=utf-8',
  'Content-Length: 30',
  'Connection: close',
  '',
  '{"error":"Method not allowed"}',
].join('\r\n');

export interface ConnectionLimits {
  requestTimeoutMs: number;
  /** 0 = no cap. */
  maxConnectionsPerClient: number;
  /** The largest body a route accepts; what is discarded after an early answer is bounded by a multiple of it. */
  maxRequestBytes: number;
}

/** Options node's server takes only at construction: the deadline checks must run often enough. */
export function serverConstructionOptions(): { connectionsCheckingInterval: number } {
  return { connectionsCheckingInterval: CHECK_INTERVAL_MS };
}

/**
 * Bounds what one client can hold: the whole request (headers and body) within the request
 * timeout, a capped number of open connections per address, and an answer to CONNECT (which
 * node otherwise drops without a word).
 */
export function guardConnections(server: Server, limits: ConnectionLimits, logger: Logger): void {
  server.requestTimeout = limits.requestTimeoutMs;
  server.headersTimeout = Math.min(HEADERS_TIMEOUT_MS, limits.requestTimeoutMs);

  server.on('connect', (_request: IncomingMessage, socket: Socket) => {
    socket.on('error', () => socket.destroy());
    socket.end(CONNECT_REFUSAL);
  });

  if (limits.maxConnectionsPerClient === 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const count = (open.get(address) ?? 0) + 1;
    if (count > limits.maxConnectionsPerClient) {
      if (count === limits.maxConnectionsPerClient + 1) logger.warn({ ip: address, limit: limits.maxConnectionsPerClient }, 'connection limit per client reached');
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
}

/**
 * A response sent before its request finished arriving (a 401 from the headers, a 413): closing
 * at once would reset a client still writing its body before it reads the answer (fetch, Python
 * requests). Instead the rest is read and thrown away, up to a bound in bytes and time, and then
 * the connection is closed.
 */
export function discardRestOfRequest(request: IncomingMessage, limits: ConnectionLimits): void {
  if (request.complete) return;
  const socket = request.socket;
  const maxBytes = Math.max(2 * limits.maxRequestBytes, MIN_DISCARD_BYTES);
  let discarded = 0;
  const timer = setTimeout(() => socket.destroy(), DISCARD_MS);
  timer.unref();
  const onData = (chunk: Buffer): void => {
    discarded += chunk.length;
    if (discarded > maxBytes) socket.destroy();
  };
  const stop = (): void => {
    clearTimeout(timer);
    request.off('data', onData);
  };
  request.on('data', onData);
  request.once('end', stop);
  socket.once('close', stop);
}
