import type { Tool } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { globToRegExp } from '../../src/upstream/tool-filter.js';
import { fixtureService, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({
    services: {
      fx: fixtureService(['task-tool'], {
        tools: { allow: ['e*', 'add', 'fail', 'pid'], deny: ['env', 'p?d'], descriptions: { add: 'Adds a and b for the caller.' } },
      }),
    },
  });
});
afterAll(() => gw?.close());

describe('tool filtering per service', () => {
  test('only allowed, not denied, servable tools are listed over REST', async () => {
    const response = await gw.request('GET', '/services/fx/tools');
    expect(response.status).toBe(200);
    const tools = response.body.tools as Tool[];
    expect(tools.map((tool) => tool.name).sort()).toEqual(['add', 'echo', 'empty', 'fail']);
    expect(tools.find((tool) => tool.name === 'add')?.description).toBe('Adds a and b for the caller.');
    expect((await gw.request('GET', '/services')).body.fx.tools).toBe(4);
  });

  test('SWAIG discovery offers the same tools', async () => {
    const response = await gw.request('POST', '/swaig', { body: { action: 'get_signature', functions: [] } });
    const names = (response.body as Array<{ function: string; description: string }>).map((definition) => definition.function).sort();
    expect(names).toEqual(['hangup_hook', 'mcp_fx_add', 'mcp_fx_echo', 'mcp_fx_empty', 'mcp_fx_fail']);
    const add = (response.body as Array<{ function: string; description: string }>).find((definition) => definition.function === 'mcp_fx_add');
    expect(add?.description).toBe('[fx] Adds a and b for the caller.');
  });

  test('a denied, a not-allowed and a task-only tool answer 404 UNKNOWN_TOOL; allowed ones work', async () => {
    for (const tool of ['env', 'pid', 'image', 'research']) {
      const response = await gw.call('fx', { tool, session_id: 'filter-1' });
      expect(response.status, tool).toBe(404);
      expect(response.body.error).toBe(`Unknown tool: ${tool}`);
    }
    const allowed = await gw.call('fx', { tool: 'add', session_id: 'filter-1', arguments: { a: 2, b: 3 } });
    expect(allowed.body.result).toBe('5');
    const swaig = await gw.request('POST', '/swaig', { body: { function: 'mcp_fx_env', call_id: 'filter-2', argument: { parsed: [{}] } } });
    expect(swaig.status).toBe(200);
    expect(swaig.body.response).toMatch(/not available/i);
  });

  test('a task-only tool is left out with a log line', () => {
    expect(gw.logs.some((line) => line.includes('tool left out') && line.includes('"tool":"research"'))).toBe(true);
  });
});

describe('globToRegExp', () => {
  test.each([
    { glob: 'git_*', name: 'git_push', matches: true },
    { glob: 'git_*', name: 'github', matches: false },
    { glob: '*file*', name: 'write_file', matches: true },
    { glob: 'p?d', name: 'pid', matches: true },
    { glob: 'p?d', name: 'paid', matches: false },
    { glob: 'a.b', name: 'axb', matches: false },
    { glob: 'a.b', name: 'a.b', matches: true },
  ])('$glob against $name: $matches', ({ glob, name, matches }) => {
    expect(globToRegExp(glob).test(name)).toBe(matches);
  });
});
