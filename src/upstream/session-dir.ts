/**
 * Each session's private directory (SPEC §5, §7): HOME/TMPDIR of its server, never shared with
 * another session (the reference shared one per service and deleted it on any close, §11).
 */
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { UnixUser } from './sandbox.js';

/** Keeps a client-chosen session id to one harmless path component. */
const safeName = (value: string): string => value.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64);

/**
 * Creates `<root>/<service>/<id>-<random>`, mode 0700. The random suffix keeps two sessions with
 * the same id (one closing while the next starts) apart. `owner`: the uid the server runs as after
 * a privilege drop (serverOwner()), which must be able to write its own directory.
 */
export async function createSessionDir(root: string, service: string, sessionId: string, owner?: UnixUser): Promise<string> {
  const serviceDir = join(resolve(root), safeName(service));
  // 0711: a dropped uid can reach its own directory but cannot list its neighbours'.
  await mkdir(serviceDir, { recursive: true, mode: 0o711 });
  const dir = await mkdtemp(join(serviceDir, `${safeName(sessionId)}-`));
  if (owner !== undefined) {
    try {
      await chown(dir, owner.uid, owner.gid);
    } catch (error) {
      await removeSessionDir(dir);
      throw error;
    }
  }
  return dir;
}

/** Removes a session's directory and everything its server left in it; a missing one is fine. */
export async function removeSessionDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
