/** The baseline: the official SDK talking stdio straight to the server, no gateway in between. */
import { Client, StreamableHTTPClientTransport, type CallToolResult, type PriorDiscovery } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { pollUntil } from './processes.js';

/** The SDK transport ends its child after close(); this long is allowed before it counts as left behind. */
const EXIT_DEADLINE_MS = 10_000;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface DirectClient {
  /** The protocol era found at connect, to hand to the next connect as `prior` (as the gateway does). */
  verdict: PriorDiscovery;
  callTool(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  /** Closes the client and resolves once the server process has exited (throws if it does not). */
  close(): Promise<void>;
}

/**
 * `prior` skips era negotiation, as the gateway does after its first start of a service: a legacy
 * server then gets `initialize`, a modern (2026-07-28) one no round trip at all.
 */
export async function connectDirect(command: string, args: string[], prior?: PriorDiscovery): Promise<DirectClient> {
  // stderr piped (and drained), as the gateway does, so neither side writes to the terminal.
  const transport = new StdioClientTransport({ command, args, stderr: 'pipe' });
  transport.stderr?.on('data', () => {});
  // The gateway negotiates with mode 'auto' (src/upstream/mcp-client.ts); the baseline must speak
  // the same protocol era to the same server, or it measures a different server code path.
  const client = new Client({ name: 'mcp-gateway-bench', version: '1.0.0' }, { capabilities: {}, versionNegotiation: { mode: 'auto' } });
  await client.connect(transport, prior ? { prior } : undefined);
  const discover = client.getDiscoverResult();
  const verdict: PriorDiscovery = client.getProtocolEra() === 'modern' && discover ? { kind: 'modern', discover } : { kind: 'legacy' };
  const pid = transport.pid;
  return {
    verdict,
    callTool: async (name, toolArgs) => (await client.callTool({ name, arguments: toolArgs })) as CallToolResult,
    async close() {
      await client.close();
      if (pid !== null && !(await pollUntil(async () => !isRunning(pid), EXIT_DEADLINE_MS))) {
        throw new Error(`direct stdio server ${pid} still running after close`);
      }
    },
  };
}

/** The SDK over Streamable HTTP: the floor for a remote service, and the client of the MCP face. */
export async function connectHttp(url: string, headers: Record<string, string> = {}): Promise<Omit<DirectClient, 'verdict'>> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client({ name: 'mcp-gateway-bench', version: '1.0.0' }, { capabilities: {} });
  await client.connect(transport);
  return {
    callTool: async (name, toolArgs) => (await client.callTool({ name, arguments: toolArgs })) as CallToolResult,
    async close() {
      await transport.terminateSession();
      await client.close();
    },
  };
}

/** The first text block of a result, or undefined. */
export function firstText(result: CallToolResult): string | undefined {
  const first = result.content?.[0];
  return first?.type === 'text' ? first.text : undefined;
}
