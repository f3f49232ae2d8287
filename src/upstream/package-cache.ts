/**
 * The gateway-owned cache of package-runner servers (`npx -y`, `uvx`, `pip`). Each session's
 * server gets a fresh, empty HOME, so without a shared cache every start would download its
 * package again; with it the first start (the start-up check) fills the cache and later sessions
 * start from it. Servers that run under a dropped uid get a cache of their own, owned by that uid.
 */
import { chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { UnixUser } from './sandbox.js';

/** The variables each package runner reads its cache location from, and the sub-directory each gets. */
const CACHE_VARIABLES = { npm_config_cache: 'npm', UV_CACHE_DIR: 'uv', PIP_CACHE_DIR: 'pip' } as const;

/**
 * Once a package is cached, npx takes it from there instead of asking the registry for newer
 * metadata on every start (a round trip per session, and a failed start when the registry is
 * unreachable); the update check is skipped for the same reason. Pin versions (`pkg@1.2.3`).
 */
const NPM_SETTINGS = { npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' };

/** The environment entries that point a server's package runners at `dir`. */
export function packageCacheEnv(dir: string): Record<string, string> {
  return { ...Object.fromEntries(Object.entries(CACHE_VARIABLES).map(([name, sub]) => [name, join(dir, sub)])), ...NPM_SETTINGS };
}

/** Resolves the cache directory for a server owner, creating it (mode 0700, owned by `owner`) once. */
export function createPackageCache(root: string): (owner?: UnixUser) => Promise<string> {
  const ready = new Map<string, Promise<string>>();
  return (owner) => {
    const dir = owner === undefined ? join(root, 'gateway') : join(root, `uid-${owner.uid}`);
    let pending = ready.get(dir);
    if (!pending) {
      pending = (async () => {
        await mkdir(root, { recursive: true, mode: 0o711 });
        await mkdir(dir, { recursive: true, mode: 0o700 });
        if (owner !== undefined) await chown(dir, owner.uid, owner.gid);
        return dir;
      })();
      // A failure (a full disk, say) is tried again by the next start rather than remembered.
      pending.catch(() => ready.delete(dir));
      ready.set(dir, pending);
    }
    return pending;
  };
}
