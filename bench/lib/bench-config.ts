/** The one configuration every gateway the bench starts runs on, plus what it takes to clean up after it. */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { processesWithEnv, type LiveProcess } from './processes.js';

export const ECHO_SERVER = fileURLToPath(new URL('../echo-server.mjs', import.meta.url));
const HTTP_ECHO_SERVER = fileURLToPath(new URL('../http-echo-server.mjs', import.meta.url));

/** The demo server was renamed from .mjs to .js; take whichever this checkout has. */
export function demoServerPath(): string {
  for (const name of ['todo-server.js', 'todo-server.mjs']) {
    const path = fileURLToPath(new URL(`../../demo/${name}`, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('demo/todo-server.js (or .mjs) not found');
}

/** Environment key whose value is unique per gateway: how /proc tells its children apart. */
const MARKER_KEY = 'MCP_GATEWAY_BENCH_RUN';

export interface BenchSetup {
  /** Raw config, as a config file would hold it (parsed by the gateway's own parseConfig). */
  raw: Record<string, unknown>;
  authorization: string;
  /** Live processes started by this gateway's services (servers and anything they started). */
  processes(): Promise<LiveProcess[]>;
  /** The Streamable HTTP echo server behind the `echo_remote` service (for its direct baseline). */
  remoteEchoUrl: string;
  /** Removes the private sandbox directory and stops the HTTP echo server. */
  cleanup(): Promise<void>;
}

/** The HTTP echo server (a remote service) runs as long as the setup; it is not the gateway's child. */
async function startHttpEcho(): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [HTTP_ECHO_SERVER], { stdio: ['ignore', 'pipe', 'ignore'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const { port } = JSON.parse(line) as { port: number };
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Today's mechanisms alone: no per-session uid, no cgroup. */
const UNCONTAINED = { session_uids: false, cgroups: 'off' };

export async function createBenchSetup(): Promise<BenchSetup> {
  const marker = randomUUID();
  const token = randomBytes(24).toString('hex');
  const sandboxDir = await mkdtemp(join(tmpdir(), 'mcp-gw-bench-'));
  const env = { [MARKER_KEY]: marker };
  const httpEcho = await startHttpEcho();
  return {
    raw: {
      server: { host: '127.0.0.1', port: 0, auth_token: token },
      services: {
        echo: { command: [process.execPath, ECHO_SERVER], description: 'bench echo', env },
        todo: { command: [process.execPath, demoServerPath()], description: 'demo to-do list', env },
        // (h) the sandbox's cost: the same echo server without a warm pool, with the sandbox off,
        // with the restricted environment and private directory only, with prlimit but no per-session
        // uid or cgroup, and with the default sandbox (as root: own uid and cgroup per session).
        echo_bare: { command: [process.execPath, ECHO_SERVER], description: 'echo, no sandbox', env, warm_pool: 0, sandbox: { enabled: false } },
        echo_env_only: { command: [process.execPath, ECHO_SERVER], description: 'echo, no limits', env, warm_pool: 0, sandbox: { resource_limits: false, ...UNCONTAINED } },
        echo_uncontained: { command: [process.execPath, ECHO_SERVER], description: 'echo, prlimit only', env, warm_pool: 0, sandbox: UNCONTAINED },
        echo_sandboxed: { command: [process.execPath, ECHO_SERVER], description: 'echo, default sandbox', env, warm_pool: 0 },
        // (j) a remote service: the same echo tool served over Streamable HTTP.
        echo_remote: { url: httpEcho.url, description: 'echo over Streamable HTTP' },
      },
      // Generous limits: the bench opens 100 sessions at once and churns through 500.
      session: { max_total_sessions: 1000, max_sessions_per_service: 1000, sandbox_dir: sandboxDir },
      rate_limiting: { enabled: false },
      logging: { level: 'warn' },
    },
    authorization: `Bearer ${token}`,
    processes: () => processesWithEnv(MARKER_KEY, marker),
    remoteEchoUrl: httpEcho.url,
    cleanup: async () => {
      await httpEcho.stop();
      await rm(sandboxDir, { recursive: true, force: true });
    },
  };
}
