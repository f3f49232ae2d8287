/**
 * The configuration schema (SPEC §3, §3.1, §7, §8, §9). Values arrive with `${VAR}` already
 * substituted, so most of them are strings: each leaf converts only to the type it wants, which is
 * how "8100" becomes a port while a "1000" command argument or a numeric password stays a string.
 * Unknown keys are dropped here and reported by load.ts, which walks these shapes.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseLimits } from './limits.js';
import type { Config, LogLevel } from './types.js';

type Ctx = z.core.$RefinementCtx;

/** How a rejected value is quoted in an error: scalars verbatim (short), containers by kind. */
function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === undefined) return 'nothing';
  return Array.isArray(value) ? 'an array' : 'an object';
}

function reject(ctx: Ctx, message: string, path: PropertyKey[] = []): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', message, path });
  return z.NEVER;
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  // Decimal notation only: Number() would also take "", "0x10" and "Infinity".
  if (typeof value === 'string' && /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?\s*$/i.test(value)) return Number(value);
  return undefined;
}

interface Range {
  min: number;
  max?: number;
  /** The minimum itself is not allowed (timeouts: "greater than 0"). */
  minExclusive?: boolean;
}

function rangeText({ min, max, minExclusive }: Range): string {
  const lower = minExclusive ? `greater than ${min}` : `of at least ${min}`;
  if (max === undefined) return lower;
  return minExclusive ? `${lower} and at most ${max}` : `from ${min} to ${max}`;
}

function numberIn(range: Range, integer: boolean) {
  return z.unknown().transform((value, ctx) => {
    const n = toNumber(value);
    if (n === undefined) return reject(ctx, `expected a number, got ${describeValue(value)}`);
    if (integer && !Number.isInteger(n)) return reject(ctx, `expected a whole number, got ${describeValue(value)}`);
    const tooSmall = range.minExclusive ? n <= range.min : n < range.min;
    if (tooSmall || (range.max !== undefined && n > range.max)) {
      return reject(ctx, `expected a number ${rangeText(range)}, got ${describeValue(value)}`);
    }
    return n;
  });
}

const integer = (range: Range) => numberIn(range, true);
/** Seconds and other quantities that may be fractional but must be positive. */
const positive = (max?: number) => numberIn({ min: 0, max, minExclusive: true }, false);

function boolean() {
  return z.unknown().transform((value, ctx) => {
    if (typeof value === 'boolean') return value;
    const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
    if (text === 'true' || text === 'false') return text === 'true';
    return reject(ctx, `expected true or false, got ${describeValue(value)}`);
  });
}

interface StringOptions {
  nonEmpty?: boolean;
  /** Never quote the value back (passwords, tokens, child environment values). */
  secret?: boolean;
}

/**
 * A JSON number where a string is wanted is taken as its decimal text (`"auth_password": 12345678`).
 * Returns undefined after recording the issue, so callers can go on checking the rest of a list.
 */
function asString(value: unknown, ctx: Ctx, options: StringOptions, path: PropertyKey[] = []): string | undefined {
  const isNumber = typeof value === 'number' && Number.isFinite(value);
  const text = typeof value === 'string' ? value : isNumber ? String(value) : undefined;
  if (text === undefined) {
    reject(ctx, options.secret ? 'expected a string' : `expected a string, got ${describeValue(value)}`, path);
  } else if (options.nonEmpty && text.trim() === '') {
    reject(ctx, 'expected a non-empty string', path);
  } else {
    return text;
  }
  return undefined;
}

function asStrings(items: unknown[], ctx: Ctx, options: StringOptions): string[] | undefined {
  const texts = items.map((item, index) => asString(item, ctx, options, [index]));
  return texts.every((text): text is string => text !== undefined) ? texts : undefined;
}

function string(options: StringOptions = {}) {
  return z.unknown().transform((value, ctx) => asString(value, ctx, options) ?? z.NEVER);
}

