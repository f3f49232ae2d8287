import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import type { Readable, Writable } from 'node:stream';
import { StderrRing } from './stderr-ring.js';

/** What to run: argv, environment and directory, already wrapped by the sandbox (never a shell). */
export interface Launch {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** The spawned program is a wrapper (bwrap) that exits 128+n when the server dies of signal n. */
  reportsSignalAsExitCode?: boolean;
}

/**
 * Wraps the synchronous spawn, e.g. to have the child born inside a cgroup (containment/cgroup.ts):
 * the fork happens inside `spawnNow`, before the server runs a single instruction.
 */
export type SpawnInside = (spawnNow: () => ChildProcess) => ChildProcess;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why a server without a process (a remote one) is gone. */
  reason?: string;
}

export interface CloseTimings {
  /** How long to wait for the server to leave on its own after stdin closes (SPEC §5: ≤ 2 s). */
  stdinGraceMs: number;
  /** How long SIGTERM has before SIGKILL (SPEC §5: ≤ 2 s). */
  termGraceMs: number;
}

const KILL_WAIT_MS = 5000;

export const DEFAULT_CLOSE_TIMINGS: CloseTimings = { stdinGraceMs: 2000, termGraceMs: 2000 };

/** Signals the kernel sends for a resource limit (sandbox `max_cpu_seconds`, `max_file_size_mb`). */
const LIMIT_SIGNALS: Partial<Record<NodeJS.Signals, string>> = {
  SIGXCPU: 'CPU time limit exceeded',
  SIGXFSZ: 'file size limit exceeded',
};

/** `exit 3`, `signal SIGKILL` or `CPU time limit exceeded (SIGXCPU)`: the reason a client reads in an error message. */
export function describeExit(exit: ExitInfo): string {
  if (exit.reason !== undefined) return exit.reason;
  if (exit.signal === null) return `exit code ${exit.code}`;
  const limit = LIMIT_SIGNALS[exit.signal];
  return limit === undefined ? `signal ${exit.signal}` : `${limit} (${exit.signal})`;
}

/** What the server died of when a wrapper reported its signal as the exit code 128+n. */
function unwrapExit(code: number | null, signal: NodeJS.Signals | null, isWrapped: boolean): ExitInfo {
  if (!isWrapped || code === null || code <= 128) return { code, signal };
  const name = (Object.keys(constants.signals) as NodeJS.Signals[]).find((candidate) => constants.signals[candidate] === code - 128);
  return name === undefined ? { code, signal } : { code: null, signal: name };
}

/**
 * Every process group the gateway has started and not yet seen gone: the one place a shutdown
 * can find all of them, whatever state their session is in (starting, warm, closing, listing).
 */
export class ProcessGroups {
  private readonly live = new Set<ProcessHandle>();

  track(handle: ProcessHandle): void {
    this.live.add(handle);
    void handle.closed.then(() => this.live.delete(handle));
  }

  get size(): number {
    return this.live.size;
  }

  /** Synchronous last resort (process exit): SIGKILL every group. */
  killAllNow(): void {
    for (const handle of this.live) handle.killNow();
  }

  /** SIGKILLs every group left and resolves when all of them are gone. */
  async killAll(): Promise<void> {
    this.killAllNow();
    await Promise.allSettled([...this.live].map((handle) => handle.close()));
  }
}

/**
 * One MCP server process and everything it starts. The child leads its own process group
 * (`detached`), so signals reach grandchildren too: the SDK's stdio transport signals only the
 * direct child and leaves `sh -c` / `npx` grandchildren behind (SPEC §11).
 */
export class ProcessHandle {
  readonly pid: number;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr = new StderrRing();
  /** Resolves when the direct child has exited (the group may live on until `close()`). */
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private readonly stderrEnded: Promise<void>;
  private closing: Promise<void> | undefined;
  private markClosed!: () => void;
  /** Resolves once close() has seen the whole group gone. */
  readonly closed = new Promise<void>((resolve) => (this.markClosed = resolve));

