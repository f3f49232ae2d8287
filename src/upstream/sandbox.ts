/**
 * Turns a service's `sandbox` section (SPEC §7) into the argv, environment and working directory
 * that process.ts spawns. Pure: the parent environment, the wrapper programs found at startup and
 * the session's private directory all come in through the context, so every rule is a table test.
 *
 * Wrapper order, outermost first: setpriv (parent-death signal, uid drop) → prlimit (rlimits) →
 * bwrap (filesystem) → the server. setpriv and prlimit exec the next program in place, so the spawned pid (the group
 * leader process.ts signals) is bwrap when isolating, else the server itself.
 */
import { posix } from 'node:path';
import type { SandboxConfig, ServiceConfig } from '../config/types.js';
import { GatewayError } from '../errors.js';
import { packageCacheEnv } from './package-cache.js';
import type { Launch as ProcessLaunch } from './process.js';

export interface SandboxTools {
  prlimit?: string;
  bwrap?: string;
  setpriv?: string;
}

export interface SandboxContext {
  /** Absolute path of the session's private directory (see session-dir.ts). */
  sessionDir: string;
  /** The shared package-runner cache (package-cache.ts), writable inside the sandbox; absent = none. */
  packageCacheDir?: string;
  parentEnv: Record<string, string | undefined>;
  gatewayCwd: string;
  /** The gateway's own credentials (auth_password, auth_token, …); never passed to a server. */
  secrets: string[];
  tools: SandboxTools;
  isRoot: boolean;
  unprivilegedUid?: number;
  unprivilegedGid?: number;
  /** The session's own uid/gid (containment/uid-pool.ts): what a root gateway runs the server as. */
  sessionUser?: UnixUser;
  /** session.sandbox_dir: what a gateway that is not root hides from each server (bubblewrap). */
  sessionsRoot?: string;
}

/** What process.ts spawns, plus the limit the memory watchdog enforces on it. */
export interface Launch extends ProcessLaunch {
  /** Resident-memory limit for the process group, enforced by memory-watchdog.ts. */
  watchMemoryMb?: number;
}

/** The per-host part of the context: enough to decide which protections a service gets. */
export type SandboxHost = Pick<SandboxContext, 'tools' | 'isRoot' | 'unprivilegedUid' | 'unprivilegedGid'>;

