/**
 * Many MCP-face requests over one keep-alive connection. REST calls share their connection's
 * abort signal (faces/rest/routes.ts); a web Request keeps its listener on the signal it is given,
 * so the MCP face must give each request a signal of its own, or a long-lived client connection
 * collects one listener per request (and Node warns past 1500).
 */
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { BASIC, fixtureService, startTestGateway, type TestGateway } from '../../helpers/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ services: { fx: fixtureService() } });
});
afterAll(async () => {
  await gw?.close();
});

/** More requests than the 1500 listeners at which Node warns about an EventTarget leak. */
const REQUESTS = 1600;

test('1600 MCP requests on one keep-alive connection leave no abort listeners behind', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(`${gw.url}/mcp/fx`);
  const post = (id: number): Promise<{ status: number; text: string; socket: unknown }> =>
    new Promise((resolve, reject) => {
      const payload = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: `n${id}` } } });
      const headers = {
        authorization: BASIC,
        'content-type': 'application/json',
        accept: 'application/json',
        'mcp-protocol-version': '2025-06-18',
        'x-session-id': 'mcp-keep-alive',
        'content-length': Buffer.byteLength(payload),
      };
      const req = request({ agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, socket: req.socket }));
      });
      req.on('error', reject);
      req.end(payload);
    });
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning);
  process.on('warning', onWarning);
  try {
    const sockets = new Set<unknown>();
    let answered = 0;
    for (let id = 1; id <= REQUESTS; id++) {
      const { status, text, socket } = await post(id);
      sockets.add(socket);
      if (status === 200 && (JSON.parse(text) as { result?: { content?: Array<{ text?: string }> } }).result?.content?.[0]?.text === `n${id}`) answered += 1;
    }
    expect(answered).toBe(REQUESTS);
    expect(sockets.size).toBe(1);
    expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning').map((warning) => warning.message)).toEqual([]);
  } finally {
    process.off('warning', onWarning);
    agent.destroy();
  }
});
