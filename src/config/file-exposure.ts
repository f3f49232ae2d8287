/**
 * SPEC §14: a config file with credentials that other users can read hands them to every server
 * (each session's server runs as another user). The gateway still starts, but says so.
 */
import { stat } from 'node:fs/promises';
import type { Config } from './types.js';

/** A warning when `path` holds credentials and group or others may read it; undefined otherwise. */
export async function exposedCredentialsWarning(path: string, config: Config): Promise<string | undefined> {
  if (config.server.auth_password === '' && config.server.auth_token === '') return undefined;
  const mode = (await stat(path).catch(() => undefined))?.mode;
  if (mode === undefined || (mode & 0o044) === 0) return undefined;
  const octal = (mode & 0o777).toString(8).padStart(3, '0');
  return `${path} holds credentials and other users can read it (mode ${octal}), MCP servers included: chmod 600 it`;
}
