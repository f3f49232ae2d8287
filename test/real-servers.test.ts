import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ServiceReport } from '../src/gateway.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

/** Real MCP servers from npm (dev dependencies), each started with the running Node. */
const entry = (path: string): string => fileURLToPath(new URL(`../node_modules/${path}`, import.meta.url));
const node = (path: string, ...args: string[]): string[] => [process.execPath, entry(path), ...args];

let gw: TestGateway;
let reports: ServiceReport[];
let files: string;

beforeAll(async () => {
  files = await mkdtemp(join(tmpdir(), 'real-servers-'));
  gw = await startTestGateway(
    {
      services: {
        // Its file in the session's private directory: each call has its own knowledge graph.
        memory: { command: node('@modelcontextprotocol/server-memory/dist/index.js'), env: { MEMORY_FILE_PATH: '{{session_dir}}/memory.jsonl' } },
        thinking: { command: node('@modelcontextprotocol/server-sequential-thinking/dist/index.js') },
        everything: { command: node('@modelcontextprotocol/server-everything/dist/index.js', 'stdio') },
        filesystem: { command: node('@modelcontextprotocol/server-filesystem/dist/index.js', files) },
        time: { command: node('time-mcp/dist/index.js') },
        calculator: { command: node('@coo-quack/calc-mcp/dist/index.js') },
        git: { command: node('mcp-git/dist/cli.js') },
      },
    },
    { skipValidation: true },
  );
  // All seven at once, on whatever cores this machine has.
  reports = await gw.gateway.validateServices();
});
afterAll(async () => {
  await gw?.close();
  await rm(files, { recursive: true, force: true });
});

describe('real MCP servers from npm', () => {
  test('seven servers started together all start', async () => {
    expect(reports.filter((report) => !report.ok)).toEqual([]);
    const services = (await gw.request('GET', '/services')).body as Record<string, { status: string; tools: number }>;
    expect(Object.keys(services)).toHaveLength(7);
    for (const [name, service] of Object.entries(services)) {
      expect(service.status, name).toBe('ready');
      expect(service.tools, name).toBeGreaterThan(0);
    }
  });

  test('two sessions of the memory server with {{session_dir}} do not see each other', async () => {
    const remember = async (session: string, name: string) => {
      const response = await gw.call('memory', {
        tool: 'create_entities',
        session_id: session,
        arguments: { entities: [{ name, entityType: 'person', observations: [`${name} called`] }] },
      });
      expect(response.status).toBe(200);
      expect(response.body.is_error).toBe(false);
    };
    const graph = async (session: string): Promise<string> => {
      const response = await gw.call('memory', { tool: 'read_graph', session_id: session, arguments: {} });
      expect(response.status).toBe(200);
      return response.body.result as string;
    };
    await remember('caller-a', 'Alice');
    await remember('caller-b', 'Bob');
    expect(await graph('caller-a')).toContain('Alice');
    expect(await graph('caller-a')).not.toContain('Bob');
    expect(await graph('caller-b')).toContain('Bob');
    expect(await graph('caller-b')).not.toContain('Alice');
  });
});
