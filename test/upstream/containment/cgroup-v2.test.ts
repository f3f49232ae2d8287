/**
 * The cgroup v2 driver against a fake cgroupfs (a temp directory laid out like a delegated v2
 * subtree): the machines this suite runs on only have v1, so this shows what v2 writes, not that
 * a v2 kernel obeys it.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openCgroups } from '../../../src/upstream/containment/cgroup-detect.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mcp-gw-cgroup2-'));
  await writeFile(join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
  await writeFile(join(root, 'cgroup.subtree_control'), '');
});
afterEach(() => rm(root, { recursive: true, force: true }));

// Fake directories hold the files written into them; cgroupfs would drop them with the group.
const removeDir = (path: string) => rm(path, { recursive: true, force: true });
const read = (...path: string[]) => readFile(join(root, ...path), 'utf8');

describe('cgroup v2 driver on a fake tree (§14)', () => {
  test('enables memory, pids and cpu for its subtree and writes each session\'s limits', async () => {
    const setup = await openCgroups({ instance: 'mcp-gateway-000000000001', fsRoot: root, removeDir, wantsCpu: true });
    const driver = setup.driver!;
    expect({ version: driver.version, hasCpu: driver.hasCpu, killDir: driver.killDir }).toEqual({
      version: 'v2', hasCpu: true, killDir: join(root, 'mcp-gateway-000000000001'),
    });
    expect(await read('cgroup.subtree_control')).toBe('+memory +pids +cpu');
    expect(await read('mcp-gateway-000000000001', 'cgroup.subtree_control')).toBe('+memory +pids +cpu');

    const group = await driver.create('s1', { memoryMb: 128, maxTasks: 160, cpuPercent: 50 });
    const session = ['mcp-gateway-000000000001', 's1'];
    expect(await read(...session, 'memory.max')).toBe(String(128 * 1024 * 1024));
    expect(await read(...session, 'pids.max')).toBe('160');
    expect(await read(...session, 'cpu.max')).toBe('50000 100000');

    // The spawn happens with the gateway in the session's group, and it goes home afterwards.
    const seen = group.spawnInside(() => read(...session, 'cgroup.procs'));
    expect(await seen).toBe(String(process.pid));
    expect(await read('cgroup.procs')).toBe(String(process.pid));
    // The kernel moves a pid out of the group it leaves; the fake tree has to be told.
    await writeFile(join(root, ...session, 'cgroup.procs'), '');

    await writeFile(join(root, ...session, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    expect(group.oomKills()).toBe(1);

    await group.destroy();
    expect(existsSync(join(root, ...session))).toBe(false);
    await driver.close();
    expect(existsSync(join(root, 'mcp-gateway-000000000001'))).toBe(false);
  });

  test('limits left out stay at the kernel default; no cpu controller means no quota', async () => {
    await writeFile(join(root, 'cgroup.controllers'), 'memory pids\n');
    const driver = (await openCgroups({ instance: 'mcp-gateway-000000000002', fsRoot: root, removeDir, wantsCpu: true })).driver!;
    expect(driver.hasCpu).toBe(false);
    await driver.create('s1', { cpuPercent: 50 });
    const session = join(root, 'mcp-gateway-000000000002', 's1');
    expect(['memory.max', 'pids.max', 'cpu.max'].map((file) => existsSync(join(session, file)))).toEqual([false, false, false]);
    await driver.close();
  });

  test('without a service asking for a CPU quota the cpu controller stays off', async () => {
    const driver = (await openCgroups({ instance: 'mcp-gateway-000000000004', fsRoot: root, removeDir })).driver!;
    expect(driver.hasCpu).toBe(false);
    expect(await read('cgroup.subtree_control')).toBe('+memory +pids');
    await driver.close();
  });

  test('a tree without memory and pids is not used, and says so', async () => {
    const setup = await openCgroups({ instance: 'mcp-gateway-000000000003', fsRoot: join(root, 'missing'), removeDir });
    expect(setup.reason).toMatch(/no cgroup v2 tree or v1 memory, pids, freezer hierarchy at/);
  });
});
