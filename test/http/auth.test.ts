import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, onTestFinished, test } from 'vitest';
import type { ServerConfig } from '../../src/config/types.js';
import { createAuthenticator, UNAUTHORIZED_BODY, WWW_AUTHENTICATE } from '../../src/http/auth.js';

function server(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    host: '127.0.0.1',
    port: 0,
    auth_user: 'admin',
    auth_password: 's3cret-pw',
    auth_token: 'tok-123',
    trust_proxy: false,
    request_timeout: 30,
    max_connections_per_client: 256,
    ...overrides,
  };
}

const basic = (userPass: string): string => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;

describe('createAuthenticator (§3.2, §4)', () => {
  test.each([
    { why: 'right Basic', config: {}, header: basic('admin:s3cret-pw'), expected: true },
    { why: 'wrong password', config: {}, header: basic('admin:s3cret-px'), expected: false },
    { why: 'wrong user', config: {}, header: basic('root:s3cret-pw'), expected: false },
    { why: 'password as a prefix', config: {}, header: basic('admin:s3cret-pw-and-more'), expected: false },
    { why: 'lowercase basic scheme', config: {}, header: basic('admin:s3cret-pw').replace('Basic', 'basic'), expected: true },
    { why: 'several spaces after the scheme', config: {}, header: `Basic   ${basic('admin:s3cret-pw').slice(6)}`, expected: true },
    {
      why: 'non-ASCII user and password',
      config: { auth_user: 'jös€', auth_password: 'pässwörd✓' },
      header: basic('jös€:pässwörd✓'),
      expected: true,
    },
    {
      why: 'non-ASCII password encoded as latin1 is not the UTF-8 password',
      config: { auth_user: 'jös€', auth_password: 'pässwörd✓' },
      header: `Basic ${Buffer.from('jös€:pässwörd', 'latin1').toString('base64')}`,
      expected: false,
    },
    {
      why: 'password with colons splits at the first colon',
      config: { auth_password: 'a:b::c:' },
      header: basic('admin:a:b::c:'),
      expected: true,
    },
    { why: 'numeric-looking password stays a string', config: { auth_password: '00123456' }, header: basic('admin:00123456'), expected: true },
    { why: 'numeric-looking password, numeric variant', config: { auth_password: '00123456' }, header: basic('admin:123456'), expected: false },
    { why: 'right Bearer', config: {}, header: 'Bearer tok-123', expected: true },
    { why: 'uppercase BEARER scheme', config: {}, header: 'BEARER tok-123', expected: true },
    { why: 'wrong Bearer', config: {}, header: 'Bearer tok-124', expected: false },
    { why: 'Bearer token as a prefix', config: {}, header: 'Bearer tok-12', expected: false },
    { why: 'Bearer disabled when auth_token is empty', config: { auth_token: '' }, header: 'Bearer ', expected: false },
    { why: 'Bearer disabled: any token', config: { auth_token: '' }, header: 'Bearer tok-123', expected: false },
    { why: 'Basic still works with Bearer disabled', config: { auth_token: '' }, header: basic('admin:s3cret-pw'), expected: true },
    { why: 'non-ASCII Bearer token', config: { auth_token: 'tök€n' }, header: 'Bearer tök€n', expected: true },
    { why: 'Basic disabled when only a token is set: empty credentials', config: { auth_user: '', auth_password: '' }, header: basic(':'), expected: false },
    { why: 'Basic disabled when the password is empty', config: { auth_password: '' }, header: basic('admin:'), expected: false },
    { why: 'token is not a Basic password', config: {}, header: basic('admin:tok-123'), expected: false },
    { why: 'password is not a Bearer token', config: {}, header: 'Bearer s3cret-pw', expected: false },
    { why: 'Bearer token sent as Basic credentials', config: {}, header: 'Basic tok-123', expected: false },
    { why: 'malformed base64', config: {}, header: 'Basic !!!not*base64', expected: false },
    { why: 'base64 with inner spaces', config: {}, header: 'Basic YWRt aW46czNjcmV0LXB3', expected: false },
    { why: 'no colon in the credentials', config: {}, header: basic('admins3cret-pw'), expected: false },
    { why: 'scheme only', config: {}, header: 'Basic', expected: false },
    { why: 'unknown scheme', config: {}, header: 'Digest username="admin"', expected: false },
    { why: 'credentials without scheme', config: {}, header: 'tok-123', expected: false },
    { why: 'empty header', config: {}, header: '', expected: false },
    { why: 'whitespace header', config: {}, header: '   ', expected: false },
    { why: 'missing header', config: {}, header: undefined, expected: false },
    { why: '100 KB of base64', config: {}, header: `Basic ${'QUFB'.repeat(25_600)}`, expected: false },
    { why: '100 KB of spaces', config: {}, header: `Basic a${' '.repeat(102_400)}b`, expected: false },
    { why: '100 KB Bearer', config: {}, header: `Bearer ${'t'.repeat(102_400)}`, expected: false },
  ])('$why → $expected', ({ config, header, expected }) => {
    expect(createAuthenticator(server(config))(header)).toBe(expected);
  });

  test('UTF-8 credentials arriving over a real socket are recognised (§3.2)', async () => {
    const config = server({ auth_user: 'jös€', auth_password: 'pässwörd✓', auth_token: 'tök€n✓' });
    const isAuthorized = createAuthenticator(config);
    const httpServer = createServer((req, res) => {
      res.end(String(isAuthorized(req.headers.authorization)));
    });
    httpServer.listen(0, '127.0.0.1');
    await once(httpServer, 'listening');
    onTestFinished(() => new Promise<void>((resolve) => httpServer.close(() => resolve())));
    const { port } = httpServer.address() as AddressInfo;

    const ask = async (authorization: string): Promise<string> => {
      const req = request({ host: '127.0.0.1', port, headers: { authorization } });
      req.end();
      const [res] = (await once(req, 'response')) as [NodeJS.ReadableStream];
      let body = '';
      for await (const chunk of res) body += String(chunk);
      return body;
    };

    expect(await ask(basic('jös€:pässwörd✓'))).toBe('true');
    // A client writes the token's UTF-8 bytes; Node's http client takes them as a latin1 string.
    expect(await ask(`Bearer ${Buffer.from('tök€n✓', 'utf8').toString('latin1')}`)).toBe('true');
    expect(await ask(`Bearer ${Buffer.from('tök€n', 'utf8').toString('latin1')}`)).toBe('false');
  });

  test('401 body and challenge are the SPEC strings (§4)', () => {
    expect(UNAUTHORIZED_BODY).toEqual({ error: 'Authentication required' });
    expect(JSON.stringify(UNAUTHORIZED_BODY)).toBe('{"error":"Authentication required"}');
    expect(WWW_AUTHENTICATE).toBe('Basic realm="MCP Gateway"');
  });
});
