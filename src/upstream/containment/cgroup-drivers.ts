/**
 * The two cgroup layouts (SPEC §14). v1 (the `memory`, `pids`, `freezer` and `cpu` hierarchies,
 * as root) and v2 (one delegated unified tree) differ only in where groups live and how limits are
 * spelled; cgroup.ts does the moving, killing and removing for both.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { closeLayout, SessionGroup, type CgroupDriver, type CgroupLimits, type GroupLayout, type Hierarchy } from './cgroup.js';
import { removeTree, write, writeNow, type RemoveDir } from './cgroupfs.js';

const MIB = 1024 * 1024;
/** The CFS period the CPU quota is expressed against (the kernel's default, 100 ms). */
const CPU_PERIOD_US = 100_000;

/** A v1 controller's place: its mount point and the gateway's own group in it. */
export interface V1Mount {
  controller: 'memory' | 'pids' | 'freezer' | 'cpu';
  base: string;
}

async function makeInstanceDir(base: string, instance: string): Promise<Hierarchy> {
  const instanceDir = join(base, instance);
  await mkdir(instanceDir);
  return { instanceDir, homeDir: base };
}

/** Writes a limit the kernel may lack (memsw without swap accounting, swap.max without swap). */
async function writeOptional(path: string, value: string): Promise<void> {
  if (existsSync(path)) await write(path, value);
}

function driver(layout: GroupLayout, hasCpu: boolean, applyLimits: (group: SessionGroup, limits: CgroupLimits) => Promise<void>): CgroupDriver {
  return {
    version: layout.version,
    hasCpu,
    instanceDirs: layout.hierarchies.map((hierarchy) => hierarchy.instanceDir),
    killDir: layout.hierarchies[layout.killIndex]!.instanceDir,
    async create(name, limits) {
      const group = new SessionGroup(layout, name);
      try {
        await group.make();
        await applyLimits(group, limits);
      } catch (error) {
        await group.destroy().catch(() => {});
        throw error;
      }
      return group;
    },
    close: () => closeLayout(layout),
  };
}

/** `mounts` holds memory, pids and freezer, and cpu when mounted. */
export async function openV1(mounts: V1Mount[], instance: string, removeDir: RemoveDir): Promise<CgroupDriver> {
  const hierarchies: Hierarchy[] = [];
  try {
    for (const mount of mounts) hierarchies.push(await makeInstanceDir(mount.base, instance));
  } catch (error) {
    for (const { instanceDir } of hierarchies) await removeTree(instanceDir, removeDir);
    throw error;
  }
  const layout = v1Layout(hierarchies, mounts, removeDir);
  const index = (controller: V1Mount['controller']): number => mounts.findIndex((mount) => mount.controller === controller);
  const cpu = index('cpu');
  return driver(layout, cpu !== -1, async (group, limits) => {
    if (limits.memoryMb !== undefined) {
      const memory = group.dir(index('memory'));
      const bytes = String(limits.memoryMb * MIB);
      await write(join(memory, 'memory.limit_in_bytes'), bytes);
      // Memory plus swap: without it a server could push the excess out to swap.
      await writeOptional(join(memory, 'memory.memsw.limit_in_bytes'), bytes);
    }
    if (limits.maxTasks !== undefined) await write(join(group.dir(index('pids')), 'pids.max'), String(limits.maxTasks));
    if (limits.cpuPercent !== undefined && cpu !== -1) {
      await write(join(group.dir(cpu), 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
      await write(join(group.dir(cpu), 'cpu.cfs_quota_us'), String(Math.round((limits.cpuPercent * CPU_PERIOD_US) / 100)));
    }
  });
}

function v1Layout(hierarchies: Hierarchy[], mounts: V1Mount[], removeDir: RemoveDir): GroupLayout {
  return {
    version: 'v1',
    hierarchies,
    attachFile: 'tasks',
    killIndex: mounts.findIndex((mount) => mount.controller === 'freezer'),
    oomIndex: mounts.findIndex((mount) => mount.controller === 'memory'),
    oomFile: 'memory.oom_control',
    removeDir,
  };
}

async function enableControllers(dir: string, available: string[], wantsCpu: boolean): Promise<void> {
  const wanted = ['memory', 'pids', ...(wantsCpu ? ['cpu'] : [])].filter((controller) => available.includes(controller));
  await write(join(dir, 'cgroup.subtree_control'), wanted.map((controller) => `+${controller}`).join(' '));
}

/**
 * `base` is the gateway's own group in a delegated unified tree. Processes may not sit in a group
 * that hands controllers to its children, so when enabling them is refused the gateway first moves
 * itself into a leaf of its own (`<instance>.home`) and tries once more.
 */
export async function openV2(base: string, instance: string, removeDir: RemoveDir, wantsCpu: boolean): Promise<CgroupDriver> {
  const controllers = (await readFile(join(base, 'cgroup.controllers'), 'utf8')).trim().split(/\s+/);
  const available = wantsCpu ? controllers : controllers.filter((controller) => controller !== 'cpu');
  let homeDir = base;
  try {
    await enableControllers(base, available, wantsCpu);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EBUSY') throw error;
    homeDir = join(base, `${instance}.home`);
    await mkdir(homeDir);
    writeNow(join(homeDir, 'cgroup.procs'), String(process.pid));
    await enableControllers(base, available, wantsCpu);
  }
  const hierarchy = { ...(await makeInstanceDir(base, instance)), homeDir };
  const layout: GroupLayout = {
    version: 'v2',
    hierarchies: [hierarchy],
    attachFile: 'cgroup.procs',
    killIndex: 0,
    oomIndex: 0,
    oomFile: 'memory.events',
    removeDir,
  };
  try {
    await enableControllers(hierarchy.instanceDir, available, wantsCpu);
  } catch (error) {
    await closeLayout(layout);
    throw error;
  }
  const hasCpu = available.includes('cpu');
  return driver(layout, hasCpu, async (group, limits) => {
    const dir = group.dir(0);
    if (limits.memoryMb !== undefined) {
      await write(join(dir, 'memory.max'), String(limits.memoryMb * MIB));
      await writeOptional(join(dir, 'memory.swap.max'), '0');
    }
    if (limits.maxTasks !== undefined) await write(join(dir, 'pids.max'), String(limits.maxTasks));
    if (limits.cpuPercent !== undefined && hasCpu) {
      await write(join(dir, 'cpu.max'), `${Math.round((limits.cpuPercent * CPU_PERIOD_US) / 100)} ${CPU_PERIOD_US}`);
    }
  });
}
