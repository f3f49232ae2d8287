/**
 * SPEC §15: a config may carry `mcpServers` in the shape MCP clients (Claude Desktop, VS Code,
 * Cursor) write, so a client's config can be pasted as it is. Each entry becomes a `services`
 * entry before validation, and schema errors still name the `mcpServers` key the operator wrote.
 */
import { isPlainObject } from '../json.js';
import { ConfigError } from './errors.js';

type OnWarning = (message: string, path: string) => void;

const SERVICE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Keys of a client entry the gateway maps; anything else is reported as ignored. */
const KNOWN_KEYS = new Set(['command', 'args', 'env', 'cwd', 'type', 'url', 'headers', 'disabled', 'description']);

/** Moves `mcpServers` entries into `services`; returns which service came from which entry. */
export function mergeMcpServers(tree: Record<string, unknown>, source: string, warn: OnWarning): Map<string, string> {
  const origins = new Map<string, string>();
  if (!Object.hasOwn(tree, 'mcpServers')) return origins;
  const servers = tree['mcpServers'];
  delete tree['mcpServers'];
  if (!isPlainObject(servers)) throw new ConfigError(source, 'expected an object', 'mcpServers');
  if (!Object.hasOwn(tree, 'services')) tree['services'] = {};
  const services = tree['services'];
  if (!isPlainObject(services)) return origins;
  for (const [name, entry] of Object.entries(servers)) {
    const path = `mcpServers.${name}`;
    if (!SERVICE_NAME.test(name)) {
      throw new ConfigError(source, `expected a service name of 1-64 characters from A-Z, a-z, 0-9, "_" and "-", got ${JSON.stringify(name)}`, path);
    }
    if (Object.hasOwn(services, name)) throw new ConfigError(source, `"${name}" is also defined in services`, path);
    if (!isPlainObject(entry)) throw new ConfigError(source, 'expected an object', path);
    for (const key of Object.keys(entry)) if (!KNOWN_KEYS.has(key)) warn('unknown config key ignored', `${path}.${key}`);
    services[name] = toService(entry, source, path);
    origins.set(`services.${name}`, path);
  }
  return origins;
}

function toService(entry: Record<string, unknown>, source: string, path: string): Record<string, unknown> {
  const service: Record<string, unknown> = {};
  if (entry['description'] !== undefined) service['description'] = entry['description'];
  if (entry['disabled'] !== undefined) service['enabled'] = entry['disabled'] === true || entry['disabled'] === 'true' ? false : true;
  if (entry['env'] !== undefined) service['env'] = entry['env'];
  const type = entry['type'];
  if (entry['url'] !== undefined || type === 'http' || type === 'sse' || type === 'streamable-http') {
    service['url'] = entry['url'];
    if (entry['headers'] !== undefined) service['headers'] = entry['headers'];
    service['transport'] = type === 'sse' ? 'sse' : type === undefined ? 'auto' : 'streamable-http';
    return service;
  }
  if (type !== undefined && type !== 'stdio') {
    throw new ConfigError(source, `expected "stdio", "http" or "sse", got ${JSON.stringify(type)}`, `${path}.type`);
  }
  const { command, args = [] } = entry;
  if (typeof command !== 'string' || command.trim() === '') throw new ConfigError(source, 'expected the program to run, as a string', `${path}.command`);
  if (!Array.isArray(args)) throw new ConfigError(source, 'expected an array of strings', `${path}.args`);
  service['command'] = [command, ...args];
  if (entry['cwd'] !== undefined) service['sandbox'] = { working_dir: entry['cwd'] };
  return service;
}
