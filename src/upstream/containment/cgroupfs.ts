/** File-level helpers shared by the cgroup v1 and v2 drivers. */
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** Removes one (empty) group directory; cgroupfs removes its interface files itself. */
export type RemoveDir = (path: string) => Promise<void>;

export const removeGroupDir: RemoveDir = (path) => rmdir(path);

/** How long a kill may take to empty a group before it counts as stuck (processes in D state). */
const EMPTY_DEADLINE_MS = 5000;

export async function write(path: string, value: string): Promise<void> {
  await writeFile(path, value);
}

/** Synchronous write: moving the gateway around a synchronous spawn cannot wait for the event loop. */
export function writeNow(path: string, value: string): void {
  writeFileSync(path, value);
}

export function readNow(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** `oom_kill 3` in memory.events (v2) or memory.oom_control (v1); 0 when unreadable. */
export function oomKillCount(file: string): number {
  return Number(/^oom_kill (\d+)$/m.exec(readNow(file) ?? '')?.[1] ?? 0);
}

/** Pids listed in a group's `cgroup.procs`; none when the group is gone. */
export async function members(dir: string): Promise<number[]> {
  let text: string;
  try {
    text = await readFile(join(dir, 'cgroup.procs'), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map(Number);
}

export function killAll(pids: number[]): void {
  // The gateway passes through session groups while spawning; it never kills itself.
  for (const pid of pids.filter((member) => member !== process.pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

/** Polls until `dir` has no member; false when the deadline passed first. */
export async function waitEmpty(dir: string, deadlineMs = EMPTY_DEADLINE_MS): Promise<boolean> {
  const start = Date.now();
  let pause = 2;
  while ((await members(dir)).length > 0) {
    if (Date.now() - start > deadlineMs) return false;
    await delay(pause);
    pause = Math.min(pause * 2, 50);
  }
  return true;
}

/** Removes a group and every group below it, deepest first; a missing one is fine. */
export async function removeTree(dir: string, removeDir: RemoveDir): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) if (entry.isDirectory()) await removeTree(join(dir, entry.name), removeDir);
  try {
    await removeDir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Every group directory at or below `dir` (the sweep kills all of them). */
export async function groupTree(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const below = await Promise.all(entries.filter((entry) => entry.isDirectory()).map((entry) => groupTree(join(dir, entry.name))));
  return [dir, ...below.flat()];
}

/**
 * Kills every process of one group so none can escape by forking meanwhile: v2 writes
 * `cgroup.kill` (the kernel does it atomically); v1 freezes the group, SIGKILLs each member and
 * thaws it (a frozen process cannot fork, and the kill lands when it thaws). Resolves when the
 * group is empty or the deadline passed.
 */
export async function killGroup(dir: string, version: 'v1' | 'v2'): Promise<boolean> {
  try {
    if (version === 'v2') {
      await write(join(dir, 'cgroup.kill'), '1');
    } else {
      await freezeAndKill(dir);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    // A kernel without cgroup.kill (v2 before 5.14) or without a freezer: kill until empty.
    killAll(await members(dir));
  }
  const start = Date.now();
  while (!(await waitEmpty(dir, 200))) {
    if (Date.now() - start > EMPTY_DEADLINE_MS) return false;
    killAll(await members(dir));
  }
  return true;
}

async function freezeAndKill(dir: string): Promise<void> {
  const state = join(dir, 'freezer.state');
  await write(state, 'FROZEN');
  try {
    const start = Date.now();
    let pause = 1;
    while ((await readFile(state, 'utf8')).trim() !== 'FROZEN' && Date.now() - start < 1000) {
      await delay(pause);
      pause = Math.min(pause * 2, 20);
    }
    killAll(await members(dir));
  } finally {
    await write(state, 'THAWED');
  }
}
