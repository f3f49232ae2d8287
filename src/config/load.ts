/**
 * File → Config (SPEC §2, §3): `${VAR}` substitution, the `sandbox_config` alias, SWML_* security
 * variables, unknown-key warnings, then the schema. Every problem becomes one ConfigError line
 * naming the source and the key path.
 */
import { readFile } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { z } from 'zod';
import { isPlainObject } from '../json.js';
import { substituteEnvDeep } from './env.js';
import { ConfigError } from './errors.js';
import { mergeMcpServers } from './mcp-servers.js';
import { configSchema } from './schema.js';
import type { Config, SecurityConfig } from './types.js';

export type Env = Record<string, string | undefined>;
/** `variable`: the unset `${VAR}` the warning is about, if it is about one. */
export type OnWarning = (message: string, path: string, variable?: string) => void;

/** The warning for a key the schema does not know; `--check` treats it as an error. */
export const UNKNOWN_KEY_WARNING = 'unknown config key ignored';

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
  const unset: Array<{ variable: string; path: PropertyKey[] }> = [];
  // A fresh tree: the steps below may rewrite it without touching the caller's object.
  const tree = substituteEnvDeep(raw, opts.env, (variable, path) => {
    unset.push({ variable, path });
    warn(`\${${variable}} is not set and has no default: "" used`, formatPath(path), variable);
  }) as Record<string, unknown>;
  const fromMcpServers = mergeMcpServers(tree, opts.source, warn);
  resolveSandboxAlias(tree, warn);
  warnProcessKeysOnRemote(tree, warn);
  const fromEnv = applySecurityEnv(tree, opts.env);
  warnUnknownKeys(tree, configSchema, [], warn);

  const result = configSchema.safeParse(tree);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  const path = issue?.path ?? [];
  const variable = path[0] === 'security' && path.length === 2 ? fromEnv.get(String(path[1])) : undefined;
  const unsetHere = [...new Set(unset.filter((entry) => isWithinPath(entry.path, path) || isWithinPath(path, entry.path)).map((entry) => entry.variable))];
  const unsetNote = unsetHere.length === 0 ? '' : ` (\${${unsetHere.join('}, ${')}} ${unsetHere.length === 1 ? 'is' : 'are'} not set)`;
  const reason = `${issue?.message ?? 'invalid configuration'}${variable === undefined ? '' : ` (from ${variable})`}${unsetNote}`;
  throw new ConfigError(opts.source, reason, path.length === 0 ? undefined : renamePrefix(formatPath(path), fromMcpServers));
}

/** Whether `path` is `parent` or lies below it. */
function isWithinPath(path: readonly PropertyKey[], parent: readonly PropertyKey[]): boolean {
  return parent.length <= path.length && parent.every((key, index) => String(key) === String(path[index]));
}

/**
 * Reads and parses a config file: JSON with comments and trailing commas (JSONC), as the README's
 * examples are written. A missing, unreadable or malformed file is a ConfigError naming it.
 */
export async function loadConfigFile(path: string, opts: { env: Env; onWarning?: OnWarning }): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, readFailure(error), undefined, { cause: error });
  }
  // Editors on Windows save a byte-order mark.
  const json = text.replace(/^\uFEFF/, '');
  const errors: ParseError[] = [];
  const raw: unknown = parseJsonc(json, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false });
  const [first] = errors;
  if (first !== undefined) throw new ConfigError(path, `invalid JSON: ${jsonFailure(first, json)}`);
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

/** Whether `server.host` is reachable only from this machine. */
export function isLoopback(host: string): boolean {
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

/** A key path under a service that came from `mcpServers` is reported under the name the file used. */
function renamePrefix(path: string, origins: ReadonlyMap<string, string>): string {
  const [, service, rest = ''] = /^(services\.[^.[]+)(.*)$/.exec(path) ?? [];
  const origin = service === undefined ? undefined : origins.get(service);
  return origin === undefined ? path : `${origin}${rest}`;
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

/** SPEC §13: a remote service starts no process, so the keys that shape one do not apply. */
function warnProcessKeysOnRemote(tree: Record<string, unknown>, warn: OnWarning): void {
  if (!isPlainObject(tree.services)) return;
  for (const [name, service] of Object.entries(tree.services)) {
    if (!isPlainObject(service) || service.url === undefined) continue;
    for (const key of ['sandbox', 'env']) {
      if (Object.hasOwn(service, key)) warn(`${key} does not apply to a remote service (url) and is ignored`, `services.${name}.${key}`);
    }
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
      else warn(UNKNOWN_KEY_WARNING, formatPath([...path, key]));
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

/** What each parser error (by its printParseErrorCode name) means to someone editing the file. */
const JSON_ERRORS: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected ':'",
  CommaExpected: "expected ',' or the end of the object or array",
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  EndOfFileExpected: 'unexpected text after the end of the document',
  InvalidCommentToken: 'comment not closed',
  UnexpectedEndOfComment: 'comment not closed',
  UnexpectedEndOfString: 'string not closed',
  UnexpectedEndOfNumber: 'number not finished',
  InvalidUnicode: 'invalid unicode escape in a string',
  InvalidEscapeCharacter: 'invalid escape in a string',
  InvalidCharacter: 'invalid character in a string',
};

/** The error in words, with line and column, never quoting the text (it could hold a password). */
function jsonFailure(error: ParseError, text: string): string {
  const before = text.slice(0, error.offset).split('\n');
  const where = error.offset >= text.length ? 'at the end of the file' : `at line ${before.length} column ${(before.at(-1)?.length ?? 0) + 1}`;
  return `${JSON_ERRORS[printParseErrorCode(error.error)] ?? 'malformed'} ${where}`;
}
