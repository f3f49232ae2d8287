#!/usr/bin/env node
// The remote-service counterpart of echo-server.mjs: one tool `echo` over Streamable HTTP
// (stateful, one MCP session per client), built on the official SDK as hosted servers are.
// Listens on 127.0.0.1 on a free port and prints {"port": N} on stdout.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const TOOLS = [{
  name: 'echo',
  description: 'Return the given text unchanged.',
  inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
}];
const sessions = new Map();

async function handle(request, response) {
  const id = request.headers['mcp-session-id'];
  if (id !== undefined) {
    const transport = sessions.get(id);
    if (transport) return transport.handleRequest(request, response);
    response.writeHead(404).end();
    return;
  }
  const server = new Server({ name: 'bench-http-echo', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (call) => ({ content: [{ type: 'text', text: String(call.params.arguments?.text ?? '') }] }));
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: randomUUID,
    onsessioninitialized: (sessionId) => void sessions.set(sessionId, transport),
    onsessionclosed: (sessionId) => void sessions.delete(sessionId),
  });
  await server.connect(transport);
  await transport.handleRequest(request, response);
}

const httpServer = createServer((request, response) => {
  handle(request, response).catch((error) => {
    if (!response.headersSent) response.writeHead(500).end(String(error));
  });
});
httpServer.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: httpServer.address().port })}\n`));
process.on('SIGTERM', () => process.exit(0));
