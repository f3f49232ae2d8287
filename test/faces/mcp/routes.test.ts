import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BASIC, fixtureService, startTestGateway, TOKEN, type TestGateway } from '../../helpers/gateway.js';
import { isRunning } from '../../helpers/processes.js';
import { waitFor } from '../../helpers/wait-for.js';

let gw: TestGateway;
let scratch: string;
const cancelFile = (): string => join(scratch, 'cancelled.log');

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mcp-face-'));
  gw = await startTestGateway({
    services: {
      fx: fixtureService([], { env: { FIXTURE_CANCEL_FILE: cancelFile() } }),
      other: fixtureService(),
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await rm(scratch, { recursive: true, force: true });
});

interface ToolResult {
  content?: Array<{ type: string; text?: string }>;
  isError?: boolean;
  structuredContent?: unknown;
}

/** What a test needs of either SDK's client. */
interface McpClient {
  sessionId: string | undefined;
  tools(): Promise<string[]>;
  call(name: string, args?: Record<string, unknown>): Promise<ToolResult>;
  text(name: string, args?: Record<string, unknown>): Promise<string>;
  terminate(): Promise<void>;
  close(): Promise<void>;
}

type Connect = (path: string, headers?: Record<string, string>) => Promise<McpClient>;

/** The shape both SDK generations share, as far as these tests use it. */
interface SdkClient {
  connect(transport: never): Promise<void>;
  listTools(): Promise<{ tools: Array<{ name: string }> }>;
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
  close(): Promise<void>;
}
interface SdkTransport {
  readonly sessionId?: string;
  terminateSession(): Promise<void>;
}

function connector(makeClient: () => SdkClient, makeTransport: (url: URL, headers: Record<string, string>) => SdkTransport, authorization: string): Connect {
  return async (path, headers = {}) => {
    const transport = makeTransport(new URL(`${gw.url}${path}`), { authorization, ...headers });
    const client = makeClient();
    await client.connect(transport as never);
    const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as ToolResult;
    return {
      get sessionId() {
        return transport.sessionId;
      },
      tools: async () => (await client.listTools()).tools.map((tool) => tool.name),
      call,
      text: async (name, args) => (await call(name, args)).content?.[0]?.text ?? '',
      terminate: () => transport.terminateSession(),
      close: () => client.close(),
    };
  };
}

/** The official SDK v1 client, which most MCP clients embed (Basic credentials). */
const connectV1 = connector(
  () => new ClientV1({ name: 'test-v1', version: '1.0.0' }),
  (url, headers) => new TransportV1(url, { requestInit: { headers } }),
  BASIC,
);
/** The official SDK v2 client (Bearer credentials). */
const connectV2 = connector(
  () => new ClientV2({ name: 'test-v2', version: '1.0.0' }),
  (url, headers) => new TransportV2(url, { requestInit: { headers } }),
  `Bearer ${TOKEN}`,
);

const pidsOf = (sessionId: string): number[] =>
  gw.gateway.registry
    .list()
    .filter((session) => session.id === sessionId)
    .map((session) => session.upstream.pid!);

describe.each([
  ['SDK v1', connectV1],
  ['SDK v2', connectV2],
])('%s client', (_name, connect) => {
  test('/mcp/<service>: list, call, one MCP session = one server process, isolation, termination, isError', async () => {
    const first = await connect('/mcp/fx');
    expect(await first.tools()).toEqual(expect.arrayContaining(['count', 'pid', 'fail', 'echo']));
    expect([await first.text('count'), await first.text('count'), await first.text('count')]).toEqual(['1', '2', '3']);
    const [pid] = pidsOf(first.sessionId!);
    expect(pidsOf(first.sessionId!)).toEqual([pid]);
    expect(await first.text('pid')).toBe(String(pid));

    const second = await connect('/mcp/fx');
    expect(await second.text('count')).toBe('1');
    expect(pidsOf(second.sessionId!)).not.toContain(pid);

    expect(await first.call('fail')).toMatchObject({ isError: true, content: [{ type: 'text', text: 'fail requested' }] });
    expect(await first.call('structured')).toMatchObject({ structuredContent: { answer: 42 } });

    await first.terminate();
    await waitFor(() => !isRunning(pid!), { what: 'the terminated session to end its server' });
    expect(await second.text('count')).toBe('2');
    await second.terminate();
    await Promise.all([first.close(), second.close()]);
  });

  test('/mcp: every service, tools named <service>_<tool>', async () => {
    const client = await connect('/mcp');
    const tools = await client.tools();
    expect(tools).toEqual(expect.arrayContaining(['fx_count', 'fx_pid', 'other_count', 'other_echo']));
    expect([await client.text('fx_count'), await client.text('fx_count'), await client.text('other_count')]).toEqual(['1', '2', '1']);
    expect(await client.text('other_echo', { text: 'milk' })).toBe('milk');
    // One gateway session, one server per service.
    expect(pidsOf(client.sessionId!)).toHaveLength(2);
    await client.terminate();
    await client.close();
  });
});

/** A v2 client with whatever options a test needs, for the features only it exposes. */
async function rawV2(path: string, options: ConstructorParameters<typeof ClientV2>[1] = {}, headers: Record<string, string> = {}) {
  const transport = new TransportV2(new URL(`${gw.url}${path}`), { requestInit: { headers: { authorization: BASIC, ...headers } } });
  const client = new ClientV2({ name: 'test-v2', version: '1.0.0' }, options);
  await client.connect(transport);
  return { client, transport };
}

describe('what passes through', () => {
  test('progress notifications reach the client; cancellation reaches the server', async () => {
    const { client, transport } = await rawV2('/mcp/fx');
    const seen: number[] = [];
    const result = await client.callTool({ name: 'progress', arguments: { steps: 3, intervalMs: 30 } }, { onprogress: ({ progress }) => void seen.push(progress) });
    expect(result.content).toEqual([{ type: 'text', text: 'done after 3 steps' }]);
    // The last notification may lose the race with the result (SDK gotcha 6).
    expect(seen.length).toBeGreaterThanOrEqual(1);

    const abort = new AbortController();
    const hanging = client.callTool({ name: 'hang', arguments: {} }, { signal: abort.signal });
    await waitFor(() => gw.gateway.registry.list().some((session) => session.id === transport.sessionId && session.inFlight === 1), { what: 'the call to be in flight' });
    abort.abort();
    await expect(hanging).rejects.toThrow();
    await waitFor(async () => (await readFile(cancelFile(), 'utf8').catch(() => '')).trim() !== '', { what: 'the server to see the cancellation' });
    await transport.terminateSession();
    await client.close();
  });

  test('tools/list_changed from the server reaches the client', async () => {
    let announce!: (names: string[]) => void;
    const announced = new Promise<string[]>((resolve) => (announce = resolve));
    const { client, transport } = await rawV2('/mcp/fx', {
      listChanged: { tools: { debounceMs: 0, onChanged: (_error, tools) => announce((tools ?? []).map((tool) => tool.name)) } },
    });
    await client.callTool({ name: 'add_tool', arguments: {} });
    expect(await announced).toContain('added_1');
    await transport.terminateSession();
    await client.close();
  });

  test('/mcp/<service> relays resources and prompts', async () => {
    const { client, transport } = await rawV2('/mcp/fx');
    const { resources } = await client.listResources();
    expect(resources).toEqual([{ uri: 'fixture://note', name: 'note', mimeType: 'text/plain' }]);
    // Read from the session's own server process.
    const [pid] = pidsOf(transport.sessionId!);
    expect(await client.readResource({ uri: 'fixture://note' })).toMatchObject({ contents: [{ text: `note of process ${pid}` }] });
    await expect(client.readResource({ uri: 'fixture://other' })).rejects.toThrow(/Resource not found/);
    expect((await client.listPrompts()).prompts.map((prompt) => prompt.name)).toEqual(['greet']);
    expect(await client.getPrompt({ name: 'greet', arguments: { who: 'Ada' } })).toMatchObject({
      messages: [{ role: 'user', content: { type: 'text', text: 'Say hello to Ada.' } }],
    });
    await transport.terminateSession();
    await client.close();
  });

  test('a 2026-07-28 client is served too; X-Session-Id keeps its state across requests', async () => {
    const { client } = await rawV2('/mcp/fx', { versionNegotiation: { mode: 'auto' } }, { 'X-Session-Id': 'modern-1' });
    expect(client.getProtocolEra()).toBe('modern');
    const count = async () => ((await client.callTool({ name: 'count', arguments: {} })).content as Array<{ text: string }>)[0]!.text;
    expect([await count(), await count()]).toEqual(['1', '2']);
    expect(pidsOf('modern-1')).toHaveLength(1);
    gw.gateway.registry.closeSessionId('modern-1');
    await client.close();
  });
});

describe('one phone call, several faces', () => {
  test('X-Session-Id joins the gateway session that a REST call names: the state carries across', async () => {
    const client = await connectV1('/mcp/fx', { 'X-Session-Id': 'abc' });
    expect([await client.text('count'), await client.text('count')]).toEqual(['1', '2']);
    const rest = await gw.call('fx', { tool: 'count', session_id: 'abc' });
    expect(rest.body).toMatchObject({ result: '3', session_created: false });
    expect(await client.text('count')).toBe('4');
    expect(pidsOf('abc')).toHaveLength(1);
    await client.terminate();
    await waitFor(() => pidsOf('abc').length === 0, { what: 'the joined session to close' });
    await client.close();
  });
});

describe('plain HTTP, as SignalWire posts it', () => {
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: { authorization: BASIC, 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const INITIALIZE = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'plain', version: '1' } },
  };

  test('a client that accepts only application/json gets JSON answers, in and out of a session', async () => {
    const init = await post('/mcp/fx', INITIALIZE, { 'x-session-id': 'sw-call-1' });
    expect(init.status).toBe(200);
    expect(init.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await init.json()) as any).result.serverInfo.name).toBe('mcp-gateway/fx');
    const mcpSessionId = init.headers.get('mcp-session-id')!;
    expect(mcpSessionId).toBeTruthy();

    const inSession = await post('/mcp/fx', { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'count', arguments: {} } }, {
      'x-session-id': 'sw-call-1',
      'mcp-session-id': mcpSessionId,
    });
    expect(inSession.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await inSession.json()).toMatchObject({ id: 2, result: { content: [{ type: 'text', text: '1' }] } });

    // Without the MCP session, the named gateway session still holds the state.
    const sessionless = await post('/mcp/fx', { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'count', arguments: {} } }, {
      'x-session-id': 'sw-call-1',
    });
    expect(sessionless.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await sessionless.json()).toMatchObject({ id: 3, result: { content: [{ type: 'text', text: '2' }] } });
    gw.gateway.registry.closeSessionId('sw-call-1');
  });

  test('no credentials → 401; unknown service → 404; unknown MCP session → 404', async () => {
    const anonymous = await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(INITIALIZE) });
    expect(anonymous.status).toBe(401);
    expect((await post('/mcp/nope', INITIALIZE)).status).toBe(404);
    expect((await post('/mcp/fx', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-session-id': 'forgotten' })).status).toBe(404);
  });
});
