import { describe, expect, test } from 'vitest';
import type { SandboxConfig, ServiceConfig } from '../../src/config/types.js';
import { serviceConfig } from '../helpers/config.js';
import { isGatewayError } from '../../src/errors.js';
import {
  buildLaunch,
  describeProtections,
  serverOwner,
  type SandboxContext,
} from '../../src/upstream/sandbox.js';


function service(sandbox: Partial<SandboxConfig> = {}, extra: Partial<ServiceConfig> = {}): ServiceConfig {
  return serviceConfig({ name: 'files', command: ['node', 'server.js', '--stdio'], ...extra }, sandbox);
}

const TOOLS = { prlimit: '/usr/bin/prlimit', bwrap: '/usr/bin/bwrap', setpriv: '/usr/bin/setpriv' };
const SESSION_DIR = '/srv/gw/sandbox/files/abc-x1y2z3';

function context(overrides: Partial<SandboxContext> = {}): SandboxContext {
  return {
    sessionDir: SESSION_DIR,
    parentEnv: {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: '/root',
      USER: 'root',
      SHELL: '/bin/bash',
      NODE_PATH: '/opt/node_modules',
      LD_PRELOAD: '/tmp/evil.so',
      LD_LIBRARY_PATH: '/tmp/lib',
      DYLD_INSERT_LIBRARIES: '/tmp/evil.dylib',
      MCP_AUTH_PASSWORD: 's3cret-pass',
      REDIS_URL: 'redis://:s3cret-pass@cache:6379',
      API_TOKEN: 'tok-123456',
    },
    gatewayCwd: '/srv/gw',
    secrets: ['s3cret-pass', 'tok-123456', ''],
    tools: TOOLS,
    isRoot: true,
    ...overrides,
  };
}

const DIES_WITH_GATEWAY = ['--pdeathsig', 'KILL'];
const sessionEnv = { HOME: SESSION_DIR, TMPDIR: SESSION_DIR, TMP: SESSION_DIR, TEMP: SESSION_DIR };

describe('environment (§7)', () => {
  test.each([
    {
      why: 'restricted (default): PATH, private HOME/TMPDIR, USER, LANG and the passthrough variables only',
      sandbox: {},
      ctx: {},
      expected: { PATH: '/usr/local/bin:/usr/bin:/bin', ...sessionEnv, USER: 'root', LANG: 'C.UTF-8', NODE_PATH: '/opt/node_modules' },
    },
    {
      why: 'restricted without PATH or USER in the parent: a sane PATH and USER=mcp',
      sandbox: {},
      ctx: { parentEnv: {} },
      expected: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...sessionEnv, USER: 'mcp', LANG: 'C.UTF-8' },
    },
    {
      why: 'a passthrough variable holding a secret is not passed on',
      sandbox: {},
      ctx: { parentEnv: { PATH: '/usr/bin', USER: 'u', PYTHONPATH: '/x/s3cret-pass', JAVA_HOME: '/usr/lib/jvm' } },
      expected: { PATH: '/usr/bin', ...sessionEnv, USER: 'u', LANG: 'C.UTF-8', JAVA_HOME: '/usr/lib/jvm' },
    },
    {
      why: 'a PATH that contains a secret falls back to the default PATH',
      sandbox: {},
      ctx: { parentEnv: { PATH: '/home/s3cret-pass/bin' } },
      expected: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...sessionEnv, USER: 'mcp', LANG: 'C.UTF-8' },
    },
    {
      why: 'restricted_env false: the parent env minus loader variables and anything carrying a secret',
      sandbox: { restricted_env: false },
      ctx: {},
      expected: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/root', USER: 'root', SHELL: '/bin/bash', NODE_PATH: '/opt/node_modules' },
    },
    {
      why: 'sandbox disabled: the parent env, still minus loader variables and secrets',
      sandbox: { enabled: false },
      ctx: {},
      expected: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/root', USER: 'root', SHELL: '/bin/bash', NODE_PATH: '/opt/node_modules' },
    },
    {
      why: 'an empty secret filters nothing',
      sandbox: { restricted_env: false },
      ctx: { parentEnv: { A: 'x', B: '' }, secrets: [''] },
      expected: { A: 'x', B: '' },
    },
  ])('$why', ({ sandbox, ctx, expected }) => {
    expect(buildLaunch(service(sandbox), context(ctx)).env).toEqual(expected);
  });

  test.each([
    { why: 'restricted', sandbox: {} },
    { why: 'full', sandbox: { restricted_env: false } },
    { why: 'disabled', sandbox: { enabled: false } },
  ])('$why: the service env is merged over the base and loader variables stay out even there', ({ sandbox }) => {
    const env = { API_KEY: 'k', PATH: '/opt/bin', MCP_AUTH_PASSWORD: 's3cret-pass', LD_PRELOAD: '/x.so', LD_AUDIT: '/y.so' };
    const launched = buildLaunch(service(sandbox, { env }), context()).env;
    expect(launched).toMatchObject({ API_KEY: 'k', PATH: '/opt/bin', MCP_AUTH_PASSWORD: 's3cret-pass' });
    expect(launched).not.toHaveProperty('LD_PRELOAD');
    expect(launched).not.toHaveProperty('LD_AUDIT');
    expect(launched).not.toHaveProperty('LD_LIBRARY_PATH');
    expect(launched).not.toHaveProperty('DYLD_INSERT_LIBRARIES');
  });

  test('a "__proto__" variable in the service env stays a variable (§7)', () => {
    const env = JSON.parse('{"__proto__": "x"}') as Record<string, string>;
    const launched = buildLaunch(service({}, { env }), context()).env;
    expect(Object.getPrototypeOf(launched)).toBe(Object.prototype);
    expect(Object.keys(launched)).toContain('__proto__');
  });
});

