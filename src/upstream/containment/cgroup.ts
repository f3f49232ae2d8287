/**
 * Kernel containment of one session (SPEC §14): a cgroup per session that limits memory, tasks
 * and CPU of every process the server starts, and that can be killed as a whole. The launcher
 * sees only this interface; cgroup-v1.ts and cgroup-v2.ts fill it in, cgroup-detect.ts picks one.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { groupTree, killGroup, oomKillCount, removeTree, waitEmpty, writeNow, type RemoveDir } from './cgroupfs.js';

/** Absent limits stay at the kernel's "max": the group still contains and kills. */
export interface CgroupLimits {
  memoryMb?: number;
  /** pids.max: the kernel counts threads as well as processes. */
  maxTasks?: number;
  /** Percent of one core; absent = no quota. */
  cpuPercent?: number;
}

export interface SessionCgroup {
  /**
   * Calls `spawnNow` (a synchronous spawn) with the gateway's spawning thread inside this group,
   * so the child is born in it: its first instruction is already counted and limited.
   */
  spawnInside<T>(spawnNow: () => T): T;
  /** How often the kernel's OOM killer acted in the group. Synchronous, so an exit can be explained on the spot. */
  oomKills(): number;
  /** Kills every process in the group, then removes it; resolves when both are done. */
  destroy(): Promise<void>;
}

export interface CgroupDriver {
  readonly version: 'v1' | 'v2';
  /** False when no CPU controller is there (or none was asked for): `max_cpu_percent` is not enforced. */
  readonly hasCpu: boolean;
  /** The instance's own group directories (one per hierarchy), recorded for the start-up sweep. */
  readonly instanceDirs: string[];
  /** The instance directory that killing works on (v1: in the freezer hierarchy). */
  readonly killDir: string;
  create(name: string, limits: CgroupLimits): Promise<SessionCgroup>;
  /** Kills whatever is left in the instance's groups and removes them. */
  close(): Promise<void>;
}

/** One mounted hierarchy as the gateway uses it. */
export interface Hierarchy {
  /** The instance group below the gateway's own group: `<mount><own path>/mcp-gateway-<id>`. */
  instanceDir: string;
  /** Where the gateway's own thread lives and returns to after a spawn. */
  homeDir: string;
}

export interface GroupLayout {
  version: 'v1' | 'v2';
  hierarchies: Hierarchy[];
  /** The file a pid/tid is written to for moving it: v1 `tasks` (one thread), v2 `cgroup.procs`. */
  attachFile: 'tasks' | 'cgroup.procs';
  /** The hierarchy whose directory kill works on (v1: freezer; v2: the single one). */
  killIndex: number;
  /** The hierarchy and file holding the OOM-kill counter. */
  oomIndex: number;
  oomFile: string;
  removeDir: RemoveDir;
}

/**
 * A session group spread over the layout's hierarchies. The v1 and v2 drivers differ in how they
 * set up hierarchies and write limits; moving, killing and removing work the same way.
 */
export class SessionGroup implements SessionCgroup {
  private readonly dirs: string[];

  constructor(
    private readonly layout: GroupLayout,
    name: string,
  ) {
    this.dirs = layout.hierarchies.map((hierarchy) => join(hierarchy.instanceDir, name));
  }

  dir(index: number): string {
    return this.dirs[index]!;
  }

  async make(): Promise<void> {
    for (const dir of this.dirs) await mkdir(dir);
  }

  spawnInside<T>(spawnNow: () => T): T {
    const { attachFile, hierarchies } = this.layout;
    // The main thread's id is the pid; only that thread moves, and only for the synchronous fork.
    const self = String(process.pid);
    let moved = 0;
    try {
      for (const dir of this.dirs) {
        writeNow(join(dir, attachFile), self);
        moved += 1;
      }
      return spawnNow();
    } finally {
      for (const hierarchy of hierarchies.slice(0, moved)) writeNow(join(hierarchy.homeDir, attachFile), self);
    }
  }

  oomKills(): number {
    return oomKillCount(join(this.dirs[this.layout.oomIndex]!, this.layout.oomFile));
  }

  async destroy(): Promise<void> {
    await killGroup(this.dirs[this.layout.killIndex]!, this.layout.version);
    for (const dir of this.dirs) await waitEmpty(dir);
    for (const dir of this.dirs) await removeTree(dir, this.layout.removeDir);
  }
}

export async function closeLayout(layout: GroupLayout): Promise<void> {
  const killDir = layout.hierarchies[layout.killIndex]!.instanceDir;
  await killGroupTree(killDir, layout.version);
  for (const { instanceDir } of layout.hierarchies) await removeTree(instanceDir, layout.removeDir);
}

/** Kills every group at or below `dir` (a dead instance's leftovers, or this one's at close). */
export async function killGroupTree(dir: string, version: 'v1' | 'v2'): Promise<void> {
  for (const group of (await groupTree(dir)).reverse()) await killGroup(group, version);
}
