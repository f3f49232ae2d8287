#!/usr/bin/env node
// The cheapest stdio MCP server we can write (legacy era, one tool `echo`), so the benchmark
// measures the gateway and the SDK client, not the server. No logging, no validation.
const PROTOCOL_VERSIONS = new Set(['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25']);
const TOOLS = {
  tools: [{
    name: 'echo',
    description: 'Return the given text unchanged.',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  }],
};

function answer(request) {
  switch (request.method) {
    case 'tools/call':
      return { result: { content: [{ type: 'text', text: String(request.params?.arguments?.text ?? '') }] } };
    case 'tools/list':
      return { result: TOOLS };
    case 'initialize':
      return {
        result: {
          protocolVersion: PROTOCOL_VERSIONS.has(request.params?.protocolVersion) ? request.params.protocolVersion : '2025-11-25',
          capabilities: { tools: {} },
          serverInfo: { name: 'bench-echo', version: '1.0.0' },
        },
      };
    case 'ping':
      return { result: {} };
    default:
      return { error: { code: -32601, message: `Method not found: ${request.method}` } };
  }
}

let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let out = '';
  let newline;
  while ((newline = pending.indexOf('\n')) !== -1) {
    const line = pending.slice(0, newline);
    pending = pending.slice(newline + 1);
    const request = line.trim() === '' ? undefined : JSON.parse(line);
    if (request?.id !== undefined && request.method !== undefined) {
      out += `${JSON.stringify({ jsonrpc: '2.0', id: request.id, ...answer(request) })}\n`;
    }
  }
  // One write per chunk: with concurrent sessions a chunk often holds several requests.
  if (out !== '') process.stdout.write(out);
});
