import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

export const BIN = fileURLToPath(new URL('../../bin/mcp-gateway.js', import.meta.url));

export interface Running {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with the first JSON log line whose `msg` is `msg` (the `nth`, counting from 1). */
  logLine(msg: string, nth?: number): Promise<Record<string, any>>;
  stderr(): string;
}

/** Runs the compiled gateway (bin/mcp-gateway.js) as a real process; killed when the test ends. */
export function run(args: string[], options: { cwd: string; env?: Record<string, string> }): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, MCP_PORT: '0', ...options.env },
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines: Array<Record<string, any>> = [];
  const waiters: Array<{ msg: string; nth: number; resolve: (line: Record<string, any>) => void }> = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const nthLine = (msg: string, nth: number): Record<string, any> | undefined => lines.filter((line) => line['msg'] === msg)[nth - 1];
  createInterface({ input: child.stdout }).on('line', (text) => {
    let line: Record<string, any>;
    try {
      line = JSON.parse(text);
    } catch {
      return;
    }
    lines.push(line);
    for (const waiter of waiters) {
      const found = waiter.msg === line['msg'] ? nthLine(waiter.msg, waiter.nth) : undefined;
      if (found) waiter.resolve(found);
    }
  });
  return {
    child,
    stderr: () => stderr,
    logLine: (msg, nth = 1) =>
      new Promise((resolve, reject) => {
        const seen = nthLine(msg, nth);
        if (seen) return resolve(seen);
        waiters.push({ msg, nth, resolve });
        child.once('exit', (code) => reject(new Error(`gateway exited (${code}) before logging '${msg}' #${nth}: ${stderr}`)));
      }),
  };
}

export async function exitOf(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = await once(child, 'exit');
  return code as number | null;
}
