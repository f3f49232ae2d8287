import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { swaigSetupWarnings } from '../../../src/faces/swaig/setup-warnings.js';
import { fixtureService, startTestGateway, TOKEN, type TestGateway } from '../../helpers/gateway.js';

const swaigCall = (fn: string, args: Record<string, unknown>, callId: string) => ({
  function: fn,
  argument: { parsed: [args], raw: JSON.stringify(args) },
  call_id: callId,
});

describe('swaig.call_timeout', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    // call_timeout 3 s per call, extended by progress up to 30 s (REST); SWAIG's own budget is 4 s in all.
    // The start-up server stays warm, so no session start has to fit in those seconds.
    gw = await startTestGateway({ services: { fx: fixtureService([], { call_timeout: 3, warm_pool: 1 }) }, swaig: { call_timeout: 4 } });
  });
  afterAll(() => gw?.close());

  test('a tool that keeps reporting progress is cut off at the SWAIG budget; REST still gets its result', async () => {
    const progress = { steps: 12, intervalMs: 500 };
    // Warm the session first, so the budget is spent on the call, not the start.
    expect((await gw.request('POST', '/swaig', { body: swaigCall('mcp_fx_echo', { text: 'hi' }, 'budget') })).body).toEqual({ response: 'hi' });
    const swaig = await gw.request('POST', '/swaig', { body: swaigCall('mcp_fx_progress', progress, 'budget') });
    expect(swaig.status).toBe(200);
    expect(swaig.body.response).toMatch(/took too long to answer/);

    const rest = await gw.call('fx', { tool: 'progress', session_id: 'budget', arguments: progress });
    expect(rest.status).toBe(200);
    expect(rest.body.result).toBe('done after 12 steps');
  });
});

describe('web_hook_url credentials', () => {
  test('a Bearer-only gateway without public_url refuses get_signature, saying what to configure', async () => {
    const gw = await startTestGateway({ server: { auth_user: '', auth_password: '' }, services: { fx: fixtureService() } });
    onTestFinished(() => gw.close());
    const bearer = { authorization: `Bearer ${TOKEN}` };
    for (const response of [
      await gw.request('POST', '/swaig', { body: { action: 'get_signature' }, headers: bearer }),
      await gw.request('GET', '/swaig/functions', { headers: bearer }),
    ]) {
      expect(response.status).toBe(400);
      expect(response.body.error).toMatch(/only authenticate with Basic credentials in web_hook_url: set server.auth_user and server.auth_password/);
    }
  });

  test('a discovery with Bearer on a Basic gateway without public_url gets no credential-less URL', async () => {
    const gw = await startTestGateway({ services: { fx: fixtureService() } });
    onTestFinished(() => gw.close());
    const response = await gw.request('POST', '/swaig', { body: { action: 'get_signature' }, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatch(/discover with Basic credentials, or set swaig.public_url/);
    const basic = await gw.request('POST', '/swaig', { body: { action: 'get_signature' } });
    expect(basic.status).toBe(200);
    for (const definition of basic.body) expect(definition.web_hook_url).toMatch(/^http:\/\/admin:[^@]+@127\.0\.0\.1:\d+\/swaig$/);
  });
});

describe('start-up warnings', () => {
  const config = (raw: Record<string, unknown>) =>
    parseConfig({ services: { fx: { command: ['node', 'server.js'] } }, ...raw }, { env: {}, source: 'test' });

  test.each([
    { why: 'Bearer only, no public_url', raw: { server: { host: '127.0.0.1', auth_token: 't' } }, expected: [/only a Bearer token is configured/] },
    { why: 'reachable address, any Host, no public_url', raw: { server: { host: '0.0.0.0', auth_user: 'a', auth_password: 'long-password' } }, expected: [/built from each request's Host header.*set swaig.public_url/] },
    { why: 'loopback', raw: { server: { host: '127.0.0.1', auth_user: 'a', auth_password: 'long-password' } }, expected: [] },
    { why: 'allowed_hosts set', raw: { server: { auth_user: 'a', auth_password: 'p' }, security: { allowed_hosts: ['gw.example.com'] } }, expected: [] },
    { why: 'public_url set', raw: { server: { auth_token: 't' }, swaig: { public_url: 'https://a:b@gw.example.com' } }, expected: [] },
    { why: 'swaig disabled', raw: { server: { auth_token: 't' }, swaig: { enabled: false } }, expected: [] },
  ])('$why', ({ raw, expected }) => {
    const warnings = swaigSetupWarnings(config(raw));
    expect(warnings).toHaveLength(expected.length);
    expected.forEach((pattern, i) => expect(warnings[i]).toMatch(pattern));
  });
});
