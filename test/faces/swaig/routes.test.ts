import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { SWAIG_REPLIES, swaigErrorReply } from '../../../src/faces/swaig/replies.js';
import { validateSwaigParameters } from '../../../src/faces/swaig/validate-parameters.js';
import { BASIC, DEMO_SERVER, fixtureService, PASSWORD, startTestGateway, TOKEN, USER, type TestGateway } from '../../helpers/gateway.js';
import { isRunning } from '../../helpers/processes.js';
import { waitFor } from '../../helpers/wait-for.js';

/** Request bodies shaped like the platform's (test/fixtures/swaig). */
const FIXTURES = new URL('../../fixtures/swaig/', import.meta.url);
const fixture = async (name: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(new URL(name, FIXTURES), 'utf8'));
const FIXTURE_CALL_ID = '0f4b3c2e-7a7e-4c55-9a0e-6f1f0b9d2a11';

const TODO = { command: [process.execPath, DEMO_SERVER], description: 'Demo to-do list' };
const MAX_RESPONSE_CHARS = 200;

/** A function-call body as the platform sends it (swaig-protocol.md §1.2). */
function callBody(fn: string, args: Record<string, unknown>, callId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { function: fn, argument: { parsed: [args], raw: JSON.stringify(args) }, call_id: callId, content_type: 'text/swaig', version: '2.0', ...extra };
}

const names = (definitions: Array<{ function: string }>): string[] => definitions.map((definition) => definition.function);
const sessionIds = (gw: TestGateway): string[] => [...new Set(gw.gateway.registry.list().map((session) => session.id))].sort();

let gw: TestGateway;
let allFunctions: string[];
let urlWithCredentials: string;

beforeAll(async () => {
  gw = await startTestGateway({
    services: {
      todo: TODO,
      fx: fixtureService(),
      slowpoke: fixtureService([], { call_timeout: 1 }),
      broken: fixtureService(['crash-at-start']),
      off: fixtureService([], { enabled: false }),
    },
    swaig: { max_response_chars: MAX_RESPONSE_CHARS },
  });
  // What discovery must offer: every cached tool of every enabled service ('broken' has none).
  allFunctions = [];
  for (const service of ['todo', 'fx', 'slowpoke']) {
    const { body } = await gw.request('GET', `/services/${service}/tools`);
    allFunctions.push(...body.tools.map((tool: { name: string }) => `mcp_${service}_${tool.name}`));
  }
  urlWithCredentials = gw.url.replace('http://', `http://${USER}:${PASSWORD}@`);
});
afterAll(() => gw?.close());

const swaig = (body: unknown, path = '/swaig') => gw.request('POST', path, { body });
const call = (fn: string, args: Record<string, unknown>, callId: string, extra?: Record<string, unknown>) => swaig(callBody(fn, args, callId, extra));

