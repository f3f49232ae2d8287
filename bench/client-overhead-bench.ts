/**
 * CPU per tools/call round trip of the SDK client the gateway uses (src/upstream/mcp-client.ts
 * calls `Client.request` with the same options) against the least a JSON-RPC client must do on
 * the same framing: serialise, keep the pending request in a map with a timer, parse the answer.
 * Both talk to an in-memory server that answers on the next microtask, so only client work is
 * measured. Run: npx tsx bench/client-overhead-bench.ts
 */
import { Client, type JSONRPCMessage, type StandardSchemaV1, type Transport } from '@modelcontextprotocol/client';

const CALLS = 20_000;
const ROUNDS = 4;
const CALL_TIMEOUT_MS = 30_000;

/** Answers `initialize` and `tools/call` (echo) through a JSON round trip, like a pipe would. */
class InMemoryServer implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;

  async start(): Promise<void> {}
  async close(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    const request = JSON.parse(JSON.stringify(message)) as { id?: number; method: string; params: Record<string, any> };
    if (request.id === undefined) return;
    const result =
      request.method === 'initialize'
        ? { protocolVersion: request.params['protocolVersion'], capabilities: { tools: {} }, serverInfo: { name: 'bench', version: '1.0.0' } }
        : { content: [{ type: 'text', text: request.params['arguments'].text }] };
    const answer = JSON.stringify({ jsonrpc: '2.0', id: request.id, result });
    queueMicrotask(() => this.onmessage?.(JSON.parse(answer) as JSONRPCMessage));
  }
}

/** The gateway relays results without judging them (mcp-client.ts does the same). */
const RELAYED: StandardSchemaV1<unknown, unknown> = { '~standard': { version: 1, vendor: 'bench', validate: (value) => ({ value }) } };

async function sdkClient(): Promise<() => Promise<unknown>> {
  const client = new Client({ name: 'bench', version: '1.0.0' }, { capabilities: {}, versionNegotiation: { mode: 'auto' } });
  await client.connect(new InMemoryServer(), { prior: { kind: 'legacy' } });
  return () =>
    client.request({ method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' } } }, RELAYED, {
      timeout: CALL_TIMEOUT_MS,
      resetTimeoutOnProgress: true,
      maxTotalTimeout: CALL_TIMEOUT_MS * 10,
      onprogress: () => {},
      signal: new AbortController().signal,
    });
}

function thinClient(): () => Promise<unknown> {
  const server = new InMemoryServer();
  const pending = new Map<number, { resolve: (result: unknown) => void; timer: NodeJS.Timeout }>();
  let nextId = 0;
  server.onmessage = (message) => {
    const { id, result } = message as { id: number; result: unknown };
    const entry = pending.get(id);
    if (!entry) return;
    pending.delete(id);
    clearTimeout(entry.timer);
    entry.resolve(result);
  };
  return () =>
    new Promise((resolve) => {
      const id = ++nextId;
      pending.set(id, { resolve, timer: setTimeout(() => pending.delete(id), CALL_TIMEOUT_MS) });
      void server.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' } } });
    });
}

/** CPU µs per call of `calls` sequential calls (process.cpuUsage: steadier than wall time on a shared machine). */
async function cpuPerCall(call: () => Promise<unknown>, calls: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) await call();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / calls;
}

async function main(): Promise<void> {
  const clients = { sdk: await sdkClient(), thin: thinClient() };
  const samples = { sdk: [] as number[], thin: [] as number[] };
  // Alternate rounds so drift (JIT, GC, a noisy neighbour) hits both alike; round 0 only warms up.
  for (let round = 0; round <= ROUNDS; round++) {
    for (const name of ['sdk', 'thin'] as const) {
      const perCall = await cpuPerCall(clients[name], CALLS);
      if (round > 0) samples[name].push(perCall);
    }
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log(`node ${process.version}, ${ROUNDS}×${CALLS} calls each, CPU µs per tools/call round trip (median of rounds)`);
  console.log(`SDK Client.request   ${median(samples.sdk).toFixed(1).padStart(7)} µs`);
  console.log(`thin JSON-RPC client ${median(samples.thin).toFixed(1).padStart(7)} µs`);
  console.log(`difference           ${(median(samples.sdk) - median(samples.thin)).toFixed(1).padStart(7)} µs`);
}

await main();