  private constructor(
    private readonly child: ChildProcess,
    private readonly timings: CloseTimings,
    onStderrLine: ((line: string) => void) | undefined,
    isWrapped: boolean,
  ) {
    this.pid = child.pid!;
    this.stdin = child.stdin!;
    this.stdout = child.stdout!;
    // A child that exits while we write gets EPIPE; its exit is reported through `exited`.
    this.stdin.on('error', () => {});
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr.push(chunk);
      if (onStderrLine) for (const line of chunk.toString('utf8').split('\n')) if (line) onStderrLine(line);
    });
    this.stderrEnded = new Promise((resolve) => child.stderr!.once('close', () => resolve()));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = unwrapExit(code, signal, isWrapped);
        resolve(this.exitInfo);
      });
    });
  }

  /** Spawns without a shell; rejects at once when the command cannot be executed. */
  static async spawn(
    launch: Launch,
    options: { timings?: CloseTimings; onStderrLine?: (line: string) => void; groups?: ProcessGroups; spawnInside?: SpawnInside } = {},
  ): Promise<ProcessHandle> {
    const spawnNow = (): ChildProcess =>
      spawn(launch.command, launch.args, {
        env: launch.env,
        cwd: launch.cwd,
        detached: true,
        shell: false,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    const child = options.spawnInside ? options.spawnInside(spawnNow) : spawnNow();
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.removeAllListeners('error');
    child.on('error', () => {});
    const handle = new ProcessHandle(child, options.timings ?? DEFAULT_CLOSE_TIMINGS, options.onStderrLine, launch.reportsSignalAsExitCode === true);
    options.groups?.track(handle);
    return handle;
  }

  get isAlive(): boolean {
    return this.exitInfo === undefined;
  }

  get exitStatus(): ExitInfo | undefined {
    return this.exitInfo;
  }

  /**
   * Ends the whole process group: close stdin, give it `stdinGraceMs` to leave, SIGTERM the
   * group, `termGraceMs` later SIGKILL it (SPEC §5). Resolves when no process of the group is
   * left. Safe to call many times and after the child died on its own (its children may not have).
   */
  close(): Promise<void> {
    this.closing ??= this.runCloseLadder().finally(() => this.markClosed());
    return this.closing;
  }

  /**
   * Resolves when stderr has been read to its end, or after `boundMs` (a grandchild may hold the
   * pipe open forever).
   */
  async stderrSettled(boundMs: number): Promise<void> {
    const bound = new AbortController();
    await Promise.race([this.stderrEnded, delay(boundMs, undefined, { signal: bound.signal }).catch(() => {})]);
    bound.abort();
  }

  /** Last-resort, synchronous: used when the gateway itself is exiting and cannot wait. */
  killNow(): void {
    signalGroup(this.pid, 'SIGKILL');
  }

  private async runCloseLadder(): Promise<void> {
    this.stdin.end();
    if (await this.waitGroupGone(this.timings.stdinGraceMs)) return;
    signalGroup(this.pid, 'SIGTERM');
    if (await this.waitGroupGone(this.timings.termGraceMs)) return;
    signalGroup(this.pid, 'SIGKILL');
    // SIGKILL cannot be ignored; the bound only guards against a process stuck in the kernel.
    await this.waitGroupGone(KILL_WAIT_MS);
  }

  /**
   * There is no event for "the last process of a group is gone", so after the direct child's own
   * exit event we poll with `kill(-pgid, 0)`, quickly at first.
   */
  private async waitGroupGone(deadlineMs: number): Promise<boolean> {
    const start = Date.now();
    if (this.isAlive) {
      const timeout = new AbortController();
      const exited = await Promise.race([
        this.exited.then(() => true),
        delay(deadlineMs, false, { signal: timeout.signal }).catch(() => false),
      ]);
      timeout.abort();
      if (!exited) return !groupExists(this.pid);
    }
    let pause = 5;
    while (groupExists(this.pid)) {
      if (Date.now() - start >= deadlineMs) return false;
      await delay(pause);
      pause = Math.min(pause * 2, 100);
    }
    return true;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