function stringList(options: StringOptions = {}) {
  return z.unknown().transform((value, ctx) => {
    if (!Array.isArray(value)) return reject(ctx, `expected an array of strings, got ${describeValue(value)}`);
    return asStrings(value, ctx, options) ?? z.NEVER;
  });
}

/** A list, or one comma-separated string as environment variables spell lists; blanks dropped. */
function asList(value: unknown, ctx: Ctx, expected: string): string[] | undefined {
  if (typeof value !== 'string' && !Array.isArray(value)) {
    reject(ctx, `expected ${expected}, got ${describeValue(value)}`);
    return undefined;
  }
  const items = typeof value === 'string' ? value.split(',') : asStrings(value, ctx, {});
  return items?.map((item) => item.trim()).filter((item) => item !== '');
}

function commaList(options: { nonEmpty: boolean }) {
  return z.unknown().transform((value, ctx) => {
    const list = asList(value, ctx, 'a list or a comma-separated string');
    if (list === undefined) return z.NEVER;
    // An empty Host allow-list would refuse every request; "*" is how to allow any host.
    if (options.nonEmpty && list.length === 0) return reject(ctx, 'expected at least one entry ("*" allows any)');
    return list;
  });
}

/** Empty means "not set", so `"${LOG_FILE|}"` can switch the setting off. */
function optionalString() {
  return z
    .unknown()
    .transform((value, ctx) => {
      const text = asString(value, ctx, {});
      return text === undefined ? z.NEVER : text === '' ? undefined : text;
    })
    .optional();
}

function oneOf<const T extends string>(values: readonly T[]) {
  return z.unknown().transform((value, ctx): T => {
    const match = values.find((candidate) => candidate === value);
    if (match !== undefined) return match;
    const expected = values.map((candidate) => JSON.stringify(candidate)).join(', ');
    return reject(ctx, `expected one of ${expected}, got ${describeValue(value)}`);
  });
}

/** SPEC §8: one limit string, or a list of them; parsed once here, never per request. */
function limits() {
  return z.unknown().transform((value, ctx) => {
    const items = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined;
    if (items === undefined) {
      return reject(ctx, `expected a rate-limit string or a list of them, got ${describeValue(value)}`);
    }
    return items.flatMap((item, index) => {
      const path = typeof value === 'string' ? [] : [index];
      const text = asString(item, ctx, {}, path);
      if (text === undefined) return [];
      try {
        return parseLimits(text);
      } catch (error) {
        return reject(ctx, (error as Error).message, path);
      }
    });
  });
}

const LOG_LEVELS: Record<string, LogLevel> = {
  debug: 'debug',
  info: 'info',
  warning: 'warn',
  warn: 'warn',
  error: 'error',
  critical: 'fatal',
};

function logLevel() {
  return z.unknown().transform((value, ctx): LogLevel => {
    const level = typeof value === 'string' ? LOG_LEVELS[value.trim().toLowerCase()] : undefined;
    if (level !== undefined) return level;
    return reject(ctx, `expected DEBUG, INFO, WARNING, WARN, ERROR or CRITICAL, got ${describeValue(value)}`);
  });
}

function storageUri() {
  return z.unknown().transform((value, ctx) => {
    const text = asString(value, ctx, { secret: true });
    if (text === undefined) return z.NEVER;
    if (/^(?:memory|rediss?):\/\//i.test(text)) return text;
    // Only the scheme is quoted: a Redis URI carries its password.
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1];
    const got = scheme === undefined ? 'no scheme' : `scheme "${scheme}"`;
    return reject(ctx, `expected memory://, redis://... or rediss://..., got ${got}`);
  });
}

