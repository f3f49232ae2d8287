import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { BASIC, fixtureService, startTestGateway, type TestGateway } from '../../helpers/gateway.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({
    services: { fx: fixtureService() },
    session: { max_sessions_per_service: 1 },
    rate_limiting: { enabled: true, call_limit: '3 per minute', default_limits: '1000 per minute' },
  });
});
afterAll(() => gw?.close());

async function connect(): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp/fx`), { requestInit: { headers: { authorization: BASIC } } });
  const client = new Client({ name: 'limits', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

const text = (result: { content?: unknown }): string => (result.content as Array<{ text: string }>)[0]!.text;

test('session limits and the REST rate limits apply to MCP-face sessions (SPEC §5, §8, §13)', async () => {
  const first = await connect();
  expect(text(await first.client.callTool({ name: 'count', arguments: {} }))).toBe('1');

  // max_sessions_per_service: 1 — a second MCP session cannot start a second server.
  const second = await connect();
  const refused = await second.client.callTool({ name: 'count', arguments: {} });
  expect(refused).toMatchObject({ isError: true });
  expect(text(refused)).toBe('Max sessions limit reached for service fx');

  // The call bucket is the REST one, per (client, session) by default: 3 per minute for this
  // session between both faces.
  expect(text(await first.client.callTool({ name: 'count', arguments: {} }))).toBe('2');
  expect(text(await first.client.callTool({ name: 'count', arguments: {} }))).toBe('3');
  const limited = await first.client.callTool({ name: 'count', arguments: {} });
  expect(limited).toMatchObject({ isError: true });
  expect(text(limited)).toBe('Rate limit exceeded: 3 per 1 minute');
  const rest = await gw.call('fx', { tool: 'count', session_id: first.transport.sessionId });
  expect(rest.status).toBe(429);

  for (const { client, transport } of [first, second]) {
    await transport.terminateSession();
    await client.close();
  }
});
