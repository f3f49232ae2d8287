import type { Tool } from '@modelcontextprotocol/client';
import { describe, expect, test } from 'vitest';
import type { ServiceConfig, SwaigConfig } from '../../../src/config/types.js';
import { buildWebHookUrl, createSwaigSignatures } from '../../../src/faces/swaig/signature.js';

const SWAIG: SwaigConfig = {
  enabled: true,
  public_url: '',
  function_prefix: 'mcp_',
  max_response_chars: 8000,
  call_timeout: 25,
  include_hangup_hook: true,
  fillers: { todo: { default: ['One moment.'] } },
  limit: [],
};

const tool = (name: string, extra: Partial<Tool> = {}): Tool => ({
  name,
  description: `${name} it`,
  inputSchema: { type: 'object', properties: { when: { type: 'string', format: 'date-time' } }, additionalProperties: false },
  ...extra,
});

/** A catalogue whose arrays the test replaces, as ToolCatalogue.store does on refresh. */
function fakeToolCalls(lists: Record<string, Tool[] | undefined>) {
  return {
    lists,
    services: () => Object.keys(lists).map((name) => ({ name }) as ServiceConfig),
    cachedTools: (name: string) => lists[name],
  };
}

describe('createSwaigSignatures (SPEC §9)', () => {
  test('definitions: name, [service] description, reduced parameters, fillers, url; hangup_hook last', () => {
    const signatures = createSwaigSignatures({ swaig: SWAIG, toolCalls: fakeToolCalls({ todo: [tool('add.todo')], fx: [tool('echo', { description: '' })] }) });
    expect(signatures.definitions({ webHookUrl: 'https://gw/swaig' })).toEqual([
      {
        function: 'mcp_todo_add_todo',
        description: '[todo] add.todo it',
        parameters: { type: 'object', properties: { when: { type: 'string', format: 'date_time' } } },
        web_hook_url: 'https://gw/swaig',
        fillers: { default: ['One moment.'] },
      },
      {
        function: 'mcp_fx_echo',
        description: '[fx] echo',
        parameters: { type: 'object', properties: { when: { type: 'string', format: 'date_time' } } },
        web_hook_url: 'https://gw/swaig',
      },
      { function: 'hangup_hook', description: expect.any(String), parameters: { type: 'object', properties: {} }, web_hook_url: 'https://gw/swaig' },
    ]);
  });

  test('restriction, requested names, and a service without a cached list', () => {
    const signatures = createSwaigSignatures({
      swaig: { ...SWAIG, include_hangup_hook: false },
      toolCalls: fakeToolCalls({ todo: [tool('a'), tool('b')], fx: [tool('a')], never_loaded: undefined }),
    });
    const names = (query: Parameters<typeof signatures.definitions>[0]) => signatures.definitions(query).map((d) => d.function);
    expect(names({ webHookUrl: 'u' })).toEqual(['mcp_todo_a', 'mcp_todo_b', 'mcp_fx_a']);
    expect(names({ webHookUrl: 'u', services: new Set(['fx']) })).toEqual(['mcp_fx_a']);
    expect(names({ webHookUrl: 'u', functions: ['mcp_todo_b', 'nope'] })).toEqual(['mcp_todo_b']);
    expect(signatures.resolve('mcp_fx_a')).toEqual({ service: 'fx', tool: 'a' });
    expect(signatures.resolve('mcp_fx_a', new Set(['todo']))).toBeUndefined();
    expect(signatures.resolve('hangup_hook')).toBeUndefined();
  });

  test('built once per catalogue version: same objects until a list is replaced (STYLE §3.7)', () => {
    const toolCalls = fakeToolCalls({ todo: [tool('a')] });
    const signatures = createSwaigSignatures({ swaig: SWAIG, toolCalls });
    const first = signatures.definitions({ webHookUrl: 'u' })[0]!;
    expect(signatures.definitions({ webHookUrl: 'v' })[0]!.parameters).toBe(first.parameters);
    toolCalls.lists['todo'] = [tool('a'), tool('c')];
    const refreshed = signatures.definitions({ webHookUrl: 'u' });
    expect(refreshed.map((d) => d.function)).toEqual(['mcp_todo_a', 'mcp_todo_c', 'hangup_hook']);
    expect(refreshed[0]!.parameters).not.toBe(first.parameters);
    expect(signatures.resolve('mcp_todo_c')).toEqual({ service: 'todo', tool: 'c' });
  });
});

describe('buildWebHookUrl (SPEC §9)', () => {
  const basic = (userinfo: string) => `Basic ${Buffer.from(userinfo).toString('base64')}`;
  test.each([
    { why: 'public_url as configured, plus /swaig', publicUrl: 'https://u:p@gw.example.com', expected: 'https://u:p@gw.example.com/swaig' },
    { why: 'trailing slashes normalised', publicUrl: 'https://gw.example.com/base//', expected: 'https://gw.example.com/base/swaig' },
    { why: 'public_url wins over the request Host', publicUrl: 'https://gw.example.com', authorization: basic('a:b'), expected: 'https://gw.example.com/swaig' },
    { why: 'no public_url: scheme and Host of the request', expected: 'http://10.0.0.5:8080/swaig' },
    { why: 'no public_url: the request Basic credentials go back in the URL', authorization: basic('admin:s3cret'), expected: 'http://admin:s3cret@10.0.0.5:8080/swaig' },
    { why: 'credentials percent-encoded; a password may contain colons', authorization: basic('a@b:p:w/?#'), expected: 'http://a%40b:p%3Aw%2F%3F%23@10.0.0.5:8080/swaig' },
    { why: 'Bearer cannot ride in a URL', authorization: 'Bearer tok', expected: 'http://10.0.0.5:8080/swaig' },
    { why: '?services= kept', services: new Set(['todo', 'fx']), expected: 'http://10.0.0.5:8080/swaig?services=todo,fx' },
  ])('$why', ({ publicUrl = '', authorization, services, expected }) => {
    expect(buildWebHookUrl({ publicUrl, protocol: 'http', host: '10.0.0.5:8080', authorization, services })).toBe(expected);
  });
});
