/**
 * Containment of every session of one gateway instance (SPEC §14): a uid of its own when the
 * gateway is root, a cgroup of its own where the kernel allows, a reaper that cleans up after a
 * SIGKILLed gateway and a sweep of dead instances at start-up. The launcher asks for one
 * SessionContainment per server; when none of this is available, it gets an empty one and today's
 * mechanisms (process groups, the memory watchdog) do the job alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { ServiceConfig } from '../../config/types.js';
import { GatewayError } from '../../errors.js';
import { startFailed } from '../mcp-client.js';
import { TASKS_PER_PROCESS, type UnixUser } from '../sandbox.js';
import type { CgroupDriver, SessionCgroup } from './cgroup.js';
import { openCgroups } from './cgroup-detect.js';
import { unreachableForOtherUids } from './reachable.js';
import { newInstanceName, removeRecord, startTimeOf, sweepDeadInstances, writeRecord } from './instance.js';
import { DEFAULT_UID_LOCK_DIR, UidPool, type UidLease } from './uid-pool.js';

export interface ContainmentOptions {
  /** session.sandbox_dir, absolute. */
  sandboxRoot: string;
  services: ServiceConfig[];
  isRoot: boolean;
  /** Where relative working directories and commands are resolved from. */
  gatewayCwd: string;
  logger: Logger;
  /** Stand-in for the cgroup mounts (see cgroup-detect.ts). For tests. */
  cgroupFsRoot?: string;
  /** Where uid locks live; machine-wide by default. For tests. */
  uidLockDir?: string;
  /** The gateway's environment: the reaper gets its PATH and nothing else. */
  env: Record<string, string | undefined>;
}

export interface SessionContainment {
  /** The session's own uid/gid, or undefined when sessions do not get one. */
  user?: UnixUser;
  /** Runs a synchronous spawn so that the child is born inside the session's cgroup. */
  spawnInside?: <T>(spawnNow: () => T) => T;
  /** True when the kernel enforces max_memory_mb: the resident-memory watchdog is not needed. */
  limitsMemory: boolean;
  /** Why the server died when the gateway knows better than its exit status (an OOM kill). */
  explainExit(): string | undefined;
  /** Calls `onExceeded` once when the kernel OOM-kills any process of the session; returns a stop. */
  watchMemory(onExceeded: (reason: string) => void): () => void;
  /** Kills everything left of the session and frees its cgroup and uid. */
  dispose(): Promise<void>;
}

export interface Containment {
  /** Parent of this instance's session directories. */
  readonly sessionRoot: string;
  /** The containment half of a service's start-up protections line. */
  describe(service: ServiceConfig): string;
  /** True when the service's sessions get a cgroup memory limit instead of the watchdog. */
  limitsMemory(service: ServiceConfig): boolean;
  /** True when each of the service's sessions runs under a uid of its own. */
  hasSessionUids(service: ServiceConfig): boolean;
  forSession(service: ServiceConfig): Promise<SessionContainment>;
  /** After every session is gone: removes the instance's groups, record and directory. */
  close(): Promise<void>;
}

const OOM_CHECK_INTERVAL_MS = 500;

/**
 * allowed_paths are shared by every session of the service and must stay writable to each of
 * them, so those services keep one identity; bubblewrap already shows each server only those
 * paths and its own directory.
 */
const wantsUid = ({ sandbox }: ServiceConfig): boolean =>
  sandbox.enabled && sandbox.session_uids && !sandbox.drop_privileges && sandbox.allowed_paths.length === 0;
const wantsCgroup = (service: ServiceConfig): boolean => service.sandbox.enabled && service.sandbox.cgroups !== 'off';

function memoryReason(service: ServiceConfig): string {
  return `memory limit of ${service.sandbox.max_memory_mb} MiB exceeded (out-of-memory kill in the session's cgroup)`;
}

/**
 * The reaper (src/reaper.ts) runs from the compiled file. A gateway running from source (tests)
 * uses the build in dist/ when there is one: through tsx the reaper would cost about a second of
 * CPU per gateway instead of a tenth. `--import tsx` resolves from the working directory, hence
 * the script's.
 */
