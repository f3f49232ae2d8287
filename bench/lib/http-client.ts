/**
 * A keep-alive JSON client on node:http. Lighter than fetch (undici) per request, and the bench
 * runs in the gateway's process, so every microsecond the client spends is also one the gateway
 * does not get: the cheapest honest client keeps the numbers about the gateway.
 */
import { Agent, request } from 'node:http';

export interface JsonResponse {
  status: number;
  body: any;
}

export interface JsonClient {
  send(method: string, path: string, body?: unknown): Promise<JsonResponse>;
  /** Ends the idle keep-alive sockets. */
  close(): void;
}

export function createJsonClient(origin: string, authorization: string): JsonClient {
  const url = new URL(origin);
  // One socket per in-flight request, reused across requests (no TCP handshake per call).
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const host = url.hostname;
  const port = Number(url.port);

  const send = (method: string, path: string, body?: unknown): Promise<JsonResponse> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string | number> = { authorization };
      if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(payload);
      }
      const req = request({ agent, host, port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) });
          } catch (error) {
            reject(new Error(`${method} ${path}: ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`, { cause: error }));
          }
        });
      });
      req.on('error', reject);
      req.end(payload);
    });

  return { send, close: () => agent.destroy() };
}

/** Throws unless the response has the expected status; the message carries the gateway's error. */
export function expectStatus(response: JsonResponse, status: number, what: string): JsonResponse {
  if (response.status !== status) {
    throw new Error(`${what}: expected HTTP ${status}, got ${response.status}: ${JSON.stringify(response.body)?.slice(0, 300)}`);
  }
  return response;
}
