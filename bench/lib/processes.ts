/**
 * Counting the gateway's processes from outside its bookkeeping: /proc is the truth about what
 * is still running. Every bench service gets a unique marker in its environment; environments are
 * inherited, so grandchildren carry it too.
 */
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

export interface LiveProcess {
  pid: number;
  /** Process group: each MCP server leads its own group (SPEC §5), so a session's tree shares its pid here. */
  pgid: number;
}

/** Live (non-zombie) processes whose environment holds `key=value`. */
export async function processesWithEnv(key: string, value: string): Promise<LiveProcess[]> {
  const needle = `${key}=${value}`;
  const found: LiveProcess[] = [];
  await Promise.all(
    (await readdir('/proc')).map(async (entry) => {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || pid === process.pid) return;
      try {
        const [environ, stat] = await Promise.all([readFile(`/proc/${pid}/environ`, 'utf8'), readFile(`/proc/${pid}/stat`, 'utf8')]);
        // Fields after "(comm)": state ppid pgrp ...; a zombie has exited and only awaits reaping.
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (state === 'Z') return;
        if (environ.split('\0').includes(needle)) found.push({ pid, pgid: Number(pgrp) });
      } catch {
        // Gone while we looked, or not ours to read.
      }
    }),
  );
  return found;
}

/** Polls a fact outside this process until it holds or the deadline passes; returns whether it held. */
export async function pollUntil(predicate: () => Promise<boolean>, deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  let pause = 10;
  for (;;) {
    if (await predicate()) return true;
    if (Date.now() > deadline) return false;
    await delay(pause);
    pause = Math.min(pause * 2, 200);
  }
}

/** Last resort after a leak has been counted and reported: SIGKILL the leaked processes' groups. */
export function killGroups(processes: readonly LiveProcess[]): void {
  for (const pgid of new Set(processes.map((p) => p.pgid))) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
