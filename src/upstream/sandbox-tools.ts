/** Finds the sandbox's wrapper programs once at startup (SPEC §7); sandbox.ts decides what they mean. */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SandboxTools } from './sandbox.js';

/**
 * The system directories, not the gateway's PATH: the wrappers run with the gateway's privileges
 * (root, before setpriv drops them), so a PATH entry someone else can write must not supply them.
 */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function findExecutable(name: string, dirs: string[]): Promise<string | undefined> {
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

export async function findSandboxTools(searchPath: string = SYSTEM_PATH): Promise<SandboxTools> {
  // Relative entries would resolve against whatever the working directory happens to be.
  const dirs = searchPath.split(':').filter((dir) => dir.startsWith('/'));
  const [prlimit, bwrap, setpriv] = await Promise.all(
    ['prlimit', 'bwrap', 'setpriv'].map((name) => findExecutable(name, dirs)),
  );
  return { prlimit, bwrap, setpriv };
}
