/**
 * Per-session unprivileged users (SPEC §14): when the gateway runs as root each session's server
 * runs under a uid/gid of its own from `sandbox.uid_range`, so sessions cannot read each other's
 * files and per-uid limits (RLIMIT_NPROC) become per-session limits.
 *
 * Several gateways may share a machine, so a uid is taken by creating `<lockDir>/<uid>` with
 * O_EXCL (atomic across processes) holding `<pid> <instance>`. A lock is only ever removed by its
 * owner, or by the start-up sweep of that owner's instance after it died (instance.ts); a lock of
 * a dead owner is otherwise skipped, never taken over, so two allocators can never race for it.
 * The default directory is on /run, a tmpfs: a reboot, which ends every process, clears it too.
 */
import { randomInt } from 'node:crypto';
import { mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { UnixUser } from '../sandbox.js';

export const DEFAULT_UID_LOCK_DIR = '/run/mcp-gateway/uids';

/** How long a session's processes may take to leave after their uid is told to go. */
const KILL_DEADLINE_MS = 5000;

export interface UidLease extends UnixUser {
  /** Kills whatever still runs under the uid, then frees it for the next session. */
  release(): Promise<void>;
}

export class UidPool {
  constructor(
    private readonly lockDir: string,
    private readonly instance: string,
  ) {}

  /** Creates the lock directory (root only, 0700). */
  async open(): Promise<void> {
    await mkdir(this.lockDir, { recursive: true, mode: 0o700 });
  }

  /** A free uid of `range`, probed from a random start so concurrent gateways rarely collide. */
  async acquire([first, last]: [number, number]): Promise<UidLease> {
    const size = last - first + 1;
    const start = randomInt(size);
    for (let step = 0; step < size; step += 1) {
      const uid = first + ((start + step) % size);
      const path = join(this.lockDir, String(uid));
      let handle;
      try {
        handle = await open(path, 'wx', 0o600);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw error;
      }
      try {
        await handle.writeFile(`${process.pid} ${this.instance}\n`);
      } finally {
        await handle.close();
      }
      // No scan for leftovers here: a lock disappears only after its uid's processes were killed
      // (release, or the sweep of a dead owner), so a free uid runs nothing.
      return { uid, gid: uid, release: () => this.release(uid, path) };
    }
    throw new Error(`every uid of sandbox.uid_range ${first}-${last} is taken`);
  }

  private async release(uid: number, path: string): Promise<void> {
    await killProcessesOf(uid);
    await unlink(path).catch(() => {});
  }
}

/** The uids whose locks name `instance` (a dead instance's, for the sweep), with their lock paths. */
export async function locksOf(lockDir: string, instance: string): Promise<Array<{ uid: number; path: string }>> {
  let entries: string[];
  try {
    entries = await readdir(lockDir);
  } catch {
    return [];
  }
  const owned = await Promise.all(
    entries.filter((entry) => /^\d+$/.test(entry)).map(async (entry) => {
      const path = join(lockDir, entry);
      const text = await readFile(path, 'utf8').catch(() => '');
      return text.trim().split(' ')[1] === instance ? { uid: Number(entry), path } : undefined;
    }),
  );
  return owned.filter((lock) => lock !== undefined);
}

/** Files read at once: enough to keep the thread pool busy, few enough to spare descriptors. */
const READ_BATCH = 64;

/** Real uid of a live process from /proc/<pid>/status; undefined when it is gone or a zombie. */
async function uidOf(pid: string): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'latin1').catch(() => '');
  if (/^State:\s+Z/m.test(status)) return undefined;
  const match = /^Uid:\s+(\d+)/m.exec(status);
  return match ? Number(match[1]) : undefined;
}

async function processesOf(uid: number): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
  const found: number[] = [];
  for (let start = 0; start < pids.length; start += READ_BATCH) {
    const batch = pids.slice(start, start + READ_BATCH);
    const owners = await Promise.all(batch.map(uidOf));
    batch.forEach((pid, index) => owners[index] === uid && found.push(Number(pid)));
  }
  return found;
}

/**
 * SIGKILLs every process running under `uid` until none is left. The uid belongs to one session
 * only, so this reaches exactly that session's processes, wherever they went (setsid, double fork).
 */
export async function killProcessesOf(uid: number): Promise<void> {
  const start = Date.now();
  for (let pids = await processesOf(uid); pids.length > 0; pids = await processesOf(uid)) {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    if (Date.now() - start > KILL_DEADLINE_MS) return;
    await delay(10);
  }
}
