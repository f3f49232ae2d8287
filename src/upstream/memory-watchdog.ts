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

/** Group and session of a process (fields 5 and 6 of /proc/<pid>/stat). */
interface ProcessIds {
  pgrp: number;
  session: number;
}

/**
 * Resident KiB per process group, for the groups asked about; absent = no live member.
 *
 * `known` remembers the ids of every process seen while its pid stays listed in /proc, so a scan
 * reads only the processes that can be in a watched group: new pids, members, and processes of a
 * watched group's session. Every other process stays out of every watched group for good: a server
 * leads its own session (process.ts spawns it detached), setpgid cannot cross sessions, and Linux
 * hands out pids cyclically, so a listed pid is the same process at the next scan. Reading the
 * other processes of the host each time cost ~90 % of a scan (measured).
 */
async function residentKbByGroup(groups: ReadonlySet<number>, known: Map<number, ProcessIds>): Promise<Map<number, number>> {
  const totals = new Map<number, number>();
  const listed = new Set((await readdir('/proc')).filter((entry) => /^\d+$/.test(entry)).map(Number));
  for (const pid of known.keys()) if (!listed.has(pid)) known.delete(pid);
  const pids = [...listed].filter((pid) => {
    const ids = known.get(pid);
    return ids === undefined || groups.has(ids.pgrp) || groups.has(ids.session);
  });
  for (let start = 0; start < pids.length; start += READ_BATCH) {
    await Promise.all(
      pids.slice(start, start + READ_BATCH).map(async (pid) => {
        const stat = await readProcFile(`/proc/${pid}/stat`);
        if (stat === undefined) {
          known.delete(pid);
          return;
        }
        // Field 2 (comm) may hold spaces and ')'; after the last ')' come state, ppid, pgrp, session.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ', 4);
        const pgrp = Number(fields[2]);
        known.set(pid, { pgrp, session: Number(fields[3]) });
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
 * Reading a process's /proc/<pid>/stat costs about 0.05–0.1 ms of CPU (measured), so one scan per
 * session would cost sessions × processes; a scan reads only what can be in a watched group.
 * Summed RSS counts shared pages once per process, so the figure errs high. The timer is
 * unref'ed and runs only while something is watched.
 */
export function createMemoryWatchdog(deps: { intervalMs: number }): WatchMemory {
  const watches = new Set<MemoryWatch>();
  const known = new Map<number, ProcessIds>();
  let timer: NodeJS.Timeout | undefined;

  const schedule = (): void => {
    // Without scans, pids may be reused: what was learnt about them is dropped.
    if (watches.size === 0) known.clear();
    if (timer !== undefined || watches.size === 0) return;
    timer = setTimeout(() => void tick(), deps.intervalMs);
    timer.unref();
  };

  const tick = async (): Promise<void> => {
    try {
      // The last watch may have stopped while this tick was pending.
      if (watches.size === 0) return;
      const totals = await residentKbByGroup(new Set([...watches].map((watch) => watch.pgid)), known);
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