describe('the shared package cache', () => {
  const CACHE = '/srv/gw/sandbox/.package-cache/gateway';

  test('a restricted environment points npm, uv and pip at it; the service env still wins', () => {
    const { env } = buildLaunch(service({}, { env: { PIP_CACHE_DIR: '/mine' } }), context({ packageCacheDir: CACHE }));
    expect(env).toMatchObject({ npm_config_cache: `${CACHE}/npm`, UV_CACHE_DIR: `${CACHE}/uv`, PIP_CACHE_DIR: '/mine', npm_config_prefer_offline: 'true' });
    expect(env['HOME']).toBe(SESSION_DIR);
  });

  test('inside bubblewrap it is writable', () => {
    const { args } = buildLaunch(service({ allowed_paths: ['/data'] }), context({ packageCacheDir: CACHE }));
    expect(args.join(' ')).toContain(`--bind ${CACHE} ${CACHE}`);
  });
});

describe('wrapper argv (§7)', () => {
  const LIMITS = ['--cpu=300:305', '--fsize=10485760', '--nofile=1024'];

  test('default: setpriv for the parent-death signal, then prlimit, cwd = the gateway cwd, memory watched at max_memory_mb', () => {
    expect(buildLaunch(service(), context())).toMatchObject({
      command: '/usr/bin/setpriv',
      args: [...DIES_WITH_GATEWAY, '--', '/usr/bin/prlimit', ...LIMITS, '--', 'node', 'server.js', '--stdio'],
      cwd: '/srv/gw',
      watchMemoryMb: 512,
    });
  });

  test('disabled: the bare command, no tool needed, nothing watched, whatever else is set', () => {
    const launch = buildLaunch(service({ enabled: false, drop_privileges: true, allowed_paths: ['/data'] }), context({ tools: {} }));
    expect(launch).toMatchObject({ command: 'node', args: ['server.js', '--stdio'], cwd: '/srv/gw' });
    expect(launch.watchMemoryMb).toBeUndefined();
  });

  test('resource_limits false: no prlimit and no memory watch', () => {
    const launch = buildLaunch(service({ resource_limits: false }), context());
    expect(launch).toMatchObject({ command: '/usr/bin/setpriv', args: [...DIES_WITH_GATEWAY, '--', 'node', 'server.js', '--stdio'] });
    expect(launch.watchMemoryMb).toBeUndefined();
  });

  test('no address-space limit: V8 and its wasm reservations need far more than any useful cap', () => {
    const args = buildLaunch(service({ max_memory_mb: 100_000 }), context()).args;
    expect(args.some((arg) => arg.startsWith('--as'))).toBe(false);
  });

  test.each([
    { why: 'root without a privilege drop: root ignores RLIMIT_NPROC', ctx: { isRoot: true }, drop: false, nproc: false },
    { why: 'gateway not root: the limit would count the gateway\'s own threads', ctx: { isRoot: false }, drop: true, nproc: false },
    { why: 'dropped uid: 16 tasks per configured process (Node alone runs 11 threads)', ctx: { isRoot: true }, drop: true, nproc: true },
  ])('--nproc only under a dropped uid — $why', ({ ctx, drop, nproc }) => {
    const args = buildLaunch(service({ drop_privileges: drop }), context(ctx)).args;
    expect(args.includes('--nproc=160')).toBe(nproc);
  });

  test('working_dir: relative to the gateway cwd (§7)', () => {
    expect(buildLaunch(service({ working_dir: 'servers/files' }), context()).cwd).toBe('/srv/gw/servers/files');
    expect(buildLaunch(service({ working_dir: '/opt/mcp' }), context()).cwd).toBe('/opt/mcp');
  });

  test('drop_privileges as root: setpriv outermost with the given uid/gid, then prlimit', () => {
    const launch = buildLaunch(service({ drop_privileges: true }), context({ unprivilegedUid: 1500, unprivilegedGid: 1600 }));
    expect([launch.command, ...launch.args]).toEqual([
      '/usr/bin/setpriv', '--reuid=1500', '--regid=1600', '--clear-groups', '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all', ...DIES_WITH_GATEWAY, '--',
      '/usr/bin/prlimit', ...LIMITS, '--nproc=160', '--',
      'node', 'server.js', '--stdio',
    ]);
  });

  test('drop_privileges defaults to nobody (65534) and is a no-op when the gateway is not root', () => {
    expect(serverOwner(service({ drop_privileges: true }), context())).toEqual({ uid: 65534, gid: 65534 });
    expect(serverOwner(service({ drop_privileges: true }), context({ isRoot: false }))).toBeUndefined();
    expect(serverOwner(service({ drop_privileges: true, enabled: false }), context())).toBeUndefined();
    expect(buildLaunch(service({ drop_privileges: true }), context({ isRoot: false })).args).not.toContain('--reuid=65534');
  });

  test('a per-session user runs the server as that uid with RLIMIT_NPROC; drop_privileges wins over it', () => {
    const sessionUser = { uid: 200_123, gid: 200_123 };
    const argv = (sandbox: Partial<SandboxConfig>, ctx: Partial<SandboxContext> = {}): string[] => {
      const launch = buildLaunch(service(sandbox), context({ sessionUser, ...ctx }));
      return [launch.command, ...launch.args];
    };
    expect(argv({})).toEqual(expect.arrayContaining(['--reuid=200123', '--regid=200123', '--clear-groups', '--nproc=160']));
    expect(argv({ drop_privileges: true })).toContain('--reuid=65534');
    expect(argv({}, { isRoot: false })).not.toContain('--reuid=200123');
  });

  test('gateway not root: bubblewrap shows the host read-only, hides every session and binds only this one writable', () => {
    const launch = buildLaunch(service(), context({ isRoot: false, sessionsRoot: '/srv/gw/sandbox' }));
    const argv = [launch.command, ...launch.args];
    const bwrap = argv.indexOf('/usr/bin/bwrap');
    expect(argv.slice(bwrap, argv.indexOf('--chdir'))).toEqual([
      '/usr/bin/bwrap', '--ro-bind', '/', '/', '--tmpfs', '/srv/gw/sandbox', '--bind', SESSION_DIR, SESSION_DIR,
      '--proc', '/proc', '--dev', '/dev', '--unshare-pid', '--unshare-ipc', '--die-with-parent', '--cap-drop', 'ALL',
    ]);
    // Optional: without bubblewrap (or with session_uids off) the server runs as before.
    expect(buildLaunch(service(), context({ isRoot: false, tools: { ...TOOLS, bwrap: undefined } })).args).not.toContain('--ro-bind');
    expect(buildLaunch(service({ session_uids: false }), context({ isRoot: false })).args).not.toContain('--ro-bind');
  });

  test('without setpriv there is no parent-death signal, and nothing is refused for it', () => {
    expect(buildLaunch(service(), context({ tools: { prlimit: '/usr/bin/prlimit' } })).command).toBe('/usr/bin/prlimit');
  });
});

