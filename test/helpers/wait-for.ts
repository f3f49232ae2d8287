import { setTimeout as delay } from 'node:timers/promises';

/**
 * Polls a fact that lives outside this process (is pid N gone?) until it holds. The only polling
 * in the suite: everything inside the process is awaited as an event.
 */
export async function waitFor(predicate: () => boolean | Promise<boolean>, { deadlineMs = 10_000, what = 'condition' } = {}): Promise<void> {
  const start = Date.now();
  let pause = 10;
  while (!(await predicate())) {
    if (Date.now() - start > deadlineMs) throw new Error(`timed out waiting for ${what}`);
    await delay(pause);
    pause = Math.min(pause * 2, 100);
  }
}
