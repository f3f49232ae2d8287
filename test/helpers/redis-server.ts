import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { RUN_MARKER_KEY, runMarker } from './run-marker.js';

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** A throwaway redis-server of the test's own, so the shared one is never stopped or frozen. */
export async function startRedis(port: number, password: string): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', password, '--save', '', '--appendonly', 'no', '--dir', tmpdir()];
  const child = spawn('redis-server', args, {
    env: { ...process.env, [RUN_MARKER_KEY]: runMarker() },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (data: Buffer): void => {
      output += data.toString();
      if (!output.includes('Ready to accept connections')) return;
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      resolve();
    };
    const onExit = (code: number | null): void => reject(new Error(`redis-server exited with ${code}: ${output}`));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
  // Keep draining its log so a full pipe never blocks it.
  child.stdout?.resume();
  return child;
}

/** SIGKILL works on a stopped process too, so a test that froze its Redis can always end it. */
export async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}
