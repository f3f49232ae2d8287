/**
 * What a gateway instance leaves on the machine, and the sweep that removes it after the instance
 * died without closing (SIGKILL, OOM killer): its session directories, cgroups and uid locks.
 *
 * Each running gateway is an instance `mcp-gateway-<random>`. Its session directories live under
 * `<sandbox_dir>/<instance>/`, next to `instance.json`, which records the instance's pid (with
 * its start time, so a reused pid does not look alive), its cgroup directories and its uid lock
 * directory. A sweep only ever touches instances below its own sandbox_dir whose process is gone,
 * so two gateways on one machine never sweep each other, and it claims an instance by renaming its
 * record first, so two gateways starting at once never sweep the same one twice.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { killGroupTree } from './cgroup.js';
import { removeGroupDir, removeTree, waitEmpty } from './cgroupfs.js';
import { killProcessesOf, locksOf } from './uid-pool.js';

export const INSTANCE_PATTERN = /^mcp-gateway-[0-9a-f]{12}$/;
const RECORD = 'instance.json';

export interface InstanceRecord {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: tells the instance apart from a later process with its pid. */
  startTime: string;
  cgroups?: { version: 'v1' | 'v2'; killDir: string; dirs: string[] };
  uidLockDir?: string;
}

export function newInstanceName(): string {
  return `mcp-gateway-${randomBytes(6).toString('hex')}`;
}

/** Start time of a live (non-zombie) process, undefined when there is none. */
export async function startTimeOf(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => undefined);
  if (stat === undefined) return undefined;
  // After the last ')' (comm may hold anything): state is field 3, start time field 22.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[0] === 'Z' ? undefined : fields[19];
}

export async function writeRecord(instanceDir: string, record: InstanceRecord): Promise<void> {
  await writeFile(join(instanceDir, RECORD), JSON.stringify(record), { mode: 0o600 });
}

export async function removeRecord(instanceDir: string): Promise<void> {
  await unlink(join(instanceDir, RECORD)).catch(() => {});
}

async function readRecord(path: string): Promise<InstanceRecord | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as InstanceRecord;
  } catch {
    return undefined;
  }
}

async function isAlive(record: InstanceRecord): Promise<boolean> {
  return Number.isInteger(record.pid) && (await startTimeOf(record.pid)) === record.startTime;
}

/**
 * Sweeps one instance: kills and removes its cgroups, kills its uids' processes and frees them,
 * removes its session directories. `assumeDead`: the caller knows (the reaper saw its gateway go).
 */
export async function sweepInstance(sandboxRoot: string, name: string, options: { assumeDead?: boolean } = {}): Promise<boolean> {
  const instanceDir = join(sandboxRoot, name);
  const recordPath = join(instanceDir, RECORD);
  const record = await readRecord(recordPath);
  if (record === undefined || (!options.assumeDead && (await isAlive(record)))) return false;
  const claimed = `${recordPath}.sweeping-${process.pid}`;
  try {
    await rename(recordPath, claimed);
  } catch {
    return false;
  }
  const { cgroups } = record;
  // Only directories named after this instance: a tampered record cannot aim the sweep elsewhere.
  if (cgroups && [cgroups.killDir, ...cgroups.dirs].every((dir) => basename(dir) === name)) {
    await killGroupTree(cgroups.killDir, cgroups.version);
    for (const dir of cgroups.dirs) await waitEmpty(dir);
    for (const dir of cgroups.dirs) await removeTree(dir, removeGroupDir);
  }
  if (record.uidLockDir !== undefined) {
    for (const lock of await locksOf(record.uidLockDir, name)) {
      await killProcessesOf(lock.uid);
      await unlink(lock.path).catch(() => {});
    }
  }
  await rm(instanceDir, { recursive: true, force: true });
  return true;
}

/** Sweeps every dead instance below `sandboxRoot` but `self`; returns the names swept. */
export async function sweepDeadInstances(sandboxRoot: string, self: string): Promise<string[]> {
  const entries = await readdir(sandboxRoot).catch(() => [] as string[]);
  const swept: string[] = [];
  for (const name of entries) {
    if (name === self || !INSTANCE_PATTERN.test(name)) continue;
    if (await sweepInstance(sandboxRoot, name)) swept.push(name);
  }
  return swept;
}
