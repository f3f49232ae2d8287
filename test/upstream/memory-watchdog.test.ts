import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, onTestFinished, test } from 'vitest';
import { createMemoryWatchdog, type WatchMemory } from '../../src/upstream/memory-watchdog.js';
import { RUN_MARKER_KEY, runMarker } from '../helpers/run-marker.js';

const ALLOC = resolve('test/fixtures/alloc.mjs');

/** Starts alloc.mjs in its own process group, as process.ts starts a server. */
function startAlloc(args: string[]) {
  const child = spawn(process.execPath, [ALLOC, ...args], {
    detached: true,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', [RUN_MARKER_KEY]: runMarker() },
  });
  onTestFinished(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    process.kill(-child.pid!, 'SIGKILL');
    await exited;
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  /** The next {"rssMb"} line the child prints: it has touched everything asked so far. */
  const nextReport = async (): Promise<{ rssMb: number }> => JSON.parse((await lines.next()).value as string);
  return { pgid: child.pid!, child, nextReport };
}

function exceeded() {
  let resolveExceeded!: (rssMb: number) => void;
  const promise = new Promise<number>((resolvePromise) => (resolveExceeded = resolvePromise));
  const calls: number[] = [];
  const onExceeded = (rssMb: number): void => {
    calls.push(rssMb);
    resolveExceeded(rssMb);
  };
  return { promise, calls, onExceeded };
}

/**
 * Resolves after a scan that started after this call: a watch with limit 0 fires at the next
 * scan, and the scan after that one began once the first had fired. Every watch of the group is
 * judged in the same scans, so this shows what the others were judged on — no sleeping.
 */
async function scanAfterNow(watch: WatchMemory, pgid: number): Promise<void> {
  for (let i = 0; i < 2; i += 1) await new Promise<number>((onExceeded) => watch({ pgid, limitMb: 0, onExceeded }));
}

describe('memory watchdog (§7 max_memory_mb)', () => {
  test('fires once when the group holds more resident memory than the limit', async () => {
    const watch = createMemoryWatchdog({ intervalMs: 20 });
    const alloc = startAlloc(['200']);
    const { rssMb: childRssMb } = await alloc.nextReport();
    const over = exceeded();
    onTestFinished(watch({ pgid: alloc.pgid, limitMb: 100, onExceeded: over.onExceeded }));
    const rssMb = await over.promise;
    expect(rssMb).toBeGreaterThan(100);
    expect(Math.abs(rssMb - childRssMb)).toBeLessThan(50);
    await scanAfterNow(watch, alloc.pgid);
    expect(over.calls).toHaveLength(1);
  });

  test('does not fire below the limit, and fires once the group grows past it', async () => {
    const watch = createMemoryWatchdog({ intervalMs: 10 });
    const alloc = startAlloc(['20']);
    const over = exceeded();
    onTestFinished(watch({ pgid: alloc.pgid, limitMb: 250, onExceeded: over.onExceeded }));
    const { rssMb } = await alloc.nextReport();
    expect(rssMb).toBeLessThan(250);
    await scanAfterNow(watch, alloc.pgid);
    expect(over.calls).toEqual([]);
    alloc.child.stdin.write('grow 300\n');
    await alloc.nextReport();
    expect(await over.promise).toBeGreaterThan(250);
  });

  test('sums every process of the group: two processes each under the limit exceed it together', async () => {
    const watch = createMemoryWatchdog({ intervalMs: 20 });
    const alloc = startAlloc(['100', '--child', '100']);
    const { rssMb } = await alloc.nextReport();
    expect(rssMb).toBeLessThan(220);
    const over = exceeded();
    onTestFinished(watch({ pgid: alloc.pgid, limitMb: 220, onExceeded: over.onExceeded }));
    expect(await over.promise).toBeGreaterThan(220);
  });

  test('a stopped watch never fires, while one over the same group does', async () => {
    const watch = createMemoryWatchdog({ intervalMs: 20 });
    const alloc = startAlloc(['150']);
    await alloc.nextReport();
    const stopped = exceeded();
    const live = exceeded();
    const stop = watch({ pgid: alloc.pgid, limitMb: 100, onExceeded: stopped.onExceeded });
    onTestFinished(watch({ pgid: alloc.pgid, limitMb: 100, onExceeded: live.onExceeded }));
    stop();
    await live.promise;
    expect(stopped.calls).toEqual([]);
  });
});