export interface UnixUser {
  uid: number;
  gid: number;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** SPEC §7 lists the first three; LD_AUDIT injects code into every exec exactly like LD_PRELOAD. */
const LOADER_VARIABLES = ['LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'DYLD_INSERT_LIBRARIES'];
const PASSTHROUGH_VARIABLES = ['PYTHONPATH', 'NODE_PATH', 'JAVA_HOME'];
const NOBODY = 65534;
const MIB = 1024 * 1024;
/** RLIMIT_CPU hard = soft + 5 s: the server gets SIGXCPU first and SIGKILL only if it ignores it. */
const CPU_GRACE_SECONDS = 5;
/**
 * RLIMIT_NPROC counts tasks (threads), not processes, for the whole real uid. Node 20 runs 11
 * threads once its libuv pool starts and aborts (exit 134) under --nproc=10 (measured), so each
 * configured process gets a budget of 16 tasks.
 */
export const TASKS_PER_PROCESS = 16;

/**
 * Shown read-only inside bubblewrap; missing ones are skipped (`--ro-bind-try`). /bin, /lib… are
 * bound rather than symlinked so the list works with and without merged /usr. From /etc only what
 * DNS, TLS, the loader, locale/time and user lookups need: the rest of /etc can hold secrets,
 * the gateway's own config among them.
 */
const SYSTEM_PATHS = [
  '/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32',
  '/etc/alternatives', '/etc/ssl', '/etc/ca-certificates', '/etc/pki',
  '/etc/resolv.conf', '/etc/hosts', '/etc/host.conf', '/etc/nsswitch.conf', '/etc/gai.conf',
  '/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d',
  '/etc/localtime', '/etc/timezone', '/etc/passwd', '/etc/group', '/etc/mime.types',
];

interface Plan {
  env: 'restricted' | 'full';
  hasLimits: boolean;
  isIsolated: boolean;
  runAs: UnixUser | undefined;
  diesWithGateway: boolean;
  /**
   * Not root, so no uid of its own: bubblewrap shows the server the host read-only, hides every
   * session directory and mounts only its own writable. Optional: without bwrap the start-up
   * line says the sessions share one identity.
   */
  hasSessionView: boolean;
}

function planFor(sandbox: SandboxConfig, host: SandboxHost, sessionUser?: UnixUser): Plan {
  const on = sandbox.enabled;
  // A gateway that is not root already runs servers unprivileged: nothing to drop.
  const fixedUser = sandbox.drop_privileges ? { uid: host.unprivilegedUid ?? NOBODY, gid: host.unprivilegedGid ?? NOBODY } : undefined;
  return {
    env: on && sandbox.restricted_env ? 'restricted' : 'full',
    hasLimits: on && sandbox.resource_limits,
    isIsolated: on && sandbox.allowed_paths.length > 0,
    runAs: on && host.isRoot ? (fixedUser ?? sessionUser) : undefined,
    // The kernel kills the server when the gateway dies, even by SIGKILL (setpriv --pdeathsig).
    diesWithGateway: on && host.tools.setpriv !== undefined,
    hasSessionView: on && !host.isRoot && sandbox.session_uids && sandbox.allowed_paths.length === 0 && host.tools.bwrap !== undefined,
  };
}

/** Why the service cannot start as configured; a missing tool never means running with less. */
function missingTool(service: ServiceConfig, plan: Plan, tools: SandboxTools): string | undefined {
  const needs = (key: string, what: string, pkg: string): string =>
    `service "${service.name}" sets sandbox.${key}, which needs ${what} on PATH; ` +
    `install it with "apt-get install ${pkg}" (the service is not started without it)`;
  if (plan.isIsolated && tools.bwrap === undefined) return needs('allowed_paths', 'bubblewrap (bwrap)', 'bubblewrap');
  if (plan.hasLimits && tools.prlimit === undefined) return needs('resource_limits', 'prlimit', 'util-linux');
  if (plan.runAs && tools.setpriv === undefined) return needs('drop_privileges', 'setpriv', 'util-linux');
  return undefined;
}

function environmentFor(service: ServiceConfig, ctx: SandboxContext, plan: Plan): Record<string, string> {
  const secrets = ctx.secrets.filter((secret) => secret !== '');
  const inherited = (name: string): string | undefined => {
    const value = ctx.parentEnv[name];
    return value === undefined || secrets.some((secret) => value.includes(secret)) ? undefined : value;
  };
  // A Map, not an object: a `__proto__` key in the service's env must stay a plain variable.
  const env = new Map<string, string>();
  if (plan.env === 'restricted') {
    env.set('PATH', inherited('PATH') ?? DEFAULT_PATH);
    for (const name of ['HOME', 'TMPDIR', 'TMP', 'TEMP']) env.set(name, ctx.sessionDir);
    env.set('USER', inherited('USER') ?? 'mcp');
    env.set('LANG', 'C.UTF-8');
    for (const name of PASSTHROUGH_VARIABLES) {
      const value = inherited(name);
      if (value !== undefined) env.set(name, value);
    }
    if (ctx.packageCacheDir !== undefined) {
      for (const [name, value] of Object.entries(packageCacheEnv(ctx.packageCacheDir))) env.set(name, value);
    }
  } else {
    for (const name of Object.keys(ctx.parentEnv)) {
      const value = inherited(name);
      if (value !== undefined) env.set(name, value);
    }
  }
  // The service's own entries are the operator's explicit choice and win, secrets included.
  for (const [name, value] of Object.entries(service.env)) env.set(name, value);
  // "Always removed" (SPEC §7), even when the service's env names them.
  for (const name of LOADER_VARIABLES) env.delete(name);
  return Object.fromEntries(env);
}

function prlimitArgs(sandbox: SandboxConfig, plan: Plan): string[] {
  // No --as: an address-space limit V8 survives protects nothing. Node 20 reserves ~1 GiB at
  // start and every WebAssembly memory reserves ~10 GiB more; fetch() compiles undici's wasm
  // parser, so a 4 GiB RLIMIT_AS breaks fetch (measured). Memory is the resident watchdog's job.
  const args = [
    `--cpu=${sandbox.max_cpu_seconds}:${sandbox.max_cpu_seconds + CPU_GRACE_SECONDS}`,
    `--fsize=${Math.floor(sandbox.max_file_size_mb * MIB)}`,
    `--nofile=${sandbox.max_open_files}`,
  ];
  // RLIMIT_NPROC is ignored for root and counts every task of the real uid: only meaningful
  // under the dropped uid, never under the gateway's own (it would count the gateway's threads).
  if (plan.runAs) args.push(`--nproc=${sandbox.max_processes * TASKS_PER_PROCESS}`);
  return args;
}

/** Namespaces and hardening every bubblewrap profile shares. */
const BWRAP_COMMON = [
  '--proc', '/proc',
  '--dev', '/dev',
  // A private pid namespace: when its init (bwrap's child) dies, the kernel kills everything in
  // it, grandchildren included, and the server cannot see or signal processes outside.
  '--unshare-pid',
  // No SysV shared memory or semaphores shared with other sessions' servers. The network stays
  // shared on purpose: MCP servers commonly call remote APIs (bwrap's choice is all or nothing).
  '--unshare-ipc',
  // bwrap's parent is the gateway (setpriv and prlimit exec'd away): the sandbox dies with it,
  // even when the gateway is SIGKILLed.
  '--die-with-parent',
  // No --new-session: process.ts spawns detached, so the tree already has its own session and
  // no controlling terminal (the TIOCSTI escape --new-session guards against). A second setsid
  // would take the server out of the process group that the close ladder signals and the
  // memory watchdog measures (sandbox-spawn.test.ts shows the watchdog seeing it).
  '--cap-drop', 'ALL',
];

const isWithin = (path: string, parent: string): boolean =>
  path === parent || path.startsWith(parent === '/' ? '/' : `${parent}/`);
const depth = (path: string): number => (path === '/' ? 0 : path.split('/').length - 1);

/** The interpreter's install prefix (`<prefix>/bin/node` → `<prefix>`, for venvs and nvm). */
function installDir(command: string): string | undefined {
  if (!posix.isAbsolute(command)) return undefined;
  const dir = posix.dirname(command);
  const prefix = posix.dirname(dir);
  return posix.basename(dir) === 'bin' && prefix !== '/' ? prefix : dir;
}

function bwrapArgs(sandbox: SandboxConfig, ctx: SandboxContext, cwd: string, command: string): string[] {
  const resolve = (path: string): string => posix.resolve(ctx.gatewayCwd, path);
  const writable = [...new Set([...sandbox.allowed_paths.map(resolve), ctx.sessionDir, ...(ctx.packageCacheDir === undefined ? [] : [ctx.packageCacheDir])])];
  const readOnly = [...new Set([cwd, installDir(command)])].filter(
    (path): path is string =>
      path !== undefined && ![...SYSTEM_PATHS, ...writable].some((shown) => isWithin(path, shown)),
  );
  // bwrap mounts in argv order and a later mount hides what lies below it, so parents go first;
  // the sort is stable, so at equal depth tmpfs < read-only < writable (an allowed /tmp wins).
  const mounts = [
    ...SYSTEM_PATHS.map((path) => ({ path, args: ['--ro-bind-try', path, path] })),
    { path: '/tmp', args: ['--tmpfs', '/tmp'] },
    ...readOnly.map((path) => ({ path, args: ['--ro-bind', path, path] })),
    ...writable.map((path) => ({ path, args: ['--bind', path, path] })),
  ].sort((a, b) => depth(a.path) - depth(b.path));
  return [
    ...mounts.flatMap((mount) => mount.args),
    ...BWRAP_COMMON,
    '--chdir', cwd,
  ];
}

function sessionViewArgs(ctx: SandboxContext, cwd: string): string[] {
  const sessionsRoot = ctx.sessionsRoot ?? posix.dirname(posix.dirname(ctx.sessionDir));
  return [
    // Read-only everywhere (TMPDIR is the session's own directory), every session hidden, then
    // its own directory shown again, writable.
    '--ro-bind', '/', '/',
    '--tmpfs', sessionsRoot,
    '--bind', ctx.sessionDir, ctx.sessionDir,
    ...BWRAP_COMMON,
    '--chdir', cwd,
  ];
}

function setprivArgs(plan: Plan): string[] {
  // setpriv sets the signal after the uid change (a change of credentials would clear it).
  const dieWithGateway = plan.diesWithGateway ? ['--pdeathsig', 'KILL'] : [];
  if (!plan.runAs) return dieWithGateway;
  return [
    `--reuid=${plan.runAs.uid}`, `--regid=${plan.runAs.gid}`, '--clear-groups',
    '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all', ...dieWithGateway,
  ];
}

/**
 * The user the server runs as after the privilege drop, or undefined when nothing is dropped.
 * The session's private directory must belong to it (createSessionDir's `owner`).
 */
export function serverOwner(service: ServiceConfig, host: SandboxHost): UnixUser | undefined {
  return planFor(service.sandbox, host).runAs;
}

export function buildLaunch(service: ServiceConfig, ctx: SandboxContext): Launch {
  const { sandbox } = service;
  const plan = planFor(sandbox, ctx, ctx.sessionUser);
  const missing = missingTool(service, plan, ctx.tools);
  if (missing !== undefined) throw new GatewayError('START_FAILED', missing, { service: service.name });
  const [program, ...programArgs] = service.command;
  if (program === undefined) {
    throw new GatewayError('START_FAILED', `service "${service.name}" has an empty command`, { service: service.name });
  }
  const cwd = posix.resolve(ctx.gatewayCwd, sandbox.working_dir ?? '.');
  let argv = [program, ...programArgs];
  // The tool paths are known to be present here: missingTool() checked each one the plan uses.
  if (plan.isIsolated) argv = [ctx.tools.bwrap!, ...bwrapArgs(sandbox, ctx, cwd, program), '--', ...argv];
  else if (plan.hasSessionView) argv = [ctx.tools.bwrap!, ...sessionViewArgs(ctx, cwd), '--', ...argv];
  if (plan.hasLimits) argv = [ctx.tools.prlimit!, ...prlimitArgs(sandbox, plan), '--', ...argv];
  if (plan.runAs || plan.diesWithGateway) argv = [ctx.tools.setpriv!, ...setprivArgs(plan), '--', ...argv];
  const [command, ...args] = argv as [string, ...string[]];
  return {
    command,
    args,
    env: environmentFor(service, ctx, plan),
    cwd,
    ...(plan.isIsolated && { reportsSignalAsExitCode: true }),
    ...(plan.hasLimits && { watchMemoryMb: sandbox.max_memory_mb }),
  };
}

/** One line for the startup log saying which protections a service gets (SPEC §7, §14). */
export function describeProtections(
  service: ServiceConfig,
  host: SandboxHost,
  options: { memoryByCgroup?: boolean; sessionUids?: boolean } = {},
): string {
  if (service.url !== undefined) return 'remote server: no process, so no sandbox';
  const { sandbox } = service;
  if (!sandbox.enabled) {
    return 'sandbox disabled: gateway environment without loader variables or credentials, no limits, no isolation';
  }
  const plan = planFor(sandbox, host);
  const parts = [plan.env === 'restricted' ? 'restricted env' : 'full env'];
  if (plan.hasLimits) {
    parts.push(
      `limits cpu=${sandbox.max_cpu_seconds}s fsize=${sandbox.max_file_size_mb}MiB nofile=${sandbox.max_open_files}` +
        (plan.runAs || options.sessionUids ? ` nproc=${sandbox.max_processes * TASKS_PER_PROCESS}` : ''),
      options.memoryByCgroup ? `memory ${sandbox.max_memory_mb}MiB by cgroup` : `memory watchdog ${sandbox.max_memory_mb}MiB`,
    );
  }
  if (plan.isIsolated) parts.push(`bwrap (${sandbox.allowed_paths.length} allowed paths)`);
  if (plan.hasSessionView) parts.push('bwrap: host read-only, only its own session directory writable');
  if (plan.runAs) parts.push(`uid ${plan.runAs.uid}`);
  if (plan.diesWithGateway) parts.push('dies with the gateway');
  const missing = missingTool(service, plan, host.tools);
  return `sandbox: ${parts.join(', ')}${missing === undefined ? '' : `; refuses to start: ${missing}`}`;
}
