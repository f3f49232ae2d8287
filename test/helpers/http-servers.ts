import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RUN_MARKER_KEY, runMarker } from './run-marker.js';
import { waitFor } from './wait-for.js';

export const REMOTE_FIXTURE = fileURLToPath(new URL('../fixtures/servers/remote-fixture.mjs', import.meta.url));
const EVERYTHING = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url));

export interface HttpServerProcess {
  /** http://127.0.0.1:<port> */
  origin: string;
  port: number;
  stop(): Promise<void>;
}

/** A test's own MCP server over HTTP; carries the run marker so the teardown sees a leak. */
function startChild(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, { env: { ...process.env, ...env, [RUN_MARKER_KEY]: runMarker() }, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** remote-fixture.mjs on `port` (0: a free one); `token` makes it demand `Authorization: Bearer <token>`. */
export async function startRemoteFixture(
  token?: string,
  port = 0,
): Promise<HttpServerProcess & { state(): Promise<{ open: number; ended: number }> }> {
  const child = startChild([REMOTE_FIXTURE], { PORT: String(port), ...(token === undefined ? {} : { FIXTURE_TOKEN: token }) });
  child.stderr!.resume();
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await once(lines, 'line')) as [string];
  const listening = (JSON.parse(first) as { port: number }).port;
  const origin = `http://127.0.0.1:${listening}`;
  return {
    origin,
    port: listening,
    async state() {
      const response = await fetch(`${origin}/state`);
      return (await response.json()) as { open: number; ended: number };
    },
    stop: () => stopChild(child),
  };
}

/** `mcp-server-everything streamableHttp` (it takes its port from PORT and cannot pick one itself). */
export async function startEverythingHttp(): Promise<HttpServerProcess> {
  const port = await freePort();
  const child = startChild([EVERYTHING, 'streamableHttp'], { PORT: String(port) });
  child.stdout!.resume();
  child.stderr!.resume();
  const origin = `http://127.0.0.1:${port}`;
  try {
    // Generous: its start loads express and the whole SDK, slow on a busy machine.
    await waitFor(async () => (await fetch(`${origin}/mcp`).then(() => true, () => false)), { what: 'server-everything listening', deadlineMs: 60_000 });
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return { origin, port, stop: () => stopChild(child) };
}

/** A port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}
