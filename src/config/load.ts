/**
 * File → Config (SPEC §2, §3): `${VAR}` substitution, the `sandbox_config` alias, SWML_* security
 * variables, unknown-key warnings, then the schema. Every problem becomes one ConfigError line
 * naming the source and the key path.
 */
import { readFile } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { isPlainObject } from '../json.js';
import { substituteEnvDeep } from './env.js';
import { ConfigError } from './errors.js';
import { configSchema } from './schema.js';
import type { Config, SecurityConfig } from './types.js';

export type Env = Record<string, string | undefined>;
export type OnWarning = (message: string, path: string) => void;

export interface ParseOptions {
  env: Env;
  /** Where the config came from, quoted at the start of every error. */
  source: string;
  onWarning?: OnWarning;
}

/** Substitutes, validates and fills defaults; throws ConfigError on the first problem found. */
export function parseConfig(raw: unknown, opts: ParseOptions): Config {
  if (!isPlainObject(raw)) throw new ConfigError(opts.source, 'expected a JSON object at the top level');
  const warn = opts.onWarning ?? (() => {});
  // A fresh tree: the steps below may rewrite it without touching the caller's object.
  const tree = substituteEnvDeep(raw, opts.env) as Record<string, unknown>;
  resolveSandboxAlias(tree, warn);
  const fromEnv = applySecurityEnv(tree, opts.env);
  warnUnknownKeys(tree, configSchema, [], warn);

  const result = configSchema.safeParse(tree);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  const path = issue?.path ?? [];
  const variable = path[0] === 'security' && path.length === 2 ? fromEnv.get(String(path[1])) : undefined;
  const reason = `${issue?.message ?? 'invalid configuration'}${variable === undefined ? '' : ` (from ${variable})`}`;
  throw new ConfigError(opts.source, reason, path.length === 0 ? undefined : formatPath(path));
}

/** Reads and parses a config file; a missing, unreadable or non-JSON file is a ConfigError naming it. */
export async function loadConfigFile(path: string, opts: { env: Env; onWarning?: OnWarning }): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, readFailure(error), undefined, { cause: error });
  }
  // Editors on Windows save a byte-order mark that JSON.parse refuses.
  const json = text.replace(/^\uFEFF/, '');
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new ConfigError(path, `invalid JSON: ${jsonFailure(error, json)}`);
  }
  return parseConfig(raw, { ...opts, source: path });
}

/**
 * SPEC §3.2: refusing to start without credentials is an error; a weak password on a reachable
 * address only a warning, because the reference's own sample uses `changeme`. Messages name keys,
 * never values.
 */
export function credentialProblems(config: Config): { errors: string[]; warnings: string[] } {
  const { host, auth_user, auth_password, auth_token } = config.server;
  const errors: string[] = [];
  const warnings: string[] = [];
  if (!(auth_user !== '' && auth_password !== '') && auth_token === '') {
    errors.push('no credentials configured: set server.auth_user and server.auth_password, or server.auth_token');
  }
  if (auth_password !== '' && !isLoopback(host)) {
    const exposure = `while server.host ${host} is reachable from other machines`;
    if (auth_password === 'changeme') {
      warnings.push(`server.auth_password is the sample default ${exposure}`);
    } else if ([...auth_password].length < 8) {
      warnings.push(`server.auth_password is shorter than 8 characters ${exposure}`);
    }
  }
  return { errors, warnings };
}

function isLoopback(host: string): boolean {
  const name = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost' || name === 'localhost.') return true;
  if (isIPv4(name)) return name.startsWith('127.');
  if (isIPv6(name)) return name === '::1' || name.startsWith('::ffff:127.');
  return false;
}

