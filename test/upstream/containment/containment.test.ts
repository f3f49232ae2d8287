/**
 * SPEC §14 with real processes: a root gateway on the default config runs each session under its
 * own uid inside its own cgroup. Runs as root (the project's machines); fixtures are copied where
 * any uid can read them.
 */
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { FIXTURE_SERVER, fixtureService, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { readableCopy } from '../../helpers/readable-copy.js';
import { waitFor } from '../../helpers/wait-for.js';

const PYTHON_SERVER = fileURLToPath(new URL('../../fixtures/servers/fixture-server.py', import.meta.url));
const EVERYTHING = fileURLToPath(new URL('../../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url));

/** Alive and not a zombie: a killed process may linger as a zombie until its parent reaps it. */
async function isAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

const goneWithin5s = (pid: number): Promise<void> =>
  waitFor(async () => !(await isAlive(pid)), { deadlineMs: 5000, what: `process ${pid} gone` });

async function gatewayFor(...args: Parameters<typeof startTestGateway>): Promise<TestGateway> {
  const gw = await startTestGateway(...args);
  onTestFinished(() => gw.close());
  return gw;
}

/** The default sandbox (per-session uids on), which the test helper otherwise turns off. */
const DEFAULT_SANDBOX = { session_uids: true };

let server: string;
let gw: TestGateway;
let configFile: string;

beforeAll(async () => {
  // Self-contained scripts, in a directory any uid can read (the checkout may not be).
  server = (await readableCopyOutsideTest(FIXTURE_SERVER)).path;
  gw = await startTestGateway(
    {
      services: {
        fx: { ...fixtureService(), command: [process.execPath, server], sandbox: DEFAULT_SANDBOX },
        small: { ...fixtureService(), command: [process.execPath, server], sandbox: { ...DEFAULT_SANDBOX, max_memory_mb: 128, max_processes: 4 } },
      },
    },
    { skipValidation: true },
  );
  const dir = await mkdtemp(join(tmpdir(), 'mcp-gw-config-'));
  await chmod(dir, 0o755);
  configFile = join(dir, 'config.json');
  await writeFile(configFile, '{"server": {"auth_password": "hunter2"}}', { mode: 0o600 });
});
afterAll(async () => {
  await gw?.close();
  if (configFile) await rm(join(configFile, '..'), { recursive: true, force: true });
});

/** readableCopy() registers its cleanup per test; a file-wide copy lives until the worker ends. */
async function readableCopyOutsideTest(script: string): Promise<{ path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-gw-fixture-'));
  await chmod(dir, 0o755);
  const path = join(dir, 'server.mjs');
  await writeFile(path, await readFile(script));
  await chmod(path, 0o644);
  afterAll(() => rm(dir, { recursive: true, force: true }));
  return { path };
}

async function tool(service: string, session: string, name: string, args: Record<string, unknown> = {}) {
  const response = await gw.call(service, { tool: name, session_id: session, arguments: args });
  return response;
}

async function whoami(session: string): Promise<{ uid: number; home: string }> {
  const response = await tool('fx', session, 'env');
  expect(response.status).toBe(200);
  const view = JSON.parse(response.body.result) as { uid: number; env: Record<string, string> };
  return { uid: view.uid, home: view.env['HOME']! };
}

describe.runIf(process.getuid?.() === 0)('containment as root, default config (§14)', () => {
  test('the start-up line names the cgroup and the per-session uid', async () => {
    const other = await gatewayFor({ services: { fx: { command: [process.execPath, server], sandbox: DEFAULT_SANDBOX } } });
    const line = other.logs.find((entry) => entry.includes('"msg":"service ready"'))!;
    expect(JSON.parse(line).containment).toMatch(/^cgroup v[12] per session memory=512MiB tasks=160, killed as a whole, own uid per session from 200000-265535$/);
    expect(JSON.parse(line).sandbox).toBe('sandbox: restricted env, limits cpu=300s fsize=10MiB nofile=1024 nproc=160, memory 512MiB by cgroup, dies with the gateway');
  });

  test('session B can neither read nor write session A\'s files; /etc/shadow and a 0600 config are unreadable', async () => {
    const a = await whoami('iso-a');
    const b = await whoami('iso-b');
    for (const { uid } of [a, b]) expect(uid).toBeGreaterThanOrEqual(200_000);
    expect(a.uid).not.toBe(b.uid);
    const home = await stat(a.home);
    expect({ uid: home.uid, mode: home.mode & 0o777 }).toEqual({ uid: a.uid, mode: 0o700 });

    expect((await tool('fx', 'iso-a', 'write_file', { path: join(a.home, 'secret.txt'), bytes: 5 })).body.is_error).toBe(false);
    const readByB = await tool('fx', 'iso-b', 'read_file', { path: join(a.home, 'secret.txt') });
    expect(readByB.body).toMatchObject({ is_error: true, result: 'EACCES' });
    const writtenByB = await tool('fx', 'iso-b', 'write_file', { path: join(a.home, 'planted.txt'), bytes: 5 });
    expect(writtenByB.body.is_error).toBe(true);
    expect(writtenByB.body.result).toMatch(/EACCES/);
    expect((await tool('fx', 'iso-b', 'read_file', { path: '/etc/shadow' })).body).toMatchObject({ is_error: true, result: 'EACCES' });
    expect((await tool('fx', 'iso-b', 'read_file', { path: configFile })).body).toMatchObject({ is_error: true, result: 'EACCES' });
  });

  test('a Python server and server-everything work unchanged under their own uids', async () => {
    const python = (await readableCopy(PYTHON_SERVER)).path;
    const other = await gatewayFor({
      services: {
        py: { command: ['python3', python], sandbox: DEFAULT_SANDBOX },
        everything: { command: [process.execPath, EVERYTHING, 'stdio'], sandbox: DEFAULT_SANDBOX },
      },
    }, { skipValidation: true });
    const py = await other.call('py', { tool: 'env', session_id: 'p' });
    expect(py.status).toBe(200);
    expect(JSON.parse(py.body.result).uid).toBeGreaterThanOrEqual(200_000);
    const everything = await other.call('everything', { tool: 'echo', session_id: 'e', arguments: { message: 'hi' } });
    expect(everything.body).toMatchObject({ result: 'Echo: hi' });
  });

  test('a server in a directory closed to other users still starts: its sessions keep the gateway\'s uid, and the start-up line says why', async () => {
    const closed = await mkdtemp(join(tmpdir(), 'mcp-gw-closed-'));
    onTestFinished(() => rm(closed, { recursive: true, force: true }));
    await chmod(closed, 0o700);
    const script = join(closed, 'server.mjs');
    await writeFile(script, await readFile(FIXTURE_SERVER));
    const other = await gatewayFor({ services: { home: { command: [process.execPath, script], sandbox: DEFAULT_SANDBOX } } });
    const line = JSON.parse(other.logs.find((entry) => entry.includes('"msg":"service ready"'))!);
    expect(line.containment).toContain(`no per-session uid: ${script} (${closed} is closed to other users)`);
    const response = await other.call('home', { tool: 'env', session_id: 'closed' });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body.result).uid).toBe(0);
  });

  test('a setsid grandchild is gone within 5 s of DELETE; the uid is freed with it', async () => {
    const pid = Number((await tool('fx', 'setsid-del', 'spawn_detached')).body.result);
    expect(await isAlive(pid)).toBe(true);
    expect((await gw.request('DELETE', '/sessions/setsid-del')).status).toBe(200);
    await goneWithin5s(pid);
  });

  test('a setsid grandchild holding 400 MiB in a 128 MiB session is stopped within 5 s; the next call starts fresh, others are untouched', async () => {
    expect((await tool('small', 'bystander', 'echo', { text: 'x' })).status).toBe(200);
    const pid = Number((await tool('small', 'hog', 'spawn_detached', { mb: 400 })).body.result);
    await goneWithin5s(pid);
    await waitFor(async () => !('hog' in (await gw.request('GET', '/sessions')).body), { deadlineMs: 5000, what: 'hog session closed' });
    const next = await tool('small', 'hog', 'echo', { text: 'again' });
    expect(next.body).toMatchObject({ result: 'again', session_created: true });
    expect((await tool('small', 'bystander', 'echo', { text: 'still' })).body).toMatchObject({ result: 'still', session_created: false });
  });

  test('a server over its limit answers 502 naming the limit', async () => {
    const waiting = tool('small', 'over', 'slow', { ms: 60_000 });
    await tool('small', 'over', 'alloc', { mb: 200 });
    const response = await waiting;
    expect(response.status).toBe(502);
    expect(response.body.error).toMatch(/^MCP server for 'small' exited \(memory limit of 128 MiB exceeded/);
  });

  test('max_processes caps a fork bomb, and another session at the same time still starts children', async () => {
    const bomb = JSON.parse((await tool('small', 'bomb', 'spawn_many', { count: 500 })).body.result) as { started: number; failure: string };
    // pids.max = 4 × 16 tasks, the server's own threads included.
    expect(bomb.started).toBeLessThan(64);
    expect(bomb.failure).toBe('EAGAIN');
    const other = JSON.parse((await tool('small', 'calm', 'spawn_many', { count: 3 })).body.result);
    expect(other).toEqual({ started: 3, failure: '' });
    await gw.request('DELETE', '/sessions/bomb');
  });
});

describe.runIf(process.getuid?.() === 0)('containment at the edges (§14)', () => {
  test('a server allocating 2 GiB while answering initialize is stopped at its limit', async () => {
    const other = await gatewayFor({
      services: {
        greedy: fixtureService(['alloc-at-init'], { env: { FIXTURE_INIT_ALLOC_MB: '2048' }, sandbox: { max_memory_mb: 128 } }),
      },
    }, { skipValidation: true });
    const response = await other.call('greedy', { tool: 'echo', session_id: 'g', arguments: { text: 'x' } });
    expect(response.status).toBe(502);
    expect(response.body.error).toMatch(/exited during initialize \(memory limit of 128 MiB exceeded/);
  });

  test('idle expiry ends a setsid grandchild within 5 s', async () => {
    const other = await gatewayFor({
      services: { fx: fixtureService() },
      session: { default_timeout: 1, cleanup_interval: 0.5 },
    }, { skipValidation: true });
    const pid = Number((await other.call('fx', { tool: 'spawn_detached', session_id: 'idle' })).body.result);
    await waitFor(async () => !('idle' in (await other.request('GET', '/sessions')).body), { what: 'idle session expired' });
    await goneWithin5s(pid);
  });

  test('closing the gateway (what SIGTERM does) ends a setsid grandchild within 5 s', async () => {
    const other = await startTestGateway({ services: { fx: fixtureService() } }, { skipValidation: true });
    const pid = Number((await other.call('fx', { tool: 'spawn_detached', session_id: 'bye' })).body.result);
    await other.close();
    await goneWithin5s(pid);
  });

  test('max_cpu_percent becomes the session group\'s CPU quota', async () => {
    const other = await gatewayFor({ services: { fx: fixtureService([], { sandbox: { max_cpu_percent: 20 } }) } }, { skipValidation: true });
    expect((await other.call('fx', { tool: 'echo', session_id: 'cpu', arguments: { text: 'x' } })).status).toBe(200);
    const [instance] = (await readdir(other.config.session.sandbox_dir)).filter((name) => name.startsWith('mcp-gateway-'));
    const record = JSON.parse(await readFile(join(other.config.session.sandbox_dir, instance!, 'instance.json'), 'utf8')) as { cgroups: { dirs: string[] } };
    const cpu = record.cgroups.dirs.find((dir) => dir.includes('/cpu')) ?? record.cgroups.dirs[0]!;
    const sessions = (await readdir(cpu, { withFileTypes: true })).filter((entry) => entry.isDirectory());
    expect(sessions.length).toBeGreaterThan(0);
    // v1 here; a v2 machine spells it cpu.max.
    const group = join(cpu, sessions[0]!.name);
    const quota = await readFile(join(group, 'cpu.cfs_quota_us'), 'utf8').catch(() => readFile(join(group, 'cpu.max'), 'utf8'));
    expect(quota.trim()).toMatch(/^20000( 100000)?$/);
  });

  test('cgroups "off": today\'s mechanisms, and the start-up line says so', async () => {
    const other = await gatewayFor({ services: { fx: fixtureService([], { sandbox: { cgroups: 'off' } }) } });
    const line = JSON.parse(other.logs.find((entry) => entry.includes('"msg":"service ready"'))!);
    expect(line.containment).toMatch(/^no cgroup \(sandbox.cgroups "off"\)/);
    expect((await other.call('fx', { tool: 'echo', session_id: 'o', arguments: { text: 'fine' } })).body.result).toBe('fine');
  });

  test('where groups cannot be created the gateway works as before and says why; "required" refuses to start', async () => {
    const other = await gatewayFor(
      { services: { fx: fixtureService(), strict: fixtureService([], { sandbox: { cgroups: 'required' } }) } },
      { cgroupFsRoot: '/nonexistent/cgroup' },
    );
    const lines = other.logs.filter((entry) => entry.includes('"msg":"service ready"')).map((entry) => JSON.parse(entry));
    expect(lines.find((line) => line.service === 'fx').containment).toMatch(/^no cgroup \(no cgroup v2 tree or v1 memory, pids, freezer hierarchy at \/nonexistent\/cgroup\)/);
    expect((await other.call('fx', { tool: 'echo', session_id: 'n', arguments: { text: 'fine' } })).body.result).toBe('fine');
    const refused = await other.call('strict', { tool: 'echo', session_id: 'n', arguments: { text: 'x' } });
    expect(refused.status).toBeGreaterThanOrEqual(500);
    expect(refused.body.error).toMatch(/sandbox.cgroups "required"/);
  });
});
