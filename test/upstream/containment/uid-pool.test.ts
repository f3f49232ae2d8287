import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { UidPool } from '../../../src/upstream/containment/uid-pool.js';
import { waitFor } from '../../helpers/wait-for.js';

let lockDir: string;
beforeEach(async () => {
  lockDir = join(await mkdtemp(join(tmpdir(), 'mcp-gw-uids-')), 'uids');
});
afterEach(() => rm(join(lockDir, '..'), { recursive: true, force: true }));

describe('per-session uids (§14)', () => {
  test('concurrent allocations from two gateways never hand out one uid twice', async () => {
    const pools = [new UidPool(lockDir, 'mcp-gateway-aaaaaaaaaaaa'), new UidPool(lockDir, 'mcp-gateway-bbbbbbbbbbbb')];
    await Promise.all(pools.map((pool) => pool.open()));
    const leases = await Promise.all(Array.from({ length: 20 }, (_, index) => pools[index % 2]!.acquire([300_000, 300_019])));
    expect(new Set(leases.map((lease) => lease.uid)).size).toBe(20);
    await expect(pools[0]!.acquire([300_000, 300_019])).rejects.toThrow(/every uid of sandbox.uid_range 300000-300019 is taken/);
    const owner = await readFile(join(lockDir, String(leases[1]!.uid)), 'utf8');
    expect(owner).toBe(`${process.pid} mcp-gateway-bbbbbbbbbbbb\n`);
    await Promise.all(leases.map((lease) => lease.release()));
    expect(await readdir(lockDir)).toEqual([]);
  });

  test('a lock of another owner, even a dead one, is skipped and left alone', async () => {
    const pool = new UidPool(lockDir, 'mcp-gateway-cccccccccccc');
    await pool.open();
    await writeFile(join(lockDir, '300100'), '999999999 mcp-gateway-dddddddddddd\n');
    const lease = await pool.acquire([300_100, 300_101]);
    expect(lease.uid).toBe(300_101);
    expect(existsSync(join(lockDir, '300100'))).toBe(true);
    await lease.release();
  });

  test.runIf(process.getuid?.() === 0)('release kills whatever still runs under the uid, wherever it went', async () => {
    const pool = new UidPool(lockDir, 'mcp-gateway-eeeeeeeeeeee');
    await pool.open();
    const lease = await pool.acquire([300_200, 300_299]);
    const child = spawn('/usr/bin/setpriv', [`--reuid=${lease.uid}`, `--regid=${lease.gid}`, '--clear-groups', '--', '/bin/sleep', '60'], { detached: true, stdio: 'ignore' });
    await once(child, 'spawn');
    await waitFor(async () => /^Uid:\s+300[0-9]{3}/m.test(await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '')), { what: 'uid dropped' });
    const exited = once(child, 'exit');
    await lease.release();
    expect(await exited).toEqual([null, 'SIGKILL']);
    expect(existsSync(join(lockDir, String(lease.uid)))).toBe(false);
  });
});
