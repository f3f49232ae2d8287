import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The header that marks a request forwarded by another instance of the same gateway (SPEC §12). */
export const HOP_HEADER = 'x-gateway-hop';

/** What a verified hop tells the owner. */
export interface Hop {
  /** Instance id of the sender. */
  from: string;
  /** The sender's request id, so both instances log one id for one client request. */
  requestId: string;
  /** sha256 (hex) of the body the sender wrote; the owner checks it once the body is read. */
  bodySha256: string;
}

/**
 * How far a hop's timestamp may be from this instance's clock. Hops are answered in well under a
 * second; the rest covers clock skew between machines. A captured hop can only be replayed
 * unchanged, to the same path, within this window.
 */
const MAX_SKEW_MS = 30_000;
const FIELD = /^[A-Za-z0-9_-]{1,64}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export function sha256Hex(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/**
 * `X-Gateway-Hop: from;ts;body-sha256;request-id;hmac`: HMAC-SHA256 under `cluster.secret` over
 * method, path (with query), body digest, sender, time and request id, so a hop cannot be forged,
 * pointed at another path, or given another body (scale-out.md A1).
 */
export function createHopSigner(secret: string, now: () => number): {
  sign(method: string, path: string, hop: Hop): string;
  verify(method: string, path: string, header: string): Hop | undefined;
} {
  const mac = (method: string, path: string, hop: Hop, ts: string): Buffer =>
    createHmac('sha256', secret).update(`${method}\n${path}\n${hop.bodySha256}\n${hop.from}\n${ts}\n${hop.requestId}`).digest();

  return {
    sign(method, path, hop) {
      const ts = String(now());
      return `${hop.from};${ts};${hop.bodySha256};${hop.requestId};${mac(method, path, hop, ts).toString('base64url')}`;
    },
    verify(method, path, header) {
      const [from, ts, bodySha256, requestId, signature, ...rest] = header.split(';');
      if (rest.length > 0 || signature === undefined || !FIELD.test(from!) || !FIELD.test(requestId!) || !SHA256_HEX.test(bodySha256!)) return undefined;
      if (!/^\d{1,15}$/.test(ts!) || Math.abs(now() - Number(ts)) > MAX_SKEW_MS) return undefined;
      const hop = { from: from!, requestId: requestId!, bodySha256: bodySha256! };
      const expected = mac(method, path, hop, ts!);
      const given = Buffer.from(signature, 'base64url');
      return given.length === expected.length && timingSafeEqual(given, expected) ? hop : undefined;
    },
  };
}
