/**
 * Finds where the gateway may create session groups (SPEC §14): a delegated cgroup v2 tree with
 * the memory and pids controllers, else the v1 memory, pids and freezer hierarchies (plus cpu when
 * mounted), each below the gateway's own group so that outer limits keep counting its sessions.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CgroupDriver } from './cgroup.js';
import { openV1, openV2, type V1Mount } from './cgroup-drivers.js';
import { removeGroupDir, type RemoveDir } from './cgroupfs.js';

export type CgroupSetup = { driver: CgroupDriver; reason?: undefined } | { driver?: undefined; reason: string };

export interface CgroupOptions {
  /** The instance's group name (`mcp-gateway-<id>`), unique per running gateway. */
  instance: string;
  /**
   * Stand-in for the machine's cgroup mounts, with the gateway's own group at its top: a v2 tree
   * when it holds `cgroup.controllers`, else one directory per v1 controller. For tests.
   */
  fsRoot?: string;
  removeDir?: RemoveDir;
  /**
   * Only when a service sets max_cpu_percent: a CPU group of its own weighs like one process
   * against the machine's other processes, so sessions without a quota stay out of it.
   */
  wantsCpu?: boolean;
}

const V1_REQUIRED = ['memory', 'pids', 'freezer'] as const;
const v1Controllers = (options: CgroupOptions) => (options.wantsCpu ? [...V1_REQUIRED, 'cpu' as const] : [...V1_REQUIRED]);

interface Mount {
  point: string;
  type: string;
  options: string[];
}

/** /proc/self/mountinfo: `… <mount point> … - <type> <source> <super options>`. */
function parseMounts(text: string): Mount[] {
  return text.split('\n').filter(Boolean).map((line) => {
    const [left = '', right = ''] = line.split(' - ');
    const [type = '', , superOptions = ''] = right.split(' ');
    return { point: left.split(' ')[4] ?? '', type, options: superOptions.split(',') };
  });
}

/** /proc/self/cgroup: `<id>:<controllers>:<path>` → controller → path ('' for the v2 line). */
function parseOwnGroups(text: string): Map<string, string> {
  const groups = new Map<string, string>();
  for (const line of text.split('\n').filter(Boolean)) {
    const [, controllers = '', ...rest] = line.split(':');
    const path = rest.join(':');
    for (const controller of controllers.split(',')) groups.set(controller, path);
  }
  return groups;
}

function reasonOf(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  return code ?? message;
}

async function openFakeRoot(root: string, options: CgroupOptions, removeDir: RemoveDir): Promise<CgroupDriver | string> {
  if (existsSync(join(root, 'cgroup.controllers'))) return openV2(root, options.instance, removeDir, options.wantsCpu ?? false);
  const mounts = v1Controllers(options).map((controller) => ({ controller, base: join(root, controller) })).filter(({ base }) => existsSync(base));
  const missing = V1_REQUIRED.filter((controller) => !mounts.some((mount) => mount.controller === controller));
  if (missing.length > 0) return `no cgroup v2 tree or v1 ${missing.join(', ')} hierarchy at ${root}`;
  return openV1(mounts, options.instance, removeDir);
}

async function openSystem(options: CgroupOptions, removeDir: RemoveDir): Promise<CgroupDriver | string> {
  const [mounts, own] = await Promise.all([
    readFile('/proc/self/mountinfo', 'utf8').then(parseMounts),
    readFile('/proc/self/cgroup', 'utf8').then(parseOwnGroups),
  ]);
  const unified = mounts.find((mount) => mount.type === 'cgroup2');
  const unifiedPath = own.get('');
  if (unified && unifiedPath !== undefined) {
    const base = join(unified.point, unifiedPath);
    const controllers = await readFile(join(base, 'cgroup.controllers'), 'utf8').catch(() => '');
    // A hybrid machine mounts an empty unified tree next to v1: only a tree with controllers counts.
    if (/\bmemory\b/.test(controllers) && /\bpids\b/.test(controllers)) return openV2(base, options.instance, removeDir, options.wantsCpu ?? false);
  }
  const v1: V1Mount[] = [];
  for (const controller of v1Controllers(options)) {
    const mount = mounts.find((candidate) => candidate.type === 'cgroup' && candidate.options.includes(controller));
    const path = own.get(controller);
    if (mount && path !== undefined) v1.push({ controller, base: join(mount.point, path) });
  }
  const missing = V1_REQUIRED.filter((controller) => !v1.some((mount) => mount.controller === controller));
  if (missing.length > 0) return `no delegated cgroup v2 tree with memory and pids, and no cgroup v1 ${missing.join(', ')} hierarchy`;
  return openV1(v1, options.instance, removeDir);
}

/** The driver, or why there is none (the start-up line quotes it). Never throws. */
export async function openCgroups(options: CgroupOptions): Promise<CgroupSetup> {
  const removeDir = options.removeDir ?? removeGroupDir;
  try {
    const opened = options.fsRoot === undefined ? await openSystem(options, removeDir) : await openFakeRoot(options.fsRoot, options, removeDir);
    return typeof opened === 'string' ? { reason: opened } : { driver: opened };
  } catch (error) {
    return { reason: `cannot create cgroups: ${reasonOf(error)}` };
  }
}
