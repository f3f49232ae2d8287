/**
 * SPEC §14: nothing survives a SIGKILLed gateway, and a restart sweeps only its own dead
 * instances. Real gateway processes (bin/mcp-gateway.js, the compiled build) sharing one
 * sandbox_dir, so the sweep has a live neighbour it must leave alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FIXTURE_SERVER, TOKEN } from '../../helpers/gateway.js';
import { processesWith } from '../../helpers/processes.js';
import { RUN_MARKER_KEY, runMarker } from '../../helpers/run-marker.js';
import { waitFor } from '../../helpers/wait-for.js';

const BIN = fileURLToPath(new URL('../../../bin/mcp-gateway.js', import.meta.url));
const UID_LOCKS = '/run/mcp-gateway/uids';
const MARKER = 'MCP_TEST_GATEWAY';

interface RunningGateway {
  child: ChildProcess;
  url: string;
  /** Every process started for this gateway's sessions (its service env carries the id). */
  processes(): Promise<number[]>;
  call(session: string, tool: string): Promise<{ status: number; body: any }>;
}

let dir: string;
let sandboxDir: string;
let server: string;
const started: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcp-gw-sigkill-'));
  await chmod(dir, 0o755);
  sandboxDir = join(dir, 'sandbox');
  server = join(dir, 'fixture-server.mjs');
  await copyFile(FIXTURE_SERVER, server);
  await chmod(server, 0o644);
});
afterAll(async () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

async function startGateway(id: string): Promise<RunningGateway> {
  const config = join(dir, `${id}.json`);
  await writeFile(config, JSON.stringify({
    server: { host: '127.0.0.1', port: 0, auth_token: TOKEN },
    session: { sandbox_dir: sandboxDir },
    rate_limiting: { enabled: false },
    services: { fx: { command: [process.execPath, server], warm_pool: 0, env: { [RUN_MARKER_KEY]: runMarker(), [MARKER]: id } } },
  }), { mode: 0o600 });
  const child = spawn(process.execPath, [BIN, '-c', config], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
  started.push(child);
  let url = '';
  for await (const line of createInterface({ input: child.stdout! })) {
    const entry = JSON.parse(line) as { msg: string; url?: string };
    if (entry.msg === 'listening') url = entry.url!;
    if (entry.msg === 'services') break;
  }
  child.stdout!.resume();
  return {
    child,
    url,
    processes: () => processesWith(id, MARKER),
    async call(session, tool) {
      const response = await fetch(`${url}/services/fx/call`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tool, session_id: session }),
      });
      return { status: response.status, body: await response.json() };
    },
  };
}

/** This gateway's instance: its name and record (see containment/instance.ts). */
async function instanceOf(pid: number): Promise<{ name: string; cgroups: { dirs: string[] } }> {
  for (const name of await readdir(sandboxDir)) {
    const record = await readFile(join(sandboxDir, name, 'instance.json'), 'utf8').catch(() => undefined);
    if (record !== undefined && JSON.parse(record).pid === pid) return { name, ...JSON.parse(record) };
  }
  throw new Error(`no instance record for pid ${pid}`);
}

async function uidLocksOf(instance: string): Promise<string[]> {
  const locks = await readdir(UID_LOCKS).catch(() => [] as string[]);
  const owners = await Promise.all(locks.map((uid) => readFile(join(UID_LOCKS, uid), 'utf8').catch(() => '')));
  return locks.filter((_, index) => owners[index]!.trim().endsWith(` ${instance}`));
}

/** The reaper of a gateway: its only child that is not a session's server. */
async function reaperOf(pid: number): Promise<number> {
  const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).trim().split(' ').map(Number);
  for (const child of children) {
    const cmdline = await readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('reaper')) return child;
  }
  throw new Error(`gateway ${pid} has no reaper`);
}

const goneWithin5s = (what: string, gateway: RunningGateway): Promise<void> =>
  waitFor(async () => (await gateway.processes()).length === 0, { deadlineMs: 5000, what });

describe.runIf(process.getuid?.() === 0)('a SIGKILLed gateway (§14)', () => {
  test('kill -9: every server and setsid grandchild is gone within 5 s, a restart sweeps what was left, a neighbour is untouched', async () => {
    const neighbour = await startGateway(`neighbour-${randomUUID()}`);
    expect((await neighbour.call('n', 'spawn_detached')).status).toBe(200);
    const neighbourInstance = await instanceOf(neighbour.child.pid!);

    // The reaper sees its gateway die and sweeps at once.
    const first = await startGateway(`first-${randomUUID()}`);
    for (const session of ['a', 'b']) expect((await first.call(session, 'spawn_detached')).status).toBe(200);
    expect((await first.processes()).length).toBe(4);
    const firstInstance = await instanceOf(first.child.pid!);
    first.child.kill('SIGKILL');
    await goneWithin5s('servers and grandchildren of the SIGKILLed gateway gone', first);
    await waitFor(() => !existsSync(join(sandboxDir, firstInstance.name)), { what: 'instance directory swept by the reaper' });
    expect(await uidLocksOf(firstInstance.name)).toEqual([]);
    for (const cgroup of firstInstance.cgroups.dirs) expect(existsSync(cgroup)).toBe(false);

    // Reaper and gateway killed together: the parent-death signal still ends the servers; the
    // restart sweeps the grandchild, the cgroups, the uids and the directories.
    const second = await startGateway(`second-${randomUUID()}`);
    const grandchild = Number((await second.call('c', 'spawn_detached')).body.result);
    const secondInstance = await instanceOf(second.child.pid!);
    const reaper = await reaperOf(second.child.pid!);
    process.kill(reaper, 'SIGKILL');
    second.child.kill('SIGKILL');
    await waitFor(async () => (await second.processes()).every((pid) => pid === grandchild), { deadlineMs: 5000, what: 'servers ended by their parent-death signal' });
    expect(existsSync(join(sandboxDir, secondInstance.name))).toBe(true);

    const restarted = await startGateway(`restarted-${randomUUID()}`);
    await goneWithin5s('the dead run\'s grandchild swept at restart', second);
    expect(existsSync(join(sandboxDir, secondInstance.name))).toBe(false);
    expect(await uidLocksOf(secondInstance.name)).toEqual([]);
    for (const cgroup of secondInstance.cgroups.dirs) expect(existsSync(cgroup)).toBe(false);

    // The neighbour's sessions, directory, uids and cgroups were left alone.
    expect((await neighbour.processes()).length).toBe(2);
    expect((await neighbour.call('n', 'echo')).body).toMatchObject({ session_created: false });
    expect(existsSync(join(sandboxDir, neighbourInstance.name))).toBe(true);
    expect((await uidLocksOf(neighbourInstance.name)).length).toBe(1);
    for (const cgroup of neighbourInstance.cgroups.dirs) expect(existsSync(cgroup)).toBe(true);

    // SIGTERM: the real shutdown path ends a setsid grandchild too.
    for (const gateway of [neighbour, restarted]) {
      const exited = new Promise((resolve) => gateway.child.once('exit', resolve));
      gateway.child.kill('SIGTERM');
      await exited;
    }
    await goneWithin5s('the neighbour\'s grandchild gone after SIGTERM', neighbour);
    expect(existsSync(join(sandboxDir, neighbourInstance.name))).toBe(false);
  }, 120_000);
});
