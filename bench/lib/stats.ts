/** Latency summaries for the gateway bench. Samples are milliseconds from performance.now(). */
import { performance } from 'node:perf_hooks';

export interface Latency {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

/** Nearest-rank percentiles: every reported value is one that was actually measured. */
export function summarize(samplesMs: readonly number[]): Latency {
  if (samplesMs.length === 0) throw new Error('no samples');
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
  const sum = sorted.reduce((total, value) => total + value, 0);
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), mean: sum / sorted.length, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** Runs `run` `count` times one after another and returns each round trip in ms. */
export async function timeEach(count: number, run: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await run(i);
    samples[i] = performance.now() - start;
  }
  return samples;
}
