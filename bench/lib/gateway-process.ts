/**
 * The compiled gateway in a child process (compiled-gateway.mjs), for the memory figure: the
 * in-process gateway shares its RSS with tsx and the bench client. Needs an up-to-date dist/
 * (`npm run build`); the bench says so rather than measure stale code.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createBenchSetup } from './bench-config.js';
import type { GatewayUnderTest } from './bench-gateway.js';
import { createJsonClient } from './http-client.js';
import { killGroups } from './processes.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const CHILD = fileURLToPath(new URL('./compiled-gateway.mjs', import.meta.url));

export interface GatewayProcess extends GatewayUnderTest {
  pid: number;
  /** Asks the gateway to close (as a shutdown would) and waits for its process to exit. */
  close(): Promise<void>;
}

/** Bound for one command (start includes validating both services). */
const ANSWER_TIMEOUT_MS = 60_000;

/** Why dist/ cannot stand for src/ (a missing or older compiled file), or undefined when it can. */
export async function staleBuild(dir = SRC): Promise<string | undefined> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const reason = await staleBuild(path);
      if (reason) return reason;
    } else if (entry.name.endsWith('.ts')) {
      const compiled = join(DIST, relative(SRC, path)).replace(/\.ts$/, '.js');
      const source = await stat(path);
      const built = await stat(compiled).catch(() => undefined);
      if (!built) return `dist/ has no ${relative(DIST, compiled)}`;
      if (built.mtimeMs < source.mtimeMs) return `dist/${relative(DIST, compiled)} is older than src/${relative(SRC, path)}`;
    }
  }
  return undefined;
}

/** `nodeFlags` go to that node process (e.g. --cpu-prof to see where its time goes). */
export async function startGatewayProcess(nodeFlags: readonly string[] = []): Promise<GatewayProcess> {
  const setup = await createBenchSetup();
  const child = spawn(process.execPath, ['--expose-gc', ...nodeFlags, CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-2000)));
  const answers = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = once(child, 'exit');
  const ask = async (command: Record<string, unknown>): Promise<Record<string, any>> => {
    child.stdin.write(`${JSON.stringify(command)}\n`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`compiled gateway gave no answer to ${Object.keys(command)[0]} in ${ANSWER_TIMEOUT_MS / 1000}s`)), ANSWER_TIMEOUT_MS);
    });
    const { value, done } = await Promise.race([answers.next(), timeout]).finally(() => clearTimeout(timer));
    if (done) throw new Error(`compiled gateway exited: ${stderr}`);
    const answer = JSON.parse(value as string);
    if (answer.error) throw new Error(`compiled gateway: ${answer.error}`);
    return answer;
  };
  const close = async (): Promise<void> => {
    try {
      if (child.exitCode === null && child.signalCode === null) await ask({ close: true });
    } finally {
      child.stdin.end();
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killTimer);
      await setup.cleanup();
    }
  };
  try {
    const { port } = await ask({ start: setup.raw });
    const client = createJsonClient(`http://127.0.0.1:${port}`, setup.authorization);
    return {
      pid: child.pid!,
      client,
      processes: setup.processes,
      memory: async () => (await ask({ memory: true }))['memory'] as NodeJS.MemoryUsage,
      youngGenerationBytes: async () => (await ask({ youngGeneration: true }))['bytes'] as number,
      async close() {
        client.close();
        await close();
      },
    };
  } catch (error) {
    await close().catch(() => {});
    // A gateway that failed to start or close cannot end its servers any more.
    killGroups(await setup.processes());
    throw error;
  }
}
