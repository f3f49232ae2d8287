/**
 * The configuration used when the gateway starts without `-c` and there is no ./config.json
 * (SPEC §2): the bundled to-do demo, bound to loopback so a first run exposes nothing.
 */
import { fileURLToPath } from 'node:url';
import { parseConfig } from './load.js';
import type { Env } from './load.js';
import type { Config } from './types.js';

// Resolved from this file, not the working directory, so it works wherever the gateway is started.
const TODO_SERVER = fileURLToPath(new URL('../../demo/todo-server.js', import.meta.url));

export function embeddedDefaultConfig(env: Env): Config {
  const raw = {
    server: {
      host: '${MCP_HOST|127.0.0.1}',
      port: '${MCP_PORT|8100}',
      auth_user: '${MCP_AUTH_USER|admin}',
      auth_password: '${MCP_AUTH_PASSWORD|changeme}',
    },
    services: {
      todo: {
        // The running Node binary: `node` may not be on PATH (nvm, systemd units).
        command: [process.execPath, TODO_SERVER],
        description: 'Demo to-do list (bundled)',
      },
    },
  };
  return parseConfig(raw, { env, source: 'embedded default' });
}
