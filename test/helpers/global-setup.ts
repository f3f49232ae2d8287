import { readdir, readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { RUN_MARKER_KEY } from './run-marker.js';

/** Processes whose environment carries this run's marker (fixture servers and their children). */
async function markedProcesses(marker: string): Promise<number[]> {
  const needle = `${RUN_MARKER_KEY}=${marker}`;
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const environ = await readFile(`/proc/${pid}/environ`, 'utf8');
      if (environ.split('\0').includes(needle)) pids.push(pid);
    } catch {
      // The process ended while we looked, or is not ours to read.
    }
  }
  return pids;
}

export default function setup(): () => Promise<void> {
  const marker = randomUUID();
  process.env[RUN_MARKER_KEY] = marker;
  return async () => {
    const survivors = await markedProcesses(marker);
    if (survivors.length > 0) {
      throw new Error(`processes started by the tests survived the run: ${survivors.join(', ')}`);
    }
  };
}
