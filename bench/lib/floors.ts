/**
 * What a warm gateway call cannot beat on this machine, measured in the same run: one exchange with
 * a trivial node:http server (same client, server in its own process) and one raw stdio JSON-RPC
 * round trip to the same echo server (newline framing, no SDK). Their sum is the floor of a call.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ECHO_SERVER } from './bench-config.js';
import { createJsonClient, type JsonClient } from './http-client.js';

const FLOOR_HTTP_SERVER = fileURLToPath(new URL('./floor-http-server.mjs', import.meta.url));

export interface HttpFloor {
  client: JsonClient;
  /** The server's process, for its CPU time. */
  pid: number;
  close(): Promise<void>;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.stdin?.end();
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(killTimer);
}

/** The gateway's token is 48 hex digits: the floor's client sends a header of the same size. */
const SAME_SIZE_AUTHORIZATION = `Bearer ${'0'.repeat(48)}`;

export async function startHttpFloor(): Promise<HttpFloor> {
  const child = spawn(process.execPath, [FLOOR_HTTP_SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const { value, done } = await lines.next();
  if (done) throw new Error('floor HTTP server exited before listening');
  const client = createJsonClient(`http://127.0.0.1:${Number(value)}`, SAME_SIZE_AUTHORIZATION);
  return {
    client,
    pid: child.pid!,
    async close() {
      client.close();
      await stopChild(child);
    },
  };
}

export interface StdioFloor {
  /** One tools/call round trip of `text`; resolves with the echoed text. */
  echo(text: string): Promise<string>;
  close(): Promise<void>;
}

/** The echo server spoken to with the least code that frames JSON-RPC over stdio. */
export function startStdioFloor(): StdioFloor {
  const child = spawn(process.execPath, [ECHO_SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting = new Map<number, (text: string) => void>();
  let nextId = 0;
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let newline;
    while ((newline = pending.indexOf('\n')) !== -1) {
      const message = JSON.parse(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      waiting.get(message.id)?.(message.result.content[0].text);
      waiting.delete(message.id);
    }
  });
  return {
    echo: (text) =>
      new Promise((resolve) => {
        const id = ++nextId;
        waiting.set(id, resolve);
        child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } })}\n`);
      }),
    close: () => stopChild(child),
  };
}
