/**
 * `max_memory_mb` (SPEC §7) as a resident-memory limit per process group: V8 cannot live under
 * an RLIMIT_AS small enough to mean anything (see sandbox.ts), so the gateway measures instead.
 * A group is what process.ts spawns and kills as one, so what is measured is what is stopped.
 */
import { open, readdir } from 'node:fs/promises';

export interface MemoryWatch {
  pgid: number;
  limitMb: number;
  /** Called once, with the group's resident MiB, when it is over the limit; the watch then ends. */
  onExceeded: (rssMb: number) => void;
}

/** Starts watching one process group; returns its stop function. */
export type WatchMemory = (watch: MemoryWatch) => () => void;

/** Files read at once: enough to keep the thread pool busy, few enough to spare descriptors. */
const READ_BATCH = 64;

/** Reads a small /proc file; undefined when its process ended while we looked. */
async function readProcFile(path: string): Promise<string | undefined> {
  // open + one read costs half the CPU of readFile (no fstat, measured); these fit in 4 KiB.
  let handle;
  try {
    handle = await open(path);
    const buffer = Buffer.allocUnsafe(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.toString('latin1', 0, bytesRead);
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

/** Resident KiB per process group, for the groups asked about; absent = no live member. */
async function residentKbByGroup(groups: ReadonlySet<number>): Promise<Map<number, number>> {
  const totals = new Map<number, number>();
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
  for (let start = 0; start < pids.length; start += READ_BATCH) {
    await Promise.all(
      pids.slice(start, start + READ_BATCH).map(async (pid) => {
        const stat = await readProcFile(`/proc/${pid}/stat`);
        if (stat === undefined) return;
        // Field 2 (comm) may hold spaces and ')'; after the last ')' come state, ppid, pgrp (field 5).
        const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ', 3)[2]);
        if (!groups.has(pgrp)) return;
        const status = await readProcFile(`/proc/${pid}/status`);
        const kb = Number(/^VmRSS:\s*(\d+) kB/m.exec(status ?? '')?.[1] ?? 0);
        totals.set(pgrp, (totals.get(pgrp) ?? 0) + kb);
      }),
    );
  }
  return totals;
}

/**
 * One watchdog serves every session: each interval it scans /proc once for all watched groups.
 * A scan costs about 0.1 ms of CPU per process on the host (measured), so one scan per session
 * would cost sessions × processes. Summed RSS counts shared pages once per process, so the
 * figure errs high. The timer is unref'ed and runs only while something is watched.
 */
export function createMemoryWatchdog(deps: { intervalMs: number }): WatchMemory {
  const watches = new Set<MemoryWatch>();
  let timer: NodeJS.Timeout | undefined;

  const schedule = (): void => {
    if (timer !== undefined || watches.size === 0) return;
    timer = setTimeout(() => void tick(), deps.intervalMs);
    timer.unref();
  };

  const tick = async (): Promise<void> => {
    try {
      // The last watch may have stopped while this tick was pending.
      if (watches.size === 0) return;
      const totals = await residentKbByGroup(new Set([...watches].map((watch) => watch.pgid)));
      // Iterates the live set: a watch stopped during the scan is no longer in it.
      for (const watch of watches) {
        const rssMb = (totals.get(watch.pgid) ?? 0) / 1024;
        if (rssMb <= watch.limitMb) continue;
        watches.delete(watch);
        watch.onExceeded(rssMb);
      }
    } catch {
      // A scan that fails (EMFILE, a /proc race) is skipped; the next tick tries again.
    } finally {
      timer = undefined;
      schedule();
    }
  };

  return (watch) => {
    // A copy, so the same options watched twice are two watches with their own stop.
    const entry = { ...watch };
    watches.add(entry);
    schedule();
    return () => {
      watches.delete(entry);
    };
  };
}
