import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import type { SandboxConfig, ServiceConfig } from '../../src/config/types.js';
import { createMemoryWatchdog } from '../../src/upstream/memory-watchdog.js';
import { buildLaunch, serverOwner, type SandboxContext, type SandboxTools } from '../../src/upstream/sandbox.js';
import { findSandboxTools } from '../../src/upstream/sandbox-tools.js';
import { createSessionDir, removeSessionDir } from '../../src/upstream/session-dir.js';
import { serviceConfig } from '../helpers/config.js';
import { readableCopy } from '../helpers/readable-copy.js';
import { RUN_MARKER_KEY, runMarker } from '../helpers/run-marker.js';
import { privateUser } from '../helpers/unprivileged-user.js';

const REPORT = resolve('test/fixtures/report.mjs');
/** Who drop_privileges runs servers as here: a uid of this test's own, never shared with other processes. */
const DROPPED = privateUser();
const SECRET = 'gw-pass-0f6c1a';


interface Report {
  uid: number;
  cwd: string;
  env: Record<string, string>;
  limits: Record<string, { soft: string; hard: string }>;
  writes: Record<string, string>;
  looks: Record<string, boolean>;
}

let tools: SandboxTools;
beforeAll(async () => {
  tools = await findSandboxTools();
});

/** A directory for this test, removed when it finishes; 0711 so a dropped uid can pass through. */
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sandbox-spawn-'));
  await chmod(dir, 0o711);
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function service(command: string[], sandbox: Partial<SandboxConfig> = {}): ServiceConfig {
  // The run marker lets the global teardown prove that nothing started here survived.
  return serviceConfig({ name: 'probe', command, env: { [RUN_MARKER_KEY]: runMarker() } }, sandbox);
}

