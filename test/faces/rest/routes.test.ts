import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BASIC, DEMO_SERVER, fixtureService, startTestGateway, TOKEN, type TestGateway } from '../../helpers/gateway.js';

let gw: TestGateway;
let cancelFile: string;

beforeAll(async () => {
  cancelFile = join(await mkdtemp(join(tmpdir(), 'mcp-gw-cancel-')), 'cancelled.txt');
  gw = await startTestGateway({
    services: {
      fx: fixtureService(),
      todo: { command: [process.execPath, DEMO_SERVER], description: 'Demo to-do list' },
      slowpoke: fixtureService([], { call_timeout: 1, env: { FIXTURE_CANCEL_FILE: cancelFile } }),
      broken: fixtureService(['crash-at-start']),
      dies: fixtureService(['exit-after-init']),
      off: fixtureService([], { enabled: false }),
    },
    security: { max_request_size: 4096 },
  });
});
afterAll(() => gw?.close());

describe('authentication (§3.2, §4)', () => {
  test('/health answers without credentials', async () => {
    const response = await gw.request('GET', '/health', { headers: { authorization: '' } });
    expect(response.status).toBe(200);
    // Some of this file's services are broken on purpose: the gateway is up, its services are not all.
    expect(response.body).toMatchObject({ status: 'degraded', version: expect.any(String), services: { todo: 'ready', broken: 'failed' } });
    expect(Number.isNaN(Date.parse(response.body.timestamp))).toBe(false);
  });

  test.each([
    { why: 'no header', authorization: '' },
    { why: 'wrong password', authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` },
    { why: 'wrong user', authorization: `Basic ${Buffer.from('root:test-password-1').toString('base64')}` },
    { why: 'wrong bearer', authorization: 'Bearer nope' },
    { why: 'garbage', authorization: 'Basic %%%' },
  ])('401 with WWW-Authenticate for $why', async ({ authorization }) => {
    const response = await gw.request('GET', '/services', { headers: { authorization } });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: 'Authentication required' });
    expect(response.headers.get('www-authenticate')).toBe('Basic realm="MCP Gateway"');
  });

  test('Bearer token and a lowercase scheme word are accepted', async () => {
    expect((await gw.request('GET', '/services', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await gw.request('GET', '/services', { headers: { authorization: BASIC.replace('Basic', 'basic') } })).status).toBe(200);
  });

  test('a failed login is logged without the credentials', async () => {
    await gw.request('GET', '/services', { headers: { authorization: `Basic ${Buffer.from('admin:secret-guess').toString('base64')}` } });
    const text = gw.logs.join('\n');
    expect(text).toContain('auth_failed');
    expect(text).not.toContain('secret-guess');
    expect(text).not.toContain(Buffer.from('admin:secret-guess').toString('base64'));
  });
});

describe('client mistakes get 4xx, never 500 (§4)', () => {
  test('security headers and a request id on every response', async () => {
    const response = await gw.request('GET', '/nope');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });

  test('unknown path is 404', async () => {
    const response = await gw.request('GET', '/nope');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: 'Not found' });
  });

  test.each([
    { method: 'POST', path: '/services', allow: 'GET, HEAD' },
    { method: 'GET', path: '/services/fx/call', allow: 'POST' },
    { method: 'PUT', path: '/sessions/abc', allow: 'DELETE' },
    { method: 'DELETE', path: '/health', allow: 'GET, HEAD' },
  ])('$method $path is 405 with Allow: $allow', async ({ method, path, allow }) => {
    const response = await gw.request(method, path);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe(allow);
  });

  test('a body over max_request_size is 413', async () => {
    const response = await gw.call('fx', { tool: 'echo', session_id: 's413', arguments: { text: 'x'.repeat(10_000) } });
    expect(response.status).toBe(413);
    expect(response.body).toEqual({ error: 'Request body too large' });
  });

  test.each([
    { why: 'not JSON', raw: 'this is not json', error: 'Invalid JSON' },
    { why: 'empty body', raw: '', error: 'Invalid JSON' },
    { why: 'a JSON array', raw: '[]', error: 'Invalid JSON' },
    { why: 'no tool', raw: '{"session_id":"a"}', error: "Missing 'tool' parameter" },
    { why: 'no session id', raw: '{"tool":"echo"}', error: "Missing 'session_id' parameter" },
    { why: 'arguments not an object', raw: '{"tool":"echo","session_id":"a","arguments":[1]}', error: "Invalid 'arguments' parameter" },
    { why: 'timeout zero', raw: '{"tool":"echo","session_id":"a","timeout":0}', error: "Invalid 'timeout' parameter" },
    { why: 'timeout too large', raw: '{"tool":"echo","session_id":"a","timeout":3601}', error: "Invalid 'timeout' parameter" },
    { why: 'timeout a string', raw: '{"tool":"echo","session_id":"a","timeout":"10"}', error: "Invalid 'timeout' parameter" },
    { why: 'metadata a string', raw: '{"tool":"echo","session_id":"a","metadata":"x"}', error: "Invalid 'metadata' parameter" },
    { why: 'tool with a slash', raw: '{"tool":"a/b","session_id":"a"}', error: 'Tool name contains invalid characters' },
    { why: 'tool too long', raw: `{"tool":"${'t'.repeat(129)}","session_id":"a"}`, error: 'Invalid tool name length' },
    { why: 'session id with a space', raw: '{"tool":"echo","session_id":"a b"}', error: 'Session ID contains invalid characters' },
    { why: 'session id too long', raw: `{"tool":"echo","session_id":"${'s'.repeat(129)}"}`, error: 'Invalid session ID length' },
  ])('400 for $why', async ({ raw, error }) => {
    const response = await gw.request('POST', '/services/fx/call', { raw, headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error });
  });

  test.each([
    { path: '/services/bad.name/tools', error: 'Service name contains invalid characters' },
    { path: '/services/a%2Fb/tools', error: 'Service name contains invalid characters' },
    { path: '/services/fx%00/tools', error: 'Service name contains invalid characters' },
    { path: `/services/${'s'.repeat(65)}/tools`, error: 'Invalid service name length' },
  ])('400 for service name in $path', async ({ path, error }) => {
    const response = await gw.request('GET', path);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error });
  });

  test('a form-encoded JSON body (curl -d without a content type) is read as JSON', async () => {
    const response = await gw.request('POST', '/services/fx/call', {
      raw: '{"tool":"echo","session_id":"form","arguments":{"text":"hi"}}',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.status).toBe(200);
    expect(response.body.result).toBe('hi');
  });
});

describe('services and tools (§4)', () => {
  test('GET /services lists enabled services without command lines', async () => {
    const response = await gw.request('GET', '/services');
    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(['broken', 'dies', 'fx', 'slowpoke', 'todo']);
    expect(response.body.todo).toEqual({ description: 'Demo to-do list', enabled: true, tools: 5, status: 'ready' });
    expect(response.body.broken).toMatchObject({ tools: null, status: 'failed', error: expect.stringMatching(/^Failed to start MCP service 'broken'/), failures: expect.any(Number) });
    expect(Number.isNaN(Date.parse(response.body.broken.next_retry))).toBe(false);
    expect(JSON.stringify(response.body)).not.toContain('fixture-server.mjs');
  });

  test('GET tools answers from the catalogue', async () => {
    const response = await gw.request('GET', '/services/todo/tools');
    expect(response.status).toBe(200);
    expect(response.body.service).toBe('todo');
    expect(response.body.tools.map((tool: { name: string }) => tool.name).sort()).toEqual(
      ['add_todo', 'clear_todos', 'complete_todo', 'delete_todo', 'list_todos'],
    );
    expect(response.body.tools[0]).toHaveProperty('inputSchema');
  });

  test.each([
    { path: '/services/nope/tools', error: 'Unknown service: nope' },
    { path: '/services/off/tools', error: 'Unknown service: off' },
  ])('404 for $path', async ({ path, error }) => {
    const response = await gw.request('GET', path);
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error });
  });
});

describe('POST /services/<name>/call (§4.1)', () => {
  test('success: result, content, is_error and session_created', async () => {
    const first = await gw.call('fx', { tool: 'echo', session_id: 'call-1', arguments: { text: 'hello' } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      session_id: 'call-1',
      service: 'fx',
      tool: 'echo',
      result: 'hello',
      content: [{ type: 'text', text: 'hello' }],
      is_error: false,
      session_created: true,
    });
    const second = await gw.call('fx', { tool: 'echo', session_id: 'call-1', arguments: { text: 'again' } });
    expect(second.body.session_created).toBe(false);
  });

  test('an isError result is HTTP 200 with is_error true', async () => {
    const response = await gw.call('fx', { tool: 'fail', session_id: 'call-2' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ is_error: true, result: 'fail requested' });
  });

  test('structuredContent is passed on, and used as result when there is no text', async () => {
    const response = await gw.call('fx', { tool: 'structured', session_id: 'call-3' });
    expect(response.body).toMatchObject({ structured_content: { answer: 42 }, result: '{"answer":42}' });
  });

  test.each([
    { service: 'nope', tool: 'echo', status: 404, error: 'Unknown service: nope' },
    { service: 'off', tool: 'echo', status: 404, error: 'Unknown service: off' },
    { service: 'fx', tool: 'no_such_tool', status: 404, error: 'Unknown tool: no_such_tool' },
  ])('$status for $service/$tool', async ({ service, tool, status, error }) => {
    const response = await gw.call(service, { tool, session_id: 'call-4' });
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error });
  });

  test.each([
    { code: -32602, status: 400 },
    { code: -32601, status: 400 },
    { code: -32000, status: 502 },
  ])('JSON-RPC error $code is $status with mcp_error', async ({ code, status }) => {
    const response = await gw.call('fx', { tool: 'rpc_error', session_id: 'call-5', arguments: { code, message: 'bad thing' } });
    expect(response.status).toBe(status);
    expect(response.body).toEqual({
      error: `MCP error ${code}: bad thing`,
      mcp_error: { code, message: 'bad thing', data: { hint: 'x' } },
    });
  });

  test('a server that crashes mid-call answers 502 at once; the next call starts a fresh one', async () => {
    const before = await gw.call('fx', { tool: 'pid', session_id: 'crashy' });
    const crashed = await gw.call('fx', { tool: 'crash', session_id: 'crashy', arguments: { code: 3 } });
    expect(crashed.status).toBe(502);
    expect(crashed.body.error).toMatch(/^MCP server for 'fx' exited \(exit code 3\)/);
    expect(crashed.body.error).toContain('crashing on purpose');
    const after = await gw.call('fx', { tool: 'pid', session_id: 'crashy' });
    expect(after.status).toBe(200);
    expect(after.body.session_created).toBe(true);
    expect(after.body.result).not.toBe(before.body.result);
  });

  test('a hanging call is 504 after call_timeout and the server is told to cancel', async () => {
    const response = await gw.call('slowpoke', { tool: 'hang', session_id: 'hung' });
    expect(response.status).toBe(504);
    expect(response.body).toEqual({ error: 'Tool call timed out after 1s' });
    // The notification is written before the server answers the next request on the same pipe.
    await gw.call('slowpoke', { tool: 'echo', session_id: 'hung', arguments: { text: 'still alive' } });
    expect((await readFile(cancelFile, 'utf8')).trim()).not.toBe('');
  });

  test('a server that never starts is 502 at once with its stderr', async () => {
    const response = await gw.call('broken', { tool: 'echo', session_id: 'b1' });
    expect(response.status).toBe(502);
    expect(response.body.error).toMatch(/^Failed to start MCP service 'broken': /);
    expect(response.body.error).toContain('fatal: cannot start');
  });

  test('a server that dies during initialize is 502 naming its exit', async () => {
    const response = await gw.call('dies', { tool: 'echo', session_id: 'd1' });
    expect(response.status).toBe(502);
    expect(response.body.error).toMatch(/^Failed to start MCP service 'dies': exited during initialize \(exit code 5\)/);
  });
});

describe('sessions (§4.2)', () => {
  test('GET /sessions describes each session and its services; DELETE closes all of an id', async () => {
    await gw.call('fx', { tool: 'echo', session_id: 'multi', arguments: { text: 'a' }, timeout: 120, metadata: { caller: 'x' } });
    await gw.call('todo', { tool: 'list_todos', session_id: 'multi' });
    const listed = await gw.request('GET', '/sessions');
    expect(listed.status).toBe(200);
    const entry = listed.body.multi;
    expect(entry).toMatchObject({ service_name: 'fx', timeout: 120, metadata: { caller: 'x' } });
    expect(entry.time_remaining).toBeGreaterThan(0);
    expect(Object.keys(entry.services).sort()).toEqual(['fx', 'todo']);
    expect(entry.services.fx).toMatchObject({ calls: 1, pid: expect.any(Number) });

    const deleted = await gw.request('DELETE', '/sessions/multi');
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ message: 'Session multi closed' });
    expect((await gw.request('GET', '/sessions')).body.multi).toBeUndefined();
    const again = await gw.request('DELETE', '/sessions/multi');
    expect(again.status).toBe(404);
    expect(again.body).toEqual({ error: 'Session multi not found' });
  });
});