describe('bubblewrap for allowed_paths (§7)', () => {
  const args = (sandbox: Partial<SandboxConfig>, command = ['node', 'server.js']): string[] => {
    const launch = buildLaunch(service({ resource_limits: false, ...sandbox }, { command }), context({ tools: { ...TOOLS, setpriv: undefined } }));
    expect(launch.command).toBe('/usr/bin/bwrap');
    return launch.args;
  };
  /** The mount operations, as [op, path] pairs in argv order. */
  const mounts = (argv: string[]): string[][] => {
    const pairs: string[][] = [];
    for (let i = 0; i < argv.length; i += 1) {
      const op = argv[i] ?? '';
      if (['--ro-bind', '--ro-bind-try', '--bind'].includes(op)) pairs.push([op, argv[i + 1] ?? '']);
      if (op === '--tmpfs') pairs.push([op, argv[i + 1] ?? '']);
    }
    return pairs;
  };

  test('system dirs read-only, a private /tmp, working dir read-only, allowed paths and the session dir writable', () => {
    const argv = args({ allowed_paths: ['/data/in', 'out'] });
    const pairs = mounts(argv);
    expect(pairs).toEqual(expect.arrayContaining([
      ['--ro-bind-try', '/usr'], ['--ro-bind-try', '/bin'], ['--ro-bind-try', '/lib64'], ['--ro-bind-try', '/etc/resolv.conf'],
      ['--ro-bind-try', '/etc/ssl'], ['--tmpfs', '/tmp'], ['--ro-bind', '/srv/gw'],
      ['--bind', '/data/in'], ['--bind', '/srv/gw/out'], ['--bind', SESSION_DIR],
    ]));
    expect(pairs.some(([, path]) => path === '/etc' || path === '/root' || path === '/')).toBe(false);
    expect(argv.slice(argv.indexOf('--proc'))).toEqual([
      '--proc', '/proc', '--dev', '/dev', '--unshare-pid', '--unshare-ipc', '--die-with-parent',
      '--cap-drop', 'ALL', '--chdir', '/srv/gw', '--', 'node', 'server.js',
    ]);
    expect(argv).not.toContain('--new-session');
  });

  test('every mount comes after the mounts of its parents, so none is hidden', () => {
    const pairs = mounts(args({ allowed_paths: ['/srv/gw/data/deep', '/tmp', '/srv/gw/data'], working_dir: '/srv/gw/app' }));
    const paths = pairs.map(([, path]) => path ?? '');
    paths.forEach((path, index) => {
      for (const later of paths.slice(index + 1)) expect(path.startsWith(`${later}/`)).toBe(false);
    });
    // An allowed /tmp is the real /tmp, bound over the private tmpfs.
    expect(paths.indexOf('/tmp')).toBeLessThan(paths.lastIndexOf('/tmp'));
    expect(pairs.at(paths.lastIndexOf('/tmp'))).toEqual(['--bind', '/tmp']);
  });

  test.each([
    { why: 'a working dir inside an allowed path is not bound read-only over it', sandbox: { allowed_paths: ['/srv'] }, command: ['node', 'x.js'], readOnly: [] },
    { why: 'an absolute interpreter outside /usr: its install prefix', sandbox: { allowed_paths: ['/data'] }, command: ['/opt/venv/bin/python', '-m', 'srv'], readOnly: ['/srv/gw', '/opt/venv'] },
    { why: 'an absolute program not in a bin dir: its directory', sandbox: { allowed_paths: ['/data'] }, command: ['/opt/tools/server'], readOnly: ['/srv/gw', '/opt/tools'] },
    { why: 'an interpreter under /usr is already visible', sandbox: { allowed_paths: ['/data'] }, command: ['/usr/bin/python3'], readOnly: ['/srv/gw'] },
    { why: 'a program in /bin: no bind of /', sandbox: { allowed_paths: ['/data'] }, command: ['/bin/node'], readOnly: ['/srv/gw'] },
  ])('read-only binds: $why', ({ sandbox, command, readOnly }) => {
    const pairs = mounts(args(sandbox, command)).filter(([op]) => op === '--ro-bind');
    expect(pairs.map(([, path]) => path)).toEqual(readOnly);
  });

  test('with limits and a privilege drop: setpriv → prlimit → bwrap → server', () => {
    const launch = buildLaunch(service({ allowed_paths: ['/data'], drop_privileges: true }), context());
    const argv = [launch.command, ...launch.args];
    const starts = ['/usr/bin/setpriv', '/usr/bin/prlimit', '/usr/bin/bwrap', 'node'].map((program) => argv.indexOf(program));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(argv[starts[1]! - 1]).toBe('--');
    expect(argv[starts[2]! - 1]).toBe('--');
    expect(argv[starts[3]! - 1]).toBe('--');
  });

  test.each([
    { why: 'allowed_paths without bwrap', sandbox: { allowed_paths: ['/data'] }, tools: { prlimit: '/p' }, message: /sets sandbox\.allowed_paths, which needs bubblewrap \(bwrap\).*apt-get install bubblewrap.*not started/ },
    { why: 'limits without prlimit', sandbox: {}, tools: {}, message: /sandbox\.resource_limits, which needs prlimit.*apt-get install util-linux/ },
    { why: 'a privilege drop without setpriv', sandbox: { drop_privileges: true }, tools: { prlimit: '/p' }, message: /sandbox\.drop_privileges, which needs setpriv/ },
  ])('never runs with less than configured: $why → START_FAILED', ({ sandbox, tools, message }) => {
    let thrown: unknown;
    try {
      buildLaunch(service(sandbox), context({ tools }));
    } catch (error) {
      thrown = error;
    }
    expect(isGatewayError(thrown, 'START_FAILED')).toBe(true);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).toContain('"files"');
  });
});