function reaperCommand(): { args: string[]; cwd: string } {
  const compiled = fileURLToPath(new URL('../../reaper.js', import.meta.url));
  if (!import.meta.url.endsWith('.ts')) return { args: [compiled], cwd: dirname(compiled) };
  const built = fileURLToPath(new URL('../../../dist/reaper.js', import.meta.url));
  if (existsSync(built)) return { args: [built], cwd: dirname(built) };
  const source = fileURLToPath(new URL('../../reaper.ts', import.meta.url));
  return { args: ['--import', 'tsx', source], cwd: dirname(source) };
}

export async function createContainment(options: ContainmentOptions): Promise<Containment> {
  const { logger } = options;
  const instance = newInstanceName();
  const sessionRoot = join(options.sandboxRoot, instance);
  await mkdir(sessionRoot, { recursive: true, mode: 0o711 });
  const swept = await sweepDeadInstances(options.sandboxRoot, instance);
  if (swept.length > 0) logger.warn({ instances: swept }, 'swept what dead gateway instances left behind');

  const enabled = options.services.filter((service) => service.enabled);
  let cgroups: CgroupDriver | undefined;
  let noCgroups = 'off';
  if (enabled.some(wantsCgroup)) {
    const wantsCpu = enabled.some((service) => wantsCgroup(service) && service.sandbox.max_cpu_percent !== undefined);
    const setup = await openCgroups({ instance, fsRoot: options.cgroupFsRoot, wantsCpu });
    cgroups = setup.driver;
    noCgroups = setup.reason ?? '';
  }
  let uids: UidPool | undefined;
  let noUids = options.isRoot ? 'off' : 'the gateway is not root';
  if (options.isRoot && enabled.some(wantsUid)) {
    const pool = new UidPool(options.uidLockDir ?? DEFAULT_UID_LOCK_DIR, instance);
    try {
      await pool.open();
      await letOthersPass(options.sandboxRoot);
      uids = pool;
    } catch (error) {
      noUids = `cannot use ${options.uidLockDir ?? DEFAULT_UID_LOCK_DIR}: ${(error as Error).message}`;
    }
  }
  await writeRecord(sessionRoot, {
    pid: process.pid,
    startTime: (await startTimeOf(process.pid)) ?? '',
    ...(cgroups && {
      cgroups: { version: cgroups.version, killDir: cgroups.killDir, dirs: cgroups.instanceDirs },
    }),
    ...(uids && { uidLockDir: options.uidLockDir ?? DEFAULT_UID_LOCK_DIR }),
  });
  const reaper = cgroups || uids ? startReaper(options.sandboxRoot, instance, options.env['PATH']) : undefined;

  const oomWatches = new Set<{ group: SessionCgroup; seen: number; onExceeded: () => void }>();
  const oomTimer = setInterval(() => {
    for (const watch of oomWatches) {
      if (watch.group.oomKills() <= watch.seen) continue;
      oomWatches.delete(watch);
      watch.onExceeded();
    }
  }, OOM_CHECK_INTERVAL_MS);
  oomTimer.unref();
  let sessions = 0;

  // Computed once per service definition (a reload brings new ones): a few stat calls.
  const unreachable = new WeakMap<ServiceConfig, string | undefined>();
  const unreachableFiles = (service: ServiceConfig): string | undefined => {
    if (!unreachable.has(service)) {
      const problem = unreachableForOtherUids(service, options.gatewayCwd, options.env['PATH']);
      unreachable.set(service, problem);
      if (problem !== undefined) {
        logger.warn(
          { service: service.name, problem },
          'sessions of this service run under the gateway\'s own uid: a per-session uid could not reach the server\'s files; open the directory to other users (chmod o+x) or install the server elsewhere',
        );
      }
    }
    return unreachable.get(service);
  };
  const usesUid = (service: ServiceConfig): boolean => uids !== undefined && wantsUid(service) && unreachableFiles(service) === undefined;

  return {
    sessionRoot,
    hasSessionUids: usesUid,
    limitsMemory: (service) => cgroups !== undefined && wantsCgroup(service) && service.sandbox.resource_limits,

    describe(service) {
      if (!service.sandbox.enabled) return 'no containment';
      const parts: string[] = [];
      if (!wantsCgroup(service)) parts.push('no cgroup (sandbox.cgroups "off")');
      else if (cgroups) {
        const { sandbox } = service;
        const cpu = sandbox.max_cpu_percent === undefined ? '' : cgroups.hasCpu ? ` cpu=${sandbox.max_cpu_percent}%` : ' (no cpu controller: max_cpu_percent not enforced)';
        const limits = sandbox.resource_limits ? ` memory=${sandbox.max_memory_mb}MiB tasks=${sandbox.max_processes * TASKS_PER_PROCESS}${cpu}` : '';
        parts.push(`cgroup ${cgroups.version} per session${limits}, killed as a whole`);
      } else if (service.sandbox.cgroups === 'required') parts.push(`refuses to start: sandbox.cgroups is "required" but ${noCgroups}`);
      else parts.push(`no cgroup (${noCgroups})`);
      if (service.sandbox.drop_privileges) parts.push('one fixed uid (drop_privileges) shared by all sessions');
      else if (usesUid(service)) parts.push(`own uid per session from ${service.sandbox.uid_range.join('-')}`);
      else if (wantsUid(service) && uids) parts.push(`sessions share the gateway's identity (no per-session uid: ${unreachableFiles(service)})`);
      else if (service.sandbox.allowed_paths.length > 0) parts.push('one identity for all sessions (allowed_paths are shared; bubblewrap separates the sessions)');
      else parts.push(`sessions share the gateway's identity (no per-session uid: ${service.sandbox.session_uids ? noUids : 'sandbox.session_uids false'})`);
      return parts.join(', ');
    },

    async forSession(service) {
      const { sandbox } = service;
      if (wantsCgroup(service) && !cgroups && sandbox.cgroups === 'required') {
        throw new GatewayError('START_FAILED', `service "${service.name}" sets sandbox.cgroups "required", but ${noCgroups}`, { service: service.name });
      }
      let lease: UidLease | undefined;
      let group: SessionCgroup | undefined;
      try {
        if (uids && usesUid(service)) lease = await uids.acquire(sandbox.uid_range);
        if (cgroups && wantsCgroup(service)) {
          sessions += 1;
          group = await cgroups.create(`s${sessions}`, {
            ...(sandbox.resource_limits && {
              memoryMb: sandbox.max_memory_mb,
              maxTasks: sandbox.max_processes * TASKS_PER_PROCESS,
              cpuPercent: sandbox.max_cpu_percent,
            }),
          });
        }
      } catch (error) {
        await lease?.release();
        throw startFailed(service.name, `containment: ${(error as Error).message}`, error);
      }
      const limitsMemory = group !== undefined && sandbox.resource_limits;
      return {
        ...(lease && { user: { uid: lease.uid, gid: lease.gid } }),
        ...(group && { spawnInside: group.spawnInside.bind(group) }),
        limitsMemory,
        explainExit: () => (limitsMemory && group!.oomKills() > 0 ? memoryReason(service) : undefined),
        watchMemory(onExceeded) {
          if (!limitsMemory) return () => {};
          const watch = { group: group!, seen: group!.oomKills(), onExceeded: () => onExceeded(memoryReason(service)) };
          oomWatches.add(watch);
          return () => oomWatches.delete(watch);
        },
        async dispose() {
          // A group stuck with an unkillable process (D state) must not fail the session's close;
          // the instance's close, or the next sweep, tries again.
          await group?.destroy().catch((error: unknown) => logger.warn({ err: error, service: service.name }, 'session cgroup not removed'));
          await lease?.release();
        },
      };
    },

    async close() {
      clearInterval(oomTimer);
      try {
        await cgroups?.close();
      } finally {
        // The record goes first: a reaper that finds none knows its gateway cleaned up.
        await removeRecord(sessionRoot);
        await rm(sessionRoot, { recursive: true, force: true });
        await reaper?.stop();
      }
    },
  };
}

/**
 * A session's uid must pass through sandbox_dir to reach its own directory (0700, its own); o+x
 * lets it do that without listing or reading anything (the per-service directories are 0711 too).
 */
async function letOthersPass(dir: string): Promise<void> {
  const mode = (await stat(dir)).mode & 0o7777;
  if ((mode & 0o001) === 0) await chmod(dir, mode | 0o011);
}

function startReaper(sandboxRoot: string, instance: string, path = '/usr/bin:/bin'): { stop(): Promise<void> } {
  // Detached: a signal to the gateway's process group (Ctrl-C) must not take the reaper along.
  const { args, cwd } = reaperCommand();
  const child: ChildProcess = spawn(process.execPath, [...args, sandboxRoot, instance], {
    cwd,
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { PATH: path },
  });
  child.on('error', () => {});
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return {
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      // Referenced again while waiting, or an otherwise idle gateway would exit mid-close.
      child.ref();
      child.stdin?.end();
      await exited;
    },
  };
}
