import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { mergeMcpServers } from '../../src/config/mcp-servers.js';

const SERVER = { auth_token: 't' };
const parse = (raw: Record<string, unknown>, warnings: string[] = []) =>
  parseConfig({ server: SERVER, ...raw }, { env: { HOME_DIR: '/home/x' }, source: 'c.json', onWarning: (message, path) => warnings.push(`${path}: ${message}`) });

describe('mcpServers in the MCP clients\' shape (SPEC §15)', () => {
  test('command, args and env become a service next to services, with ${VAR} substitution', () => {
    const config = parse({
      services: { own: { command: ['node', 'own.js'] } },
      mcpServers: { files: { command: 'npx', args: ['-y', 'server-filesystem', '${HOME_DIR}'], env: { LOG: '1' } } },
    });
    expect(Object.keys(config.services)).toEqual(['own', 'files']);
    expect(config.services['files']).toMatchObject({ name: 'files', command: ['npx', '-y', 'server-filesystem', '/home/x'], env: { LOG: '1' }, enabled: true });
  });

  test('"disabled": true and "cwd" map to enabled and the working directory; other client keys are warnings', () => {
    const warnings: string[] = [];
    const config = parse({ mcpServers: { a: { command: 'a', disabled: true }, b: { command: 'b', cwd: '/srv/b', autoApprove: [] } } }, warnings);
    expect(config.services['a']?.enabled).toBe(false);
    expect(config.services['b']?.sandbox.working_dir).toBe('/srv/b');
    expect(warnings).toEqual(['mcpServers.b.autoApprove: unknown config key ignored']);
  });

  test.each([
    { why: 'a name the gateway cannot use', raw: { 'my server': { command: 'x' } }, message: /^c\.json: mcpServers\.my server: expected a service name/ },
    { why: 'a name also in services', raw: { own: { command: 'x' } }, message: /^c\.json: mcpServers\.own: "own" is also defined in services$/ },
    { why: 'no command', raw: { a: { args: [] } }, message: /^c\.json: mcpServers\.a\.command: expected the program to run/ },
    { why: 'args that are not a list', raw: { a: { command: 'x', args: '-v' } }, message: /^c\.json: mcpServers\.a\.args: expected an array of strings$/ },
    { why: 'an unknown type', raw: { a: { type: 'websocket', command: 'x' } }, message: /^c\.json: mcpServers\.a\.type: expected "stdio", "http" or "sse", got "websocket"$/ },
    { why: 'a bad value found by the schema', raw: { a: { command: 'x', env: { 'A=B': '1' } } }, message: /^c\.json: mcpServers\.a\.env\.A=B: expected an environment variable name/ },
  ])('$why is an error naming the mcpServers key', ({ raw, message }) => {
    expect(() => parse({ services: { own: { command: ['own'] } }, mcpServers: raw })).toThrow(message);
  });

  test('remote entries become url services: type "http" is Streamable HTTP, "sse" the legacy transport, no type "auto"', () => {
    const tree: Record<string, unknown> = {
      mcpServers: {
        docs: { type: 'http', url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer x' } },
        legacy: { type: 'sse', url: 'https://old.example.com/sse' },
        plain: { url: 'https://any.example.com/mcp' },
      },
    };
    mergeMcpServers(tree, 'c.json', () => {});
    expect(tree).toEqual({
      services: {
        docs: { url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer x' }, transport: 'streamable-http' },
        legacy: { url: 'https://old.example.com/sse', transport: 'sse' },
        plain: { url: 'https://any.example.com/mcp', transport: 'auto' },
      },
    });
  });
});