function isAddressOrRange(text: string): boolean {
  const [address = '', prefix, ...rest] = text.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/** false, true, or the proxies to trust (SPEC §8: the client IP comes from X-Forwarded-For). */
function trustProxy() {
  return z.unknown().transform((value, ctx): boolean | string[] => {
    if (typeof value === 'boolean') return value;
    const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
    if (text === 'true' || text === 'false') return text === 'true';
    const proxies = asList(value, ctx, 'true, false or a list of proxy addresses');
    if (proxies === undefined) return z.NEVER;
    const bad = proxies.find((text) => !isAddressOrRange(text));
    if (bad !== undefined) return reject(ctx, `expected an IP address or CIDR range, got ${describeValue(bad)}`);
    return proxies;
  });
}

function publicUrl() {
  return z.unknown().transform((value, ctx) => {
    const text = asString(value, ctx, { secret: true });
    if (text === undefined) return z.NEVER;
    if (text === '' || /^https?:\/\/[^/]/i.test(text)) return text;
    // Not quoted: the URL may embed the Basic credentials SignalWire will use (SPEC §9).
    return reject(ctx, 'expected an http:// or https:// URL');
  });
}

/** SPEC §12: the session directory must be shared by every instance, so only Redis will do. */
function redisUri() {
  return z.unknown().transform((value, ctx) => {
    const text = asString(value, ctx, { secret: true });
    if (text === undefined) return z.NEVER;
    if (/^rediss?:\/\//i.test(text)) return text;
    // Only the scheme is quoted: a Redis URI carries its password.
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1];
    return reject(ctx, `expected redis://... or rediss://..., got ${scheme === undefined ? 'no scheme' : `scheme "${scheme}"`}`);
  });
}

/** Where the other instances reach this one: an origin, no path (SPEC §12). */
function instanceUrl() {
  return z.unknown().transform((value, ctx) => {
    const text = asString(value, ctx, { nonEmpty: true });
    if (text === undefined) return z.NEVER;
    if (/^https?:\/\/[^/?#\s]+\/?$/i.test(text.trim())) return text.trim().replace(/\/$/, '');
    return reject(ctx, `expected http://host:port or https://host:port, got ${describeValue(text)}`);
  });
}

function remoteUrl() {
  return z.unknown().transform((value, ctx) => {
    const text = asString(value, ctx, { secret: true });
    if (text === undefined) return z.NEVER;
    // Not quoted back: a hosted server's URL may carry an API key in its query.
    if (!/^https?:\/\/[^/]/i.test(text) || !URL.canParse(text)) return reject(ctx, 'expected an http:// or https:// URL');
    return text;
  });
}

/** Sections are objects; a missing section is parsed from `{}` so every default applies. */
function section<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.object(shape, {
    error: (issue) => {
      if (issue.code === 'invalid_type') return `expected an object, got ${describeValue(issue.input)}`;
      return undefined;
    },
  });
}

/** `[first, last]`: the unprivileged uids (and equal gids) handed to sessions, like systemd's dynamic users. */
function uidRange() {
  return z.unknown().transform((value, ctx): [number, number] => {
    const [first, last] = Array.isArray(value) && value.length === 2 ? value.map(toNumber) : [];
    const isUid = (n: number | undefined): n is number => n !== undefined && Number.isInteger(n) && n >= 1000 && n < 2 ** 31;
    if (!isUid(first) || !isUid(last) || last < first) {
      return reject(ctx, `expected [first, last] with whole numbers from 1000 to ${2 ** 31 - 1}, first <= last, got ${describeValue(value)}`);
    }
    return [first, last];
  });
}

/** An object with free-form keys; `key.expected` says what a key must look like. */
function map<V extends z.core.SomeType>(value: V, key: { pattern: RegExp; expected: string }) {
  return z.record(z.string().regex(key.pattern), value, {
    error: (issue) => {
      if (issue.code === 'invalid_type') return `expected an object, got ${describeValue(issue.input)}`;
      if (issue.code === 'invalid_key') return `expected ${key.expected}, got ${describeValue(issue.input)}`;
      return undefined;
    },
  });
}

/**
 * The keys the platform's SWML schema allows in a function's `fillers` (its `oneOf` takes exactly
 * one of them): anything else makes the whole SWML document invalid, so it is refused at load.
 */
const FILLER_LANGUAGES = new Set([
  'default', 'auto', 'bg', 'ca', 'cs', 'da', 'da-DK', 'de', 'de-CH', 'el', 'en', 'en-AU', 'en-GB', 'en-IN', 'en-NZ', 'en-US',
  'es', 'es-419', 'et', 'fi', 'fr', 'fr-CA', 'hi', 'hu', 'id', 'it', 'ja', 'ko', 'ko-KR', 'lt', 'lv', 'ms', 'multi', 'nl',
  'nl-BE', 'no', 'pl', 'pt', 'pt-BR', 'ro', 'ru', 'sk', 'sv', 'sv-SE', 'th', 'th-TH', 'tr', 'uk', 'vi', 'zh', 'zh-CN',
  'zh-HK', 'zh-Hans', 'zh-Hant', 'zh-TW',
]);

function fillers() {
  return map(stringList(), { pattern: /^.+$/, expected: 'a language code' }).transform((phrases, ctx) => {
    const languages = Object.keys(phrases);
    if (languages.length !== 1) return reject(ctx, `expected exactly one language per service (the platform allows one), got ${languages.length}`);
    const unknown = languages.find((language) => !FILLER_LANGUAGES.has(language));
    if (unknown !== undefined) {
      return reject(ctx, `expected a language code the platform knows ("default", "auto", "en-US", "es", …), got ${describeValue(unknown)}`);
    }
    return phrases;
  });
}

const sandboxSchema = section({
  enabled: boolean().default(true),
  restricted_env: boolean().default(true),
  resource_limits: boolean().default(true),
  max_memory_mb: integer({ min: 1 }).default(512),
  max_cpu_seconds: integer({ min: 1 }).default(300),
  max_file_size_mb: integer({ min: 1 }).default(10),
  max_processes: integer({ min: 1 }).default(10),
  max_open_files: integer({ min: 1 }).default(1024),
  working_dir: optionalString(),
  allowed_paths: stringList({ nonEmpty: true }).default(() => []),
  drop_privileges: boolean().default(false),
  session_uids: boolean().default(true),
  uid_range: uidRange().default(() => [200_000, 265_535] as [number, number]),
  cgroups: oneOf(['auto', 'required', 'off']).default('auto'),
  max_cpu_percent: positive(100_000).optional(),
});

const toolsSchema = section({
  allow: stringList({ nonEmpty: true }).default(() => ['*']),
  deny: stringList({ nonEmpty: true }).default(() => []),
  descriptions: map(string({ nonEmpty: true }), { pattern: /^.+$/, expected: 'a tool name' }).default(() => ({})),
});

/** SPEC §13: a remote MCP server instead of a command. Header values are secrets (`${TOKEN}`). */
const remoteServiceShape = {
  url: remoteUrl().optional(),
  headers: map(string({ secret: true }), {
    pattern: /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/,
    expected: 'an HTTP header name',
  }).default(() => ({})),
  transport: oneOf(['streamable-http', 'sse', 'auto']).default('auto'),
};

const serviceSchema = section({
  command: stringList().optional(),
  description: string().default(''),
  enabled: boolean().default(true),
  env: map(string({ secret: true }), {
    pattern: /^[^=\0]+$/,
    expected: 'an environment variable name without "="',
  }).default(() => ({})),
  sandbox: sandboxSchema.prefault({}),
  call_timeout: positive(3600).default(30),
  start_timeout: positive(3600).default(30),
  max_result_bytes: integer({ min: 1024, max: 1024 * 1024 * 1024 }).default(10 * 1024 * 1024),
  warm_pool: integer({ min: 0 }).default(1),
  session_mode: oneOf(['session', 'shared']).default('session'),
  tools: toolsSchema.prefault({}),
  ...remoteServiceShape,
}).transform(({ command, ...service }, ctx) => {
  if (service.url !== undefined && command !== undefined) {
    reject(ctx, 'a service is either a command or a url, not both', ['url']);
  } else if (service.url === undefined && service.enabled && (command === undefined || command.length === 0 || command[0]?.trim() === '')) {
    // Disabled services are never started, so their (often placeholder) command is not required.
    reject(ctx, 'an enabled service needs a non-empty array of strings (program first, then arguments), or a url', ['command']);
  }
  return { command: command ?? [], ...service };
});

const servicesSchema = map(serviceSchema, {
  pattern: /^[A-Za-z0-9_-]{1,64}$/,
  expected: 'a service name of 1-64 characters from A-Z, a-z, 0-9, "_" and "-"',
}).transform((services) =>
  Object.fromEntries(Object.entries(services).map(([name, service]) => [name, { name, ...service }])),
);

export const configSchema = section({
  server: section({
    host: string({ nonEmpty: true }).default('0.0.0.0'),
    // 0 lets tests bind an ephemeral port.
    port: integer({ min: 0, max: 65535 }).default(8080),
    auth_user: string().default(''),
    auth_password: string({ secret: true }).default(''),
    auth_token: string({ secret: true }).default(''),
    trust_proxy: trustProxy().default(false),
    request_timeout: positive(3600).default(30),
    max_connections_per_client: integer({ min: 0 }).default(256),
  }).prefault({}),
  services: servicesSchema.prefault({}),
  session: section({
    default_timeout: positive().default(300),
    max_sessions_per_service: integer({ min: 1 }).default(100),
    max_total_sessions: integer({ min: 1 }).default(500),
    cleanup_interval: positive().default(60),
    sandbox_dir: string({ nonEmpty: true }).default('./sandbox'),
    // Absent: <sandbox_dir>/.package-cache; "" switches the shared cache off.
    package_cache_dir: string().optional(),
  }).prefault({}),
  rate_limiting: section({
    enabled: boolean().default(true),
    default_limits: limits().prefault(['200 per day', '50 per hour']),
    tools_limit: limits().prefault('30 per minute'),
    call_limit: limits().prefault('10 per minute'),
    call_limit_scope: oneOf(['session', 'client']).default('session'),
    session_delete_limit: limits().prefault('20 per minute'),
    storage_uri: storageUri().default('memory://'),
  }).prefault({}),
  logging: section({
    level: logLevel().default('info'),
    file: optionalString(),
  }).prefault({}),
  security: section({
    ssl_enabled: boolean().default(false),
    ssl_cert_path: string().default(''),
    ssl_key_path: string().default(''),
    allowed_hosts: commaList({ nonEmpty: true }).default(() => ['*']),
    cors_origins: commaList({ nonEmpty: false }).default(() => []),
    max_request_size: integer({ min: 1 }).default(10_485_760),
    use_hsts: boolean().default(true),
    hsts_max_age: integer({ min: 0 }).default(31_536_000),
  }).prefault({}),
  swaig: section({
    enabled: boolean().default(true),
    public_url: publicUrl().default(''),
    function_prefix: string().default('mcp_'),
    max_response_chars: integer({ min: 1 }).default(8000),
    call_timeout: positive(3600).default(25),
    include_hangup_hook: boolean().default(true),
    fillers: map(fillers(), {
      pattern: /^.+$/,
      expected: 'a service name',
    }).default(() => ({})),
    limit: limits().prefault('600 per minute'),
  }).prefault({}),
  // SPEC §12: absent = one instance, no Redis; present = one gateway over many instances.
  cluster: section({
    storage_uri: redisUri().optional(),
    instance_url: instanceUrl(),
    // Hops are authenticated with it: a short secret would be guessable offline from one captured hop.
    secret: string({ secret: true, nonEmpty: true }).refine((secret) => secret.length >= 16, 'expected at least 16 characters'),
    heartbeat: positive(60).default(2),
    owner_timeout: positive(600).default(6),
    drain_timeout: positive().default(120),
  })
    .refine((cluster) => cluster.owner_timeout > cluster.heartbeat, { message: 'expected more than cluster.heartbeat', path: ['owner_timeout'] })
    .optional(),
});

type SameType<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
// Fails to compile when the schema's output and types.ts drift apart.
true satisfies SameType<z.output<typeof configSchema>, Config>;