/** Runs a service to completion the way process.ts does (own process group, no shell). */
async function run(svc: ServiceConfig, extra: Partial<SandboxContext> = {}) {
  const host = { tools, isRoot: process.getuid?.() === 0, unprivilegedUid: DROPPED.uid, unprivilegedGid: DROPPED.gid };
  const sessionDir = await createSessionDir(await tempDir(), svc.name, 'session-1', serverOwner(svc, host));
  const launch = buildLaunch(svc, {
    sessionDir,
    parentEnv: { ...process.env, LD_PRELOAD: 'libnothing.so', GATEWAY_PASSWORD_COPY: SECRET },
    gatewayCwd: process.cwd(),
    secrets: [SECRET],
    ...host,
    ...extra,
  });
  const child = spawn(launch.command, launch.args, { env: launch.env, cwd: launch.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr, sessionDir, launch };
}

async function report(svc: ServiceConfig): Promise<Report & { sessionDir: string }> {
  const result = await run(svc);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return { ...(JSON.parse(result.stdout) as Report), sessionDir: result.sessionDir };
}

describe('a sandboxed server as a real process (§7)', () => {
  test('default: restricted env with a private HOME/TMPDIR, no loader variables, no gateway secret', async () => {
    const seen = await report(service([process.execPath, REPORT]));
    expect(Object.keys(seen.env).sort()).toEqual(['HOME', 'LANG', RUN_MARKER_KEY, 'PATH', 'TEMP', 'TMP', 'TMPDIR', 'USER']);
    expect(seen.env).toMatchObject({ HOME: seen.sessionDir, TMPDIR: seen.sessionDir, LANG: 'C.UTF-8' });
    expect(seen.cwd).toBe(process.cwd());
  });

  test('restricted_env false: the gateway env, minus LD_PRELOAD and whatever holds a secret', async () => {
    const seen = await report(service([process.execPath, REPORT], { restricted_env: false }));
    expect(seen.env['PATH']).toBe(process.env['PATH']);
    expect(seen.env).not.toHaveProperty('LD_PRELOAD');
    expect(JSON.stringify(seen.env)).not.toContain(SECRET);
  });

  test('CPU, file-size and open-file limits show in /proc/self/limits', async () => {
    const seen = await report(service([process.execPath, REPORT], { max_cpu_seconds: 42, max_file_size_mb: 3, max_open_files: 256 }));
    expect(seen.limits['Max cpu time']).toEqual({ soft: '42', hard: '47' });
    expect(seen.limits['Max file size']).toEqual({ soft: String(3 * 1024 * 1024), hard: String(3 * 1024 * 1024) });
    expect(seen.limits['Max open files']).toEqual({ soft: '256', hard: '256' });
    // No address-space limit: it would break V8 (see sandbox.ts).
    expect(seen.limits['Max address space']).toEqual({ soft: 'unlimited', hard: 'unlimited' });
  });

  test('a busy loop is stopped at its CPU limit by SIGXCPU', async () => {
    const result = await run(service([process.execPath, '-e', 'for (;;) {}'], { max_cpu_seconds: 1 }));
    expect(result.signal).toBe('SIGXCPU');
  });

  test('a file larger than max_file_size_mb cannot be written', async () => {
    const script = "try { require('fs').writeFileSync('big', Buffer.alloc(2 * 1024 * 1024)); } catch (e) { console.log(e.code); }";
    const svc = service([process.execPath, '-e', script], { max_file_size_mb: 1 });
    const dir = await tempDir();
    const result = await run({ ...svc, sandbox: { ...svc.sandbox, working_dir: dir } });
    expect(result.stdout.trim()).toBe('EFBIG');
    expect((await stat(join(dir, 'big'))).size).toBe(1024 * 1024);
  });

  test('sandbox disabled: the bare command with the gateway env minus loader variables and secrets', async () => {
    const seen = await report(service([process.execPath, REPORT], { enabled: false }));
    expect(seen.env['HOME']).toBe(process.env['HOME']);
    expect(seen.env).not.toHaveProperty('LD_PRELOAD');
    expect(JSON.stringify(seen.env)).not.toContain(SECRET);
    expect(seen.limits['Max cpu time']?.soft).toBe('unlimited');
  });

  test('a Python server runs under the default sandbox too', async () => {
    const script = 'import json, os; print(json.dumps({"uid": os.getuid(), "home": os.environ["HOME"], "keys": sorted(os.environ)}))';
    const result = await run(service(['python3', '-c', script]));
    expect(result.code).toBe(0);
    const seen = JSON.parse(result.stdout) as { home: string; keys: string[] };
    expect(seen.home).toBe(result.sessionDir);
    expect(seen.keys).not.toContain('LD_PRELOAD');
  });
});

describe('allowed_paths: bubblewrap (§7)', () => {
  test('writes inside allowed paths and the session dir succeed, anywhere else fail; /root and /etc/shadow are invisible', async () => {
    const allowed = await tempDir();
    const outside = await tempDir();
    const seen = await report(
      service(
        [process.execPath, REPORT,
          '--write', join(allowed, 'ok.txt'),
          '--write', join(outside, 'no.txt'),
          '--write', join(process.cwd(), 'no.txt'),
          '--write', '/usr/no.txt',
          '--write', '/tmp/private.txt',
          '--look', '/root', '--look', '/etc/shadow', '--look', outside, '--look', REPORT],
        { allowed_paths: [allowed] },
      ),
    );
    expect(seen.writes).toEqual({
      [join(allowed, 'ok.txt')]: 'ok',
      [join(outside, 'no.txt')]: 'ENOENT',
      [join(process.cwd(), 'no.txt')]: 'EROFS',
      '/usr/no.txt': 'EROFS',
      '/tmp/private.txt': 'ok',
    });
    expect(seen.looks).toEqual({ '/root': false, '/etc/shadow': false, [outside]: false, [REPORT]: true });
    expect(await readFile(join(allowed, 'ok.txt'), 'utf8')).toBe('written by report.mjs\n');
    expect(existsSync(join(outside, 'no.txt'))).toBe(false);
    // The server's /tmp was its own.
    expect(existsSync('/tmp/private.txt')).toBe(false);
  });

  test('the server stays in the spawned process group, so the memory watchdog measures it', async () => {
    const svc = service([process.execPath, resolve('test/fixtures/alloc.mjs'), '150'], { allowed_paths: [await tempDir()] });
    const sessionDir = await createSessionDir(await tempDir(), svc.name, 'session-1');
    const launch = buildLaunch(svc, { sessionDir, parentEnv: process.env, gatewayCwd: process.cwd(), secrets: [], tools, isRoot: true });
    const child = spawn(launch.command, launch.args, { env: launch.env, cwd: launch.cwd, detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
    onTestFinished(async () => {
      const exited = once(child, 'exit');
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
    });
    await once(child.stdout, 'data');
    const rssMb = await new Promise<number>((onExceeded) =>
      onTestFinished(createMemoryWatchdog({ intervalMs: 20 })({ pgid: child.pid!, limitMb: 100, onExceeded })),
    );
    expect(rssMb).toBeGreaterThan(150);
  });

  test('a Python server runs inside bubblewrap', async () => {
    const allowed = await tempDir();
    const script = `open(${JSON.stringify(join(allowed, 'py.txt'))}, "w").write("hi"); print("done")`;
    const result = await run(service(['python3', '-c', script], { allowed_paths: [allowed] }));
    expect(result.stdout.trim()).toBe('done');
    expect(await readFile(join(allowed, 'py.txt'), 'utf8')).toBe('hi');
  });
});

describe('a gateway that is not root: bubblewrap separates the sessions (§14)', () => {
  test('the server writes only its own directory; other sessions\' directories are hidden, the rest read-only', async () => {
    const root = await tempDir();
    const neighbour = await createSessionDir(root, 'probe', 'other');
    await writeFile(join(neighbour, 'secret.txt'), 'theirs');
    const svc = service([process.execPath, REPORT,
      '--write', 'SESSION/mine.txt', '--write', join(neighbour, 'planted.txt'), '--write', join(process.cwd(), 'no.txt'),
      '--look', join(neighbour, 'secret.txt'), '--look', REPORT]);
    const sessionDir = await createSessionDir(root, svc.name, 'session-1');
    const resolved = { ...svc, command: svc.command.map((arg) => arg.replace('SESSION', sessionDir)) };
    const launch = buildLaunch(resolved, { sessionDir, sessionsRoot: root, parentEnv: process.env, gatewayCwd: process.cwd(), secrets: [], tools, isRoot: false });
    const child = spawn(launch.command, launch.args, { env: launch.env, cwd: launch.cwd, detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await once(child, 'close');
    const seen = JSON.parse(stdout) as Report;
    expect(seen.writes).toEqual({
      [join(sessionDir, 'mine.txt')]: 'ok',
      [join(neighbour, 'planted.txt')]: 'ENOENT',
      [join(process.cwd(), 'no.txt')]: 'EROFS',
    });
    expect(seen.looks).toEqual({ [join(neighbour, 'secret.txt')]: false, [REPORT]: true });
    expect(existsSync(join(neighbour, 'planted.txt'))).toBe(false);
  });
});

describe.runIf(process.getuid?.() === 0)('drop_privileges as root (§7)', () => {
  test('the server runs as the unprivileged user, owns its private directory and has an RLIMIT_NPROC', async () => {
    const { path: script } = await readableCopy(REPORT);
    const seen = await report(service([process.execPath, script, '--write', 'relative-in-cwd'], { drop_privileges: true, working_dir: '/' }));
    expect(seen.uid).toBe(DROPPED.uid);
    expect(seen.limits['Max processes']).toEqual({ soft: '160', hard: '160' });
    expect((await stat(seen.sessionDir)).uid).toBe(DROPPED.uid);
    expect(seen.writes['relative-in-cwd']).toBe('EACCES');
  });

  test('with allowed_paths: the unprivileged user inside bubblewrap writes the allowed path', async () => {
    const allowed = await tempDir();
    await chown(allowed, DROPPED.uid, DROPPED.gid);
    const { path: script, dir } = await readableCopy(REPORT);
    const seen = await report(
      service([process.execPath, script, '--write', join(allowed, 'ok.txt'), '--look', '/root'], { allowed_paths: [allowed], drop_privileges: true, working_dir: dir }),
    );
    expect(seen.uid).toBe(DROPPED.uid);
    expect(seen.writes[join(allowed, 'ok.txt')]).toBe('ok');
    expect(seen.looks['/root']).toBe(false);
    expect((await stat(join(allowed, 'ok.txt'))).uid).toBe(DROPPED.uid);
  });

  test('a Python server runs as the unprivileged user', async () => {
    const result = await run(service(['python3', '-c', 'import os; print(os.getuid())'], { drop_privileges: true }));
    expect(result.stdout.trim()).toBe(String(DROPPED.uid));
  });
});

describe('private session directories (§5, §7)', () => {
  test('two sessions with the same id get different 0700 directories, removed on close', async () => {
    const root = await tempDir();
    const first = await createSessionDir(root, 'svc', 'same/../id');
    const second = await createSessionDir(root, 'svc', 'same/../id');
    expect(first).not.toBe(second);
    for (const dir of [first, second]) {
      expect(dir.startsWith(join(root, 'svc', 'same_.._id-'))).toBe(true);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
    }
    expect((await stat(join(root, 'svc'))).mode & 0o777).toBe(0o711);
    await writeFile(join(first, 'left-behind'), 'x');
    await removeSessionDir(first);
    expect(existsSync(first)).toBe(false);
    expect(existsSync(second)).toBe(true);
    await removeSessionDir(first);
  });
});

describe('findSandboxTools', () => {
  test('finds the three wrappers in the system directories (bubblewrap is installed here)', () => {
    expect(tools).toEqual({ prlimit: '/usr/bin/prlimit', bwrap: '/usr/bin/bwrap', setpriv: '/usr/bin/setpriv' });
  });

  test('a directory without them, relative entries and non-executables find nothing', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'bwrap'), '#!/bin/sh\n', { mode: 0o644 });
    expect(await findSandboxTools(`${dir}:usr/bin`)).toEqual({ prlimit: undefined, bwrap: undefined, setpriv: undefined });
  });
});