describe('describeProtections (startup log line)', () => {
  test.each([
    {
      why: 'defaults',
      sandbox: {},
      host: { tools: TOOLS, isRoot: true },
      expected: 'sandbox: restricted env, limits cpu=300s fsize=10MiB nofile=1024, memory watchdog 512MiB, dies with the gateway',
    },
    {
      why: 'isolation and a privilege drop',
      sandbox: { allowed_paths: ['/a', '/b'], drop_privileges: true },
      host: { tools: TOOLS, isRoot: true },
      expected: 'sandbox: restricted env, limits cpu=300s fsize=10MiB nofile=1024 nproc=160, memory watchdog 512MiB, bwrap (2 allowed paths), uid 65534, dies with the gateway',
    },
    {
      why: 'full env, no limits, gateway not root',
      sandbox: { restricted_env: false, resource_limits: false, drop_privileges: true },
      host: { tools: TOOLS, isRoot: false },
      expected: 'sandbox: full env, bwrap: host read-only, only its own session directory writable, dies with the gateway',
    },
    {
      why: 'disabled',
      sandbox: { enabled: false },
      host: { tools: {}, isRoot: true },
      expected: 'sandbox disabled: gateway environment without loader variables or credentials, no limits, no isolation',
    },
  ])('$why', ({ sandbox, host, expected }) => {
    expect(describeProtections(service(sandbox), host)).toBe(expected);
  });

  test('a missing tool says the service refuses to start and how to install it', () => {
    const line = describeProtections(service({ allowed_paths: ['/a'] }), { tools: { prlimit: '/p' }, isRoot: true });
    expect(line).toMatch(/^sandbox: restricted env, .*bwrap \(1 allowed paths\); refuses to start: .*apt-get install bubblewrap/);
  });
});