/** `services.todo.command[0]`: dots between keys, brackets around list indexes. */
function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`))
    .join('');
}

/** SPEC §3 / §11: `sandbox_config` is the documented name and was silently ignored by the reference. */
function resolveSandboxAlias(tree: Record<string, unknown>, warn: OnWarning): void {
  if (!isPlainObject(tree.services)) return;
  for (const [name, service] of Object.entries(tree.services)) {
    if (!isPlainObject(service) || !Object.hasOwn(service, 'sandbox_config')) continue;
    if (Object.hasOwn(service, 'sandbox')) {
      warn('sandbox_config ignored because sandbox is also set', `services.${name}.sandbox_config`);
    } else {
      service.sandbox = service.sandbox_config;
    }
    delete service.sandbox_config;
  }
}

const SECURITY_ENV = {
  ssl_enabled: 'SWML_SSL_ENABLED',
  ssl_cert_path: 'SWML_SSL_CERT_PATH',
  ssl_key_path: 'SWML_SSL_KEY_PATH',
  allowed_hosts: 'SWML_ALLOWED_HOSTS',
  cors_origins: 'SWML_CORS_ORIGINS',
  max_request_size: 'SWML_MAX_REQUEST_SIZE',
  use_hsts: 'SWML_USE_HSTS',
  hsts_max_age: 'SWML_HSTS_MAX_AGE',
} as const satisfies Record<keyof SecurityConfig, string>;

// The SignalWire SDKs document "true", "1" and "yes" for these variables.
const ENV_BOOLEANS: Record<string, boolean> = { true: true, '1': true, yes: true, false: false, '0': false, no: false };

/**
 * SPEC §3.1: SWML_* variables fill the security keys the file leaves out (the file wins). An empty
 * variable counts as unset. Returns key → variable so errors can say where a bad value came from.
 */
function applySecurityEnv(tree: Record<string, unknown>, env: Env): Map<string, string> {
  const applied = new Map<string, string>();
  // Only an absent section is created; `"security": null` must still fail validation.
  if (!Object.hasOwn(tree, 'security')) tree.security = {};
  const security = tree.security;
  if (!isPlainObject(security)) return applied;
  for (const [key, variable] of Object.entries(SECURITY_ENV)) {
    const value = env[variable];
    if (value === undefined || value.trim() === '' || Object.hasOwn(security, key)) continue;
    const isBoolean = key === 'ssl_enabled' || key === 'use_hsts';
    security[key] = isBoolean ? (ENV_BOOLEANS[value.trim().toLowerCase()] ?? value) : value;
    applied.set(key, variable);
  }
  return applied;
}

/** Reports each key the schema does not know, once, with its path (SPEC §3: a warning, not an error). */
function warnUnknownKeys(value: unknown, schema: z.core.$ZodType, path: string[], warn: OnWarning): void {
  if (schema instanceof z.ZodPipe) {
    // A transform's input side is the shape the file has to match.
    const inner = schema.in instanceof z.ZodTransform ? schema.out : schema.in;
    warnUnknownKeys(value, inner, path, warn);
  } else if (schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault || schema instanceof z.ZodOptional) {
    warnUnknownKeys(value, schema.unwrap(), path, warn);
  } else if (schema instanceof z.ZodRecord && isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) warnUnknownKeys(item, schema.valueType, [...path, key], warn);
  } else if (schema instanceof z.ZodObject && isPlainObject(value)) {
    const shape: Record<string, z.core.$ZodType> = schema.shape;
    for (const [key, item] of Object.entries(value)) {
      if (Object.hasOwn(shape, key)) warnUnknownKeys(item, shape[key] as z.core.$ZodType, [...path, key], warn);
      else warn('unknown config key ignored', formatPath([...path, key]));
    }
  }
}

function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory, not a file';
  return `cannot read the file (${code ?? (error as Error).message})`;
}

/**
 * V8 quotes the text around a syntax error, which could be a password: keep its description, drop
 * the quote, and turn "at position N" into a line and column.
 */
function jsonFailure(error: unknown, text: string): string {
  const message = (error as Error).message.replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, '');
  return message.replace(/ in JSON at position (\d+)(?: \(line \d+ column \d+\))?$/, (_match, position: string) => {
    const before = text.slice(0, Number(position)).split('\n');
    return ` at line ${before.length} column ${(before.at(-1)?.length ?? 0) + 1}`;
  });
}