describe('every body in test/fixtures/swaig gets the right answer (SPEC §9)', () => {
  // In this order: the raw-only call lists what the first one added, the hook then ends the call.
  const EXPECTED: Record<string, (body: any) => void> = {
    'get-signature-all.json': (body) => expect(names(body).sort()).toEqual([...allFunctions, 'hangup_hook'].sort()),
    'get-signature.json': (body) => expect(names(body)).toEqual(['mcp_todo_add_todo', 'mcp_todo_list_todos', 'hangup_hook']),
    'function-call.json': (body) => expect(body).toEqual({ response: 'Added todo #1: buy milk' }),
    'function-call-raw-only.json': (body) => expect(body).toEqual({ response: '#1 [ ] buy milk (high)' }),
    'hangup-hook.json': (body) => expect(body).toEqual(SWAIG_REPLIES.sessionsClosed),
  };

  test('the table covers every fixture file', async () => {
    const files = (await readdir(FIXTURES)).filter((file) => file.endsWith('.json'));
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  test('each fixture, in call order, answers HTTP 200 with the expected body', async () => {
    for (const [file, check] of Object.entries(EXPECTED)) {
      const response = await swaig(await fixture(file));
      expect(response.status, file).toBe(200);
      check(response.body);
    }
    expect(sessionIds(gw)).not.toContain(FIXTURE_CALL_ID);
  });
});

describe('discovery: get_signature and GET /swaig/functions (SPEC §9)', () => {
  test('an empty list returns every function of every enabled service plus hangup_hook, each valid SWAIG', async () => {
    const response = await swaig(await fixture('get-signature-all.json'));
    expect(response.status).toBe(200);
    expect(names(response.body)).toEqual([...allFunctions, 'hangup_hook']);
    for (const definition of response.body) {
      expect(Object.keys(definition).sort()).toEqual(['description', 'function', 'parameters', 'web_hook_url']);
      expect(validateSwaigParameters(definition.parameters), definition.function).toEqual([]);
      expect(definition.web_hook_url).toBe(`${urlWithCredentials}/swaig`);
    }
    const addTodo = response.body.find((definition: { function: string }) => definition.function === 'mcp_todo_add_todo');
    expect(addTodo.description).toBe("[todo] Add an item to the caller's to-do list. Returns the number of the new todo.");
    expect(addTodo.parameters).toMatchObject({ type: 'object', properties: { text: { type: 'string' } }, required: ['text'] });
  });

  test.each([
    { why: 'absent list', functions: undefined, expected: 'all' },
    { why: 'unknown names are just absent', functions: ['mcp_todo_add_todo', 'mcp_nope', 42], expected: ['mcp_todo_add_todo', 'hangup_hook'] },
  ])('$why', async ({ functions, expected }) => {
    const response = await swaig({ action: 'get_signature', functions });
    expect(names(response.body)).toEqual(expected === 'all' ? [...allFunctions, 'hangup_hook'] : expected);
  });

  test('?services= restricts discovery and calls, and is kept in web_hook_url', async () => {
    const response = await swaig({ action: 'get_signature', functions: [] }, '/swaig?services=todo');
    expect(names(response.body)).toEqual([...allFunctions.filter((name) => name.startsWith('mcp_todo_')), 'hangup_hook']);
    expect(new Set(response.body.map((definition: { web_hook_url: string }) => definition.web_hook_url))).toEqual(
      new Set([`${urlWithCredentials}/swaig?services=todo`]),
    );
    expect((await swaig(callBody('mcp_fx_echo', { text: 'hi' }, 'restricted'), '/swaig?services=todo')).body).toEqual(SWAIG_REPLIES.unknownFunction);
    expect((await swaig(callBody('mcp_fx_echo', { text: 'hi' }, 'restricted'), '/swaig?services=todo,fx')).body).toEqual({ response: 'hi' });
  });

  test('GET /swaig/functions returns the same definitions', async () => {
    const listed = await gw.request('GET', '/swaig/functions');
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual((await swaig({ action: 'get_signature', functions: [] })).body);
    const restricted = await gw.request('GET', '/swaig/functions?services=fx');
    expect(names(restricted.body)).toEqual([...allFunctions.filter((name) => name.startsWith('mcp_fx_')), 'hangup_hook']);
    expect(restricted.body[0].web_hook_url).toBe(`${urlWithCredentials}/swaig?services=fx`);
  });

  test('a Bearer caller without public_url gets no web_hook_url at all: a token cannot ride in a URL, and every call would be 401', async () => {
    const response = await gw.request('GET', '/swaig/functions', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatch(/discover with Basic credentials, or set swaig.public_url/);
  });
});

describe('function calls (SPEC §9)', () => {
  test('two calls with the same call_id share MCP server state; another call_id does not', async () => {
    expect((await call('mcp_todo_add_todo', { text: 'call mum' }, 'share-a')).body).toEqual({ response: 'Added todo #1: call mum' });
    expect((await call('mcp_todo_list_todos', {}, 'share-a')).body).toEqual({ response: '#1 [ ] call mum (medium)' });
    expect((await call('mcp_todo_list_todos', {}, 'share-b')).body).toEqual({ response: 'No todos.' });
  });

  test('global_data.mcp_call_id overrides call_id as the session id', async () => {
    await call('mcp_todo_add_todo', { text: 'pinned' }, 'leg-1', { global_data: { mcp_call_id: 'conversation-9' } });
    const other = await call('mcp_todo_list_todos', {}, 'leg-2', { global_data: { mcp_call_id: 'conversation-9' } });
    expect(other.body).toEqual({ response: '#1 [ ] pinned (medium)' });
    expect(sessionIds(gw)).toContain('conversation-9');
    expect(sessionIds(gw)).not.toContain('leg-1');
  });

  test.each([
    { why: 'text, image, resource link and embedded resource', tool: 'image', expected: { response: 'here is an image\n[image: image/png, 70 B]\n[resource: file:///fixture/readme.txt]\nembedded note' } },
    { why: 'structuredContent when there is no text', tool: 'structured', expected: { response: '{"answer":42}' } },
    { why: 'isError with the Tool error: prefix', tool: 'fail', expected: { response: 'Tool error: fail requested' } },
    {
      why: '_meta.swaig action and post_process pass through',
      tool: 'swaig_action',
      expected: {
        response: 'Transferring you now',
        action: [{ SWML: { version: '1.0.0', sections: { main: [{ connect: { to: '+15555550100' } }] } } }],
        post_process: true,
      },
    },
  ])('renders $why', async ({ tool, expected }) => {
    const response = await call(`mcp_fx_${tool}`, {}, 'render');
    expect(response.status).toBe(200);
    expect(response.body).toEqual(expected);
  });

  test('a long result is cut to swaig.max_response_chars with a marker', async () => {
    const { body } = await call('mcp_fx_echo', { text: 'x'.repeat(1000) }, 'long');
    expect(body.response).toHaveLength(MAX_RESPONSE_CHARS);
    expect(body.response).toMatch(/^x+… \[truncated\]$/u);
  });

  test.each([
    { why: 'raw only', argument: { raw: '{"a":2,"b":3}' }, expected: '5' },
    { why: 'parsed wins over raw', argument: { parsed: [{ a: 1, b: 1 }], raw: '{"a":2,"b":3}' }, expected: '2' },
    { why: 'empty parsed falls back to raw', argument: { parsed: [], raw: '{"a":4,"b":4}' }, expected: '8' },
  ])('arguments: $why', async ({ argument, expected }) => {
    expect((await swaig({ function: 'mcp_fx_add', argument, call_id: 'args' })).body).toEqual({ response: expected });
  });

  test('no argument at all calls the tool with {}', async () => {
    const { body } = await swaig({ function: 'mcp_fx_pid', call_id: 'args' });
    expect(body.response).toMatch(/^\d+$/u);
  });
});

describe('what goes wrong is an HTTP 200 sentence (SPEC §9)', () => {
  const sentence = (code: GatewayError['code'], service: string) => swaigErrorReply(new GatewayError(code, ''), { service });

  test.each([
    { why: 'unknown function', body: callBody('mcp_nope_nothing', {}, 'err'), expected: SWAIG_REPLIES.unknownFunction },
    { why: 'a disabled service', body: callBody('mcp_off_echo', {}, 'err'), expected: SWAIG_REPLIES.unknownFunction },
    { why: 'raw arguments that are not JSON', body: { function: 'mcp_fx_echo', argument: { raw: '{text: hi' }, call_id: 'err' }, expected: SWAIG_REPLIES.invalidArguments },
    { why: 'raw arguments that are not an object', body: { function: 'mcp_fx_echo', argument: { raw: '[1]' }, call_id: 'err' }, expected: SWAIG_REPLIES.invalidArguments },
    { why: 'no call_id', body: { function: 'mcp_fx_echo', argument: { parsed: [{ text: 'x' }] } }, expected: SWAIG_REPLIES.missingCallId },
    {
      why: 'a call id outside the session id rules',
      body: callBody('mcp_fx_echo', { text: 'x' }, 'a b'),
      expected: { response: 'The tool gateway could not accept this request: Session ID contains invalid characters.' },
    },
    {
      why: 'a JSON-RPC error of the tool server',
      body: callBody('mcp_fx_rpc_error', { code: -32602, message: 'priority must be low, medium or high' }, 'err'),
      expected: { response: 'The tool reported an error: priority must be low, medium or high.' },
    },
  ])('$why', async ({ body, expected }) => {
    const response = await swaig(body);
    expect(response.status).toBe(200);
    expect(response.body).toEqual(expected);
  });

  test('a call past call_timeout', async () => {
    const response = await call('mcp_slowpoke_hang', {}, 'err-timeout');
    expect(response.status).toBe(200);
    expect(response.body).toEqual(sentence('CALL_TIMEOUT', 'slowpoke'));
  });

  test('a server that crashes mid-call; its stderr stays out of the reply', async () => {
    const response = await call('mcp_fx_crash', { code: 3 }, 'err-crash');
    expect(response.status).toBe(200);
    expect(response.body).toEqual(sentence('SERVER_EXITED', 'fx'));
    expect(JSON.stringify(response.body)).not.toContain('crashing on purpose');
  });
});

describe('HTTP status only for non-SWAIG trouble (SPEC §9)', () => {
  test('wrong credentials are 401', async () => {
    const response = await gw.request('POST', '/swaig', {
      body: await fixture('function-call.json'),
      headers: { authorization: `Basic ${Buffer.from(`${USER}:wrong`).toString('base64')}` },
    });
    expect(response.status).toBe(401);
    expect((await gw.request('GET', '/swaig/functions', { headers: { authorization: '' } })).status).toBe(401);
  });

  test.each([
    { why: 'not JSON', raw: '{"function": "mcp_fx_echo",', error: 'Invalid JSON' },
    { why: 'a JSON array', raw: '[]', error: 'Invalid JSON' },
    { why: 'an object without function or action', raw: '{"call_id":"x"}', error: "Missing 'function' parameter" },
  ])('$why is 400', async ({ raw, error }) => {
    const response = await gw.request('POST', '/swaig', { raw, headers: { 'content-type': 'application/json', authorization: BASIC } });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error });
  });

  test.each([
    { method: 'GET', path: '/swaig', allow: 'POST' },
    { method: 'POST', path: '/swaig/functions', allow: 'GET, HEAD' },
  ])('$method $path is 405', async ({ method, path, allow }) => {
    const response = await gw.request(method, path);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe(allow);
  });
});

describe('public_url, include_hangup_hook and the hangup hook (SPEC §9, §5)', () => {
  let hub: TestGateway;
  beforeAll(async () => {
    hub = await startTestGateway({
      services: { todo: TODO, fx: fixtureService() },
      swaig: { public_url: 'https://gw-user:gw%20pass@gw.example.com/base/', include_hangup_hook: false },
    });
  });
  afterAll(() => hub?.close());
  const hubCall = (body: unknown) => hub.request('POST', '/swaig', { body });

  test('web_hook_url comes from public_url (trailing slash normalised); no hangup_hook when disabled', async () => {
    const response = await hubCall({ action: 'get_signature', functions: [] });
    expect(names(response.body)).not.toContain('hangup_hook');
    expect(response.body[0].web_hook_url).toBe('https://gw-user:gw%20pass@gw.example.com/base/swaig');
    const restricted = await hub.request('POST', '/swaig?services=fx', { body: { action: 'get_signature' } });
    expect(restricted.body[0].web_hook_url).toBe('https://gw-user:gw%20pass@gw.example.com/base/swaig?services=fx');
  });

  test("hangup_hook closes every session of the call (and of mcp_call_id), and no process is left", async () => {
    const grandchild = Number((await hubCall(callBody('mcp_fx_spawn_grandchild', {}, 'hang-1'))).body.response);
    await hubCall(callBody('mcp_todo_add_todo', { text: 'x' }, 'hang-1'));
    await hubCall(callBody('mcp_fx_pid', {}, 'other-leg', { global_data: { mcp_call_id: 'pinned' } }));
    await hubCall(callBody('mcp_fx_pid', {}, 'keep-1'));
    const closing = hub.gateway.registry.list().filter((session) => session.id !== 'keep-1').map((session) => session.upstream.pid!);
    expect(closing).toHaveLength(3);

    const hangup = await hubCall({ ...(await fixture('hangup-hook.json')), call_id: 'hang-1', global_data: { mcp_call_id: 'pinned' } });
    expect(hangup.status).toBe(200);
    expect(hangup.body).toEqual(SWAIG_REPLIES.sessionsClosed);
    expect(sessionIds(hub)).toEqual(['keep-1']);
    await waitFor(() => [...closing, grandchild].every((pid) => !isRunning(pid)), { what: 'the hung-up call to leave no process' });
    expect((await hubCall({ function: 'hangup_hook', call_id: 'hang-1' })).body).toEqual(SWAIG_REPLIES.noSessions);

    await hubCall({ function: 'hangup_hook', call_id: 'keep-1' });
    await waitFor(async () => (await hub.processes()).length === 0, { what: 'every process of the gateway to end' });
  });
});

test('swaig.enabled false: the SWAIG routes do not exist (SPEC §9)', async () => {
  const off = await startTestGateway({ services: { fx: fixtureService() }, swaig: { enabled: false } });
  try {
    expect((await off.request('POST', '/swaig', { body: { action: 'get_signature' } })).status).toBe(404);
    expect((await off.request('GET', '/swaig/functions')).status).toBe(404);
  } finally {
    await off.close();
  }
});
