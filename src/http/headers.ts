import type { SecurityConfig } from '../config/types.js';

/**
 * The headers every response carries (SPEC §3.1). Computed once at startup: they depend only on
 * the config and on whether the server listens with TLS (HSTS over plain HTTP is meaningless).
 */
export function securityHeaders(opts: { isTls: boolean; security: SecurityConfig }): Record<string, string> {
  const headers: Record<string, string> = {
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'X-XSS-Protection': '1; mode=block',
    'Referrer-Policy': 'strict-origin-when-cross-origin',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  };
  if (opts.isTls && opts.security.use_hsts) {
    headers['Strict-Transport-Security'] = `max-age=${opts.security.hsts_max_age}; includeSubDomains`;
  }
  return headers;
}

/**
 * CORS headers for one request (SPEC §3.1): none unless `cors_origins` is configured. A matching
 * origin is echoed rather than answered with `*`, and `Vary: Origin` keeps caches from serving
 * one origin's answer to another.
 */
export function corsHeaders(origin: string | undefined, allowed: string[]): Record<string, string> {
  if (allowed.length === 0) return {};
  const isAllowed =
    origin !== undefined &&
    origin !== '' &&
    allowed.some((entry) => entry === '*' || normalizeOrigin(entry) === normalizeOrigin(origin));
  if (!isAllowed) return { Vary: 'Origin' };
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
    'Access-Control-Allow-Headers': 'Authorization, Content-Type',
    // Without this a browser client cannot read the request id or the rate-limit state (§3.3, §8).
    'Access-Control-Expose-Headers': 'X-Request-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset',
    Vary: 'Origin',
  };
}

/** Scheme and host are case-insensitive; a configured trailing slash is a common typo. */
function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}

/**
 * Host header allow-list (SPEC §3.1, `*` = any). Compares host names without the port, ignoring
 * case and a trailing dot; IPv6 literals may be listed with or without brackets. An empty list
 * allows nothing, so an unrestricted gateway needs `["*"]` from the config defaults.
 */
export function isHostAllowed(hostHeader: string | undefined, allowed: string[]): boolean {
  if (allowed.includes('*')) return true;
  const host = hostHeader === undefined ? undefined : hostName(hostHeader);
  if (host === undefined) return false;
  return allowed.some((entry) => hostName(entry) === host);
}

/** `Example.COM:8080` → `example.com`, `[::1]:8080` → `::1`; undefined when malformed. */
function hostName(value: string): string | undefined {
  const text = value.trim().toLowerCase();
  let host: string;
  let rest: string;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) return undefined;
    host = text.slice(1, end);
    rest = text.slice(end + 1);
  } else {
    const colon = text.indexOf(':');
    // More than one colon: an unbracketed IPv6 address (only in config entries), no port.
    const isBareIpv6 = colon >= 0 && text.indexOf(':', colon + 1) >= 0;
    host = colon < 0 || isBareIpv6 ? text : text.slice(0, colon);
    rest = colon < 0 || isBareIpv6 ? '' : text.slice(colon);
  }
  if (rest !== '' && !/^:\d{0,5}$/.test(rest)) return undefined;
  host = host.replace(/\.$/, '');
  return host === '' ? undefined : host;
}
