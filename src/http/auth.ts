import * as crypto from 'node:crypto';
import type { ServerConfig } from '../config/types.js';

/** The 401 body and challenge (SPEC §4). */
export const UNAUTHORIZED_BODY = Object.freeze({ error: 'Authentication required' });
export const WWW_AUTHENTICATE = 'Basic realm="MCP Gateway"';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const COLON = 0x3a;
const ASCII = /^[\x00-\x7f]*$/;

/**
 * Checks an `Authorization` header against the configured credentials (SPEC §3.2, §4): Basic
 * with auth_user + auth_password, or `Bearer <auth_token>`; the scheme word in any case.
 * Credentials are compared as UTF-8 bytes through SHA-256 digests, so the comparison takes the
 * same time whatever the input's length or content. Never throws: garbage is simply `false`.
 */
export function createAuthenticator(server: ServerConfig): (authorizationHeader: string | undefined) => boolean {
  // An empty credential never matches: `Basic Og==` (":") must not open a gateway that only
  // configured a token, nor `Bearer ` one that only configured a password.
  const user = server.auth_user === '' || server.auth_password === '' ? undefined : digest(utf8(server.auth_user));
  const password = user === undefined ? undefined : digest(utf8(server.auth_password));
  const token = server.auth_token === '' ? undefined : digest(utf8(server.auth_token));

  return (header) => {
    if (typeof header !== 'string') return false;
    // indexOf/trim, not a regex: a crafted 100 KB header must cost linear time.
    const trimmed = header.trim();
    const gap = trimmed.search(/\s/);
    if (gap < 0) return false;
    const scheme = trimmed.slice(0, gap).toLowerCase();
    const credentials = trimmed.slice(gap + 1).trimStart();

    if (scheme === 'basic' && user !== undefined && password !== undefined) {
      if (!BASE64.test(credentials)) return false;
      const decoded = Buffer.from(credentials, 'base64');
      // user-id cannot contain a colon, the password can (RFC 7617 §2).
      const colon = decoded.indexOf(COLON);
      if (colon < 0) return false;
      const isUser = matches(decoded.subarray(0, colon), user);
      const isPassword = matches(decoded.subarray(colon + 1), password);
      return isUser && isPassword;
    }
    if (scheme === 'bearer' && token !== undefined) {
      // Node hands header values over as latin1 (one char per wire byte), so a UTF-8 token sent
      // on the wire is recovered by latin1; a caller's JS string (fastify inject) is UTF-8.
      // Both readings are checked so neither path is faster; for ASCII they are the same bytes,
      // and one digest is half the cost of the check on every request. What that saves depends
      // only on the caller's own input, never on the token.
      const wire = Buffer.from(credentials, 'latin1');
      if (ASCII.test(credentials)) return matches(wire, token);
      const isWireToken = matches(wire, token);
      const isStringToken = matches(utf8(credentials), token);
      return isWireToken || isStringToken;
    }
    return false;
  };
}

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/** One-shot `crypto.hash` (Node >= 20.12) costs about half a Hash object's update + digest; every request pays one. */
const digest: (bytes: Buffer) => Buffer =
  typeof crypto.hash === 'function' ? (bytes) => crypto.hash('sha256', bytes, 'buffer') : (bytes) => crypto.createHash('sha256').update(bytes).digest();

function matches(candidate: Buffer, expectedDigest: Buffer): boolean {
  return crypto.timingSafeEqual(digest(candidate), expectedDigest);
}
