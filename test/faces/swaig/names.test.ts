import { describe, expect, test } from 'vitest';
import { buildFunctionNames } from '../../../src/faces/swaig/names.js';
import type { ToolRef } from '../../../src/faces/swaig/names.js';

const long = 'x'.repeat(200);
// Two tools that sanitize alike and whose hashes share their first 6 hex characters (8735de),
// found by search: the hash must grow for both.
const hashTwinA = 'a\u0e05b';
const hashTwinB = 'a\u13edb';

interface Row {
  input: { prefix: string; tools: ToolRef[]; lookup: ToolRef };
  expected: string;
  why: string;
}

const one = (service: string, tool: string, prefix = 'mcp_'): Row['input'] => ({
  prefix,
  tools: [{ service, tool }],
  lookup: { service, tool },
});

describe('buildFunctionNames (SPEC §9)', () => {
  test.each<Row>([
    { input: one('todo', 'add_item'), expected: 'mcp_todo_add_item', why: 'the Python skill form <prefix><service>_<tool>' },
    { input: one('fs', 'read.file'), expected: 'mcp_fs_read_file', why: 'dots (allowed in MCP tool names) become _' },
    { input: one('my-svc', 'get-sum'), expected: 'mcp_my_svc_get_sum', why: 'dashes in service and tool become _' },
    { input: one('weather', 'prévision'), expected: 'mcp_weather_pr_vision', why: 'a non-ASCII letter becomes _' },
    { input: one('weather', '🌤forecast'), expected: 'mcp_weather__forecast', why: 'an astral character is one _, not two' },
    { input: one('a b', 'c/d:e'), expected: 'mcp_a_b_c_d_e', why: 'spaces, slashes and colons become _' },
    { input: one('todo', 'add', 'sw_'), expected: 'sw_todo_add', why: 'the configured prefix is used' },
    { input: one('todo', 'add', 'my-'), expected: 'my_todo_add', why: 'the prefix is sanitized too' },
    { input: one('todo', 'add', ''), expected: 'todo_add', why: 'an empty prefix is allowed' },
    {
      input: one('9lives', 'add', ''),
      expected: '_9lives_add',
      why: 'a name never starts with a digit (the SDKs require ^[A-Za-z_])',
    },
    {
      input: one('svc', long),
      expected: `mcp_svc_${'x'.repeat(49)}_2f4f80`,
      why: 'a 200-character tool is cut to 64 with a stable hash of service\\0tool',
    },
    {
      input: one('svc', 'y'.repeat(56)),
      expected: `mcp_svc_${'y'.repeat(56)}`,
      why: 'exactly 64 characters is kept as is',
    },
    {
      input: one('hangup', 'hook', ''),
      expected: 'hangup_hook_644ab0',
      why: 'a tool never takes the reserved hangup_hook name',
    },
    {
      input: {
        prefix: 'mcp_',
        tools: [
          { service: 'svc', tool: 'a.b' },
          { service: 'svc', tool: 'a-b' },
        ],
        lookup: { service: 'svc', tool: 'a.b' },
      },
      expected: 'mcp_svc_a_b_dc81a8',
      why: 'two tools that collide after sanitizing: the first gets a hash suffix ...',
    },
    {
      input: {
        prefix: 'mcp_',
        tools: [
          { service: 'svc', tool: 'a.b' },
          { service: 'svc', tool: 'a-b' },
        ],
        lookup: { service: 'svc', tool: 'a-b' },
      },
      expected: 'mcp_svc_a_b_0e5c3e',
      why: '... and so does the second, so neither name depends on order',
    },
    {
      input: {
        prefix: 'mcp_',
        tools: [
          { service: 'svc', tool: 'a_b' },
          { service: 'svc', tool: 'a.b' },
        ],
        lookup: { service: 'svc', tool: 'a_b' },
      },
      expected: 'mcp_svc_a_b_7544fe',
      why: 'a tool whose name is already clean loses its plain name in a clash as well',
    },
    {
      input: {
        prefix: 'mcp_',
        tools: [
          { service: 'svc', tool: 'a.b' },
          { service: 'svc', tool: 'a-b' },
          { service: 'svc', tool: 'a_b_dc81a8' },
        ],
        lookup: { service: 'svc', tool: 'a.b' },
      },
      expected: 'mcp_svc_a_b_dc81a822',
      why: 'a hashed name that equals another tool\'s plain name gets a longer hash ...',
    },
    {
      input: {
        prefix: 'mcp_',
        tools: [
          { service: 'svc', tool: 'a.b' },
          { service: 'svc', tool: 'a-b' },
          { service: 'svc', tool: 'a_b_dc81a8' },
        ],
        lookup: { service: 'svc', tool: 'a_b_dc81a8' },
      },
      expected: 'mcp_svc_a_b_dc81a8_abf419',
      why: '... and that plain name takes a hash of its own',
    },
    {
      input: {
        prefix: 'mcp_',
        tools: [
          { service: 'svc', tool: hashTwinA },
          { service: 'svc', tool: hashTwinB },
        ],
        lookup: { service: 'svc', tool: hashTwinA },
      },
      expected: 'mcp_svc_a_b_8735de52',
      why: 'two hashes equal in 6 hex characters grow to 8 ...',
    },
    {
      input: {
        prefix: 'mcp_',
        tools: [
          { service: 'svc', tool: hashTwinA },
          { service: 'svc', tool: hashTwinB },
        ],
        lookup: { service: 'svc', tool: hashTwinB },
      },
      expected: 'mcp_svc_a_b_8735de75',
      why: '... for both tools',
    },
    {
      input: {
        prefix: 'mcp_',
        tools: [
          { service: 'todo', tool: 'add' },
          { service: 'todo', tool: 'add' },
        ],
        lookup: { service: 'todo', tool: 'add' },
      },
      expected: 'mcp_todo_add',
      why: 'the same tool listed twice is one tool, not a collision',
    },
    {
      input: {
        prefix: 'mcp_',
        tools: [
          { service: 'a_b', tool: 'c' },
          { service: 'a', tool: 'b_c' },
        ],
        lookup: { service: 'a', tool: 'b_c' },
      },
      expected: 'mcp_a_b_c_662f0b',
      why: 'different (service, tool) splits of one name collide and are told apart',
    },
  ])('$why', ({ input, expected }) => {
    const table = buildFunctionNames(input.prefix, input.tools);
    expect(table.nameOf(input.lookup.service, input.lookup.tool)).toBe(expected);
    expect(table.resolve(expected)).toEqual(input.lookup);
  });

  const catalogue: ToolRef[] = [
    { service: 'todo', tool: 'add_item' },
    { service: 'todo', tool: 'list-items' },
    { service: 'fs', tool: 'read.file' },
    { service: 'fs', tool: 'read_file' },
    { service: 'fs', tool: 'read-file' },
    { service: 'svc', tool: long },
    { service: 'svc', tool: `${long}!` },
    { service: 'hangup', tool: 'hook' },
    { service: 'startup', tool: 'hook' },
    { service: 'summarize', tool: 'conversation' },
    { service: 'weather', tool: 'prévision' },
    { service: 'weather', tool: 'pr_vision' },
    { service: 'svc', tool: hashTwinA },
    { service: 'svc', tool: hashTwinB },
    { service: 'svc', tool: 'a.b' },
    { service: 'svc', tool: 'a_b_dc81a8' },
  ];

  test('every name is valid, at most 64 characters, unique and never a reserved hook (SPEC §9)', () => {
    const table = buildFunctionNames('mcp_', catalogue);
    const names = catalogue.map(({ service, tool }) => table.nameOf(service, tool));
    for (const name of names) {
      expect(name).toMatch(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/);
      expect(['hangup_hook', 'startup_hook', 'summarize_conversation']).not.toContain(name);
    }
    expect(new Set(names).size).toBe(catalogue.length);
  });

  test('the mapping is reversible: resolve(nameOf(tool)) is that tool (SPEC §9)', () => {
    const table = buildFunctionNames('mcp_', catalogue);
    for (const ref of catalogue) {
      expect(table.resolve(table.nameOf(ref.service, ref.tool) ?? '')).toEqual(ref);
    }
  });

  test('names do not depend on the order of the tools (SPEC §9)', () => {
    const forward = buildFunctionNames('mcp_', catalogue);
    const orders = [[...catalogue].reverse(), [...catalogue.slice(7), ...catalogue.slice(0, 7)]];
    for (const order of orders) {
      const table = buildFunctionNames('mcp_', order);
      for (const { service, tool } of catalogue) {
        expect(table.nameOf(service, tool)).toBe(forward.nameOf(service, tool));
      }
    }
  });

  test('unknown names and tools resolve to undefined', () => {
    const table = buildFunctionNames('mcp_', catalogue);
    expect(table.resolve('mcp_nope')).toBeUndefined();
    expect(table.resolve('hangup_hook')).toBeUndefined();
    expect(table.nameOf('todo', 'nope')).toBeUndefined();
  });

  test('resolve hands out a copy, so a caller cannot corrupt the table', () => {
    const table = buildFunctionNames('mcp_', [{ service: 'todo', tool: 'add' }]);
    const ref = table.resolve('mcp_todo_add');
    if (ref) ref.tool = 'changed';
    expect(table.resolve('mcp_todo_add')).toEqual({ service: 'todo', tool: 'add' });
  });

  test('a clash no hash can separate fails loudly instead of looping (only NUL in a service name)', () => {
    const tools = [
      { service: 'a\0b', tool: 'c' },
      { service: 'a', tool: 'b\0c' },
    ];
    expect(() => buildFunctionNames('mcp_', tools)).toThrow(/SWAIG function names clash/);
  });
});
