import { describe, expect, test } from 'vitest';
import { securityConfig as security } from '../helpers/config.js';
import { corsHeaders, isHostAllowed, securityHeaders } from '../../src/http/headers.js';


const BASELINE = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'X-XSS-Protection': '1; mode=block',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
};

describe('securityHeaders (§3.1)', () => {
  test.each([
    { why: 'plain HTTP: no HSTS', isTls: false, config: {}, expected: BASELINE },
    {
      why: 'HTTPS: HSTS with the default max-age',
      isTls: true,
      config: {},
      expected: { ...BASELINE, 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' },
    },
    {
      why: 'HTTPS: HSTS with the configured max-age',
      isTls: true,
      config: { hsts_max_age: 600 },
      expected: { ...BASELINE, 'Strict-Transport-Security': 'max-age=600; includeSubDomains' },
    },
    { why: 'HTTPS with use_hsts false: no HSTS', isTls: true, config: { use_hsts: false }, expected: BASELINE },
  ])('$why', ({ isTls, config, expected }) => {
    expect(securityHeaders({ isTls, security: security(config) })).toEqual(expected);
  });
});

const CORS_ALLOWED = {
  'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type',
  'Access-Control-Expose-Headers': 'X-Request-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset',
  Vary: 'Origin',
};

describe('corsHeaders (§3.1)', () => {
  test.each([
    { why: 'not configured: nothing, even for an origin', origin: 'https://app.example', allowed: [], expected: {} },
    { why: 'not configured, no origin', origin: undefined, allowed: [], expected: {} },
    {
      why: '* allows any origin and echoes it',
      origin: 'https://app.example',
      allowed: ['*'],
      expected: { 'Access-Control-Allow-Origin': 'https://app.example', ...CORS_ALLOWED },
    },
    {
      why: 'listed origin is echoed',
      origin: 'https://app.example',
      allowed: ['https://other.example', 'https://app.example'],
      expected: { 'Access-Control-Allow-Origin': 'https://app.example', ...CORS_ALLOWED },
    },
    {
      why: 'listed origin matches ignoring case and a trailing slash',
      origin: 'https://App.Example',
      allowed: ['https://app.example/'],
      expected: { 'Access-Control-Allow-Origin': 'https://App.Example', ...CORS_ALLOWED },
    },
    { why: 'unlisted origin: only Vary', origin: 'https://evil.example', allowed: ['https://app.example'], expected: { Vary: 'Origin' } },
    { why: 'other scheme is another origin', origin: 'http://app.example', allowed: ['https://app.example'], expected: { Vary: 'Origin' } },
    { why: 'other port is another origin', origin: 'https://app.example:8443', allowed: ['https://app.example'], expected: { Vary: 'Origin' } },
    { why: 'no Origin header (not a browser)', origin: undefined, allowed: ['*'], expected: { Vary: 'Origin' } },
    { why: 'empty Origin header', origin: '', allowed: ['*'], expected: { Vary: 'Origin' } },
  ])('$why', ({ origin, allowed, expected }) => {
    expect(corsHeaders(origin, allowed)).toEqual(expected);
  });
});

describe('isHostAllowed (§3.1)', () => {
  test.each([
    { why: '* allows any host', host: 'anything.example:1234', allowed: ['*'], expected: true },
    { why: '* allows a missing Host', host: undefined, allowed: ['*'], expected: true },
    { why: 'listed host', host: 'gw.example', allowed: ['gw.example'], expected: true },
    { why: 'port is ignored', host: 'gw.example:8100', allowed: ['gw.example'], expected: true },
    { why: 'port in the config entry is ignored', host: 'gw.example', allowed: ['gw.example:443'], expected: true },
    { why: 'case-insensitive', host: 'GW.Example:8100', allowed: ['gw.EXAMPLE'], expected: true },
    { why: 'trailing dot (FQDN) is the same host', host: 'gw.example.:8100', allowed: ['gw.example'], expected: true },
    { why: 'empty port', host: 'gw.example:', allowed: ['gw.example'], expected: true },
    { why: 'unlisted host', host: 'evil.example', allowed: ['gw.example'], expected: false },
    { why: 'suffix is not a match', host: 'evilgw.example', allowed: ['gw.example'], expected: false },
    { why: 'subdomain is not a match', host: 'a.gw.example', allowed: ['gw.example'], expected: false },
    { why: 'IPv4 with port', host: '127.0.0.1:8100', allowed: ['127.0.0.1'], expected: true },
    { why: 'IPv6 literal with port, config bracketed', host: '[::1]:8100', allowed: ['[::1]'], expected: true },
    { why: 'IPv6 literal with port, config bare', host: '[::1]:8100', allowed: ['::1'], expected: true },
    { why: 'IPv6 literal without port', host: '[2001:DB8::1]', allowed: ['2001:db8::1'], expected: true },
    { why: 'other IPv6 address', host: '[::2]:8100', allowed: ['::1'], expected: false },
    { why: 'unclosed IPv6 bracket', host: '[::1:8100', allowed: ['::1'], expected: false },
    { why: 'non-numeric port', host: 'gw.example:http', allowed: ['gw.example'], expected: false },
    { why: 'missing Host', host: undefined, allowed: ['gw.example'], expected: false },
    { why: 'empty Host', host: '', allowed: ['gw.example'], expected: false },
    { why: 'empty allow-list allows nothing', host: 'gw.example', allowed: [], expected: false },
  ])('$why → $expected', ({ host, allowed, expected }) => {
    expect(isHostAllowed(host, allowed)).toBe(expected);
  });
});
