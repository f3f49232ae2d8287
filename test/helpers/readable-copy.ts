import { chmod, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { onTestFinished } from 'vitest';

/**
 * A copy of a self-contained fixture script in a directory every user can read. drop_privileges
 * tests run it as nobody, who may not be able to reach the checkout (a clone under a 0700
 * directory, as `mktemp -d` makes). Removed when the test finishes.
 */
export async function readableCopy(script: string): Promise<{ path: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-gw-fixture-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  await chmod(dir, 0o755);
  const path = join(dir, basename(script));
  await copyFile(script, path);
  await chmod(path, 0o644);
  return { path, dir };
}
