/**
 * Real parts for the several-instances tests (SPEC §12): a Redis of the test's own, compiled
 * gateways as child processes, and Debian's nginx as a plain round-robin balancer in front.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { waitFor } from './wait-for.js';

const BIN = fileURLToPath(new URL('../../bin/mcp-gateway.js', import.meta.url));

/** A port nobody listens on right now (the gateways' instance_url must be known before they start). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  return typeof address === 'object' && address ? address.port : 0;
}

export interface Child {
  process: ChildProcess;
  /** The last output lines, for failure messages. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  isRunning(): boolean;
  /** Signals and waits; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

function track(child: ChildProcess): Child {
  let output = '';
  const keep = (chunk: Buffer): void => void (output = (output + chunk.toString('utf8')).slice(-8000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    process: child,
    output: () => output,
    exited,
    isRunning,
    async stop(signal = 'SIGTERM', graceMs = 15_000) {
      if (!isRunning()) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export async function startRedis(port: number): Promise<Child> {
  const redis = track(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await waitFor(async () => (await client.connect().then(() => client.ping(), () => undefined)) === 'PONG', { deadlineMs: 10_000, what: `redis on ${port}` });
  } finally {
    client.disconnect();
  }
  return redis;
}

/** nginx with its own prefix, config, pid and logs under `dir`; round robin, no stickiness. */
export async function startNginx(dir: string, port: number, upstreams: number[]): Promise<Child> {
  await mkdir(join(dir, 'logs'), { recursive: true });
  const conf = `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream gateways {
${upstreams.map((upstream) => `    server 127.0.0.1:${upstream};`).join('\n')}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_read_timeout 120s;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`;
  const confPath = join(dir, 'nginx.conf');
  await writeFile(confPath, conf);
  const nginx = track(spawn('nginx', ['-p', dir, '-c', confPath, '-e', join(dir, 'logs', 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] }));
  await waitFor(async () => {
    if (!nginx.isRunning()) throw new Error(`nginx exited: ${nginx.output()}`);
    return fetch(`http://127.0.0.1:${port}/health`).then(() => true, () => false);
  }, { deadlineMs: 10_000, what: 'nginx' });
  return nginx;
}

/** The compiled gateway (`bin/mcp-gateway.js -c <config>`), resolved once `/ready` answers 200. */
export async function startGateway(configPath: string, port: number, cwd: string): Promise<Child> {
  const gateway = track(spawn(process.execPath, [BIN, '-c', configPath], { cwd, stdio: ['ignore', 'pipe', 'pipe'] }));
  try {
    await waitFor(async () => {
      if (!gateway.isRunning()) throw new Error(`gateway exited: ${gateway.output()}`);
      const response = await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined);
      return response?.status === 200;
    }, { deadlineMs: 60_000, what: `gateway on ${port}` });
  } catch (error) {
    await gateway.stop('SIGKILL');
    throw error;
  }
  return gateway;
}
