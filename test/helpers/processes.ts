import { readdir, readFile } from 'node:fs/promises';
import { RUN_MARKER_KEY, runMarker } from './run-marker.js';

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie has exited; it only waits to be reaped by its parent.
  return true;
}

/** Pids of live processes whose environment holds `key=value` (default: this run's marker). */
export async function processesWith(value: string = runMarker(), key = RUN_MARKER_KEY): Promise<number[]> {
  const needle = `${key}=${value}`;
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const [environ, stat] = await Promise.all([readFile(`/proc/${pid}/environ`, 'utf8'), readFile(`/proc/${pid}/stat`, 'utf8')]);
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (environ.split('\0').includes(needle)) pids.push(pid);
    } catch {
      // Gone while we looked.
    }
  }
  return pids;
}
