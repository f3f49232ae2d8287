import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { credentialProblems, loadConfigFile, parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';

const FIXTURES = new URL('../fixtures/config/', import.meta.url);
const fixture = (name: string) => fileURLToPath(new URL(name, FIXTURES));

function collectWarnings() {
  const warnings: { message: string; path: string }[] = [];
  return { warnings, onWarning: (message: string, path: string) => warnings.push({ message, path }) };
}

function errorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('the shipped fixture configs load as they are (§3)', () => {
  test.each(['minimal.json', 'full-reference.json', 'env-heavy.json'])('%s loads with an empty environment (§3)', async (name) => {
    const config = await loadConfigFile(fixture(name), { env: {} });
    expect(Object.keys(config.services).length).toBeGreaterThan(0);
  });

  test('env-heavy: "${MCP_PORT|8100}" becomes the number 8100 and the "1000" argument stays a string (§3, §11)', async () => {
    const config = await loadConfigFile(fixture('env-heavy.json'), { env: {} });
    expect(config.server.port).toBe(8100);
    expect(config.services.todo?.command).toEqual(['node', './demo/todo-server.js', '--max-items', '1000']);
    expect(config.session).toMatchObject({ default_timeout: 300, max_sessions_per_service: 100, cleanup_interval: 60 });
    expect(config.logging).toEqual({ level: 'info', file: 'gateway.log' });
  });

  test('env-heavy takes its values from the environment when set (§3)', async () => {
    const env = { MCP_PORT: '9001', MCP_AUTH_PASSWORD: '00001234', MCP_LOG_LEVEL: 'warning', MCP_MAX_SESSIONS: '7', MCP_LOG_FILE: '' };
    const config = await loadConfigFile(fixture('env-heavy.json'), { env });
    expect(config.server).toMatchObject({ port: 9001, auth_password: '00001234' });
    expect(config.session.max_sessions_per_service).toBe(7);
    expect(config.logging).toEqual({ level: 'warn' });
  });

  test('env-heavy: disabled services with placeholder paths load and stay disabled (§3)', async () => {
    const config = await loadConfigFile(fixture('env-heavy.json'), { env: {} });
    expect(config.services.shell).toMatchObject({ enabled: false, sandbox: { enabled: false } });
    expect(config.services.files).toMatchObject({ enabled: false, sandbox: { working_dir: '/home/user', allowed_paths: ['/home/user/documents', '/tmp'] } });
  });

  test('env-heavy: each "note" key is a warning with its path, reported once (§3)', async () => {
    const { warnings, onWarning } = collectWarnings();
    await loadConfigFile(fixture('env-heavy.json'), { env: {}, onWarning });
    expect(warnings).toEqual([
      { message: 'unknown config key ignored', path: 'services.shell.sandbox.note' },
      { message: 'unknown config key ignored', path: 'services.files.sandbox.note' },
    ]);
  });

  test('full-reference: sandbox_config is honoured as sandbox (§3, §11)', async () => {
    const raw = { services: { svc: { command: ['x'], sandbox_config: { enabled: false, max_memory_mb: 256 } } } };
    const config = parseConfig(raw, { env: {}, source: 'config.json' });
    expect(config.services.svc?.sandbox).toMatchObject({ enabled: false, max_memory_mb: 256 });
    const reference = await loadConfigFile(fixture('full-reference.json'), { env: {} });
    expect(reference.services['service-name']?.sandbox).toMatchObject({ enabled: true, resource_limits: true, restricted_env: true });
  });

  test('full-reference: an unset "${MCP_AUTH_PASSWORD}" becomes empty, and credentials are then missing (§3, §3.2)', async () => {
    const config = await loadConfigFile(fixture('full-reference.json'), { env: {} });
    expect(config.server.auth_password).toBe('');
    expect(credentialProblems(config).errors).toHaveLength(1);
  });
});

describe('unknown keys and aliases (§3)', () => {
  test('unknown keys anywhere are warnings with dotted paths, not errors (§3)', () => {
    const { warnings, onWarning } = collectWarnings();
    const raw = {
      note: 'top',
      server: { port: 1, colour: 'blue' },
      services: { todo: { command: ['x'], name: 'ignored', sandbox: { note: 'n' } } },
      swaig: { fillers: { todo: { en: ['hi'] } }, extra: true },
    };
    parseConfig(raw, { env: {}, source: 'config.json', onWarning });
    expect(warnings.map((w) => w.path)).toEqual(['note', 'server.colour', 'services.todo.name', 'services.todo.sandbox.note', 'swaig.extra']);
  });

  test('keys inherited by every object ("constructor", "toString") are still unknown (§3)', () => {
    const { warnings, onWarning } = collectWarnings();
    parseConfig(JSON.parse('{"constructor": 1, "server": {"toString": 2}}'), { env: {}, source: 'c.json', onWarning });
    expect(warnings.map((w) => w.path)).toEqual(['constructor', 'server.toString']);
  });

  test('with both sandbox and sandbox_config, sandbox wins and sandbox_config is reported (§3)', () => {
    const { warnings, onWarning } = collectWarnings();
    const raw = { services: { svc: { command: ['x'], sandbox: { max_processes: 3 }, sandbox_config: { max_processes: 99 } } } };
    const config = parseConfig(raw, { env: {}, source: 'config.json', onWarning });
    expect(config.services.svc?.sandbox.max_processes).toBe(3);
    expect(warnings).toEqual([{ message: 'sandbox_config ignored because sandbox is also set', path: 'services.svc.sandbox_config' }]);
  });

  test('values inside sandbox_config are validated under their own key path (§3)', () => {
    const raw = { services: { svc: { command: ['x'], sandbox_config: { max_memory_mb: 'lots' } } } };
    expect(errorOf(() => parseConfig(raw, { env: {}, source: 'config.json' })).message).toBe(
      'config.json: services.svc.sandbox.max_memory_mb: expected a number, got "lots"',
    );
  });

  test('the caller\'s object is not modified (§3)', () => {
    const raw = { server: { port: '${P|1}' }, services: { svc: { command: ['x'], sandbox_config: {} } } };
    const before = structuredClone(raw);
    parseConfig(raw, { env: { SWML_USE_HSTS: 'false' }, source: 'config.json' });
    expect(raw).toEqual(before);
  });
});

describe('SWML_* variables fill security keys the file leaves out (§3.1)', () => {
  const env = {
    SWML_SSL_ENABLED: 'true',
    SWML_SSL_CERT_PATH: '/etc/tls/cert.pem',
    SWML_SSL_KEY_PATH: '/etc/tls/key.pem',
    SWML_ALLOWED_HOSTS: 'gw.example.com,*.example.org',
    SWML_CORS_ORIGINS: 'https://app.example.com',
    SWML_MAX_REQUEST_SIZE: '2048',
    SWML_USE_HSTS: 'false',
    SWML_HSTS_MAX_AGE: '600',
  };

  test('every variable is read when the file has no security section (§3.1)', () => {
    expect(parseConfig({}, { env, source: 'c.json' }).security).toEqual({
      ssl_enabled: true,
      ssl_cert_path: '/etc/tls/cert.pem',
      ssl_key_path: '/etc/tls/key.pem',
      allowed_hosts: ['gw.example.com', '*.example.org'],
      cors_origins: ['https://app.example.com'],
      max_request_size: 2048,
      use_hsts: false,
      hsts_max_age: 600,
    });
  });

  test('the file wins over the environment, key by key (§3.1)', () => {
    const config = parseConfig({ security: { ssl_enabled: false, max_request_size: 100, allowed_hosts: ['*'] } }, { env, source: 'c.json' });
    expect(config.security).toMatchObject({ ssl_enabled: false, max_request_size: 100, allowed_hosts: ['*'], hsts_max_age: 600, use_hsts: false });
  });

  test.each([
    { input: '1', expected: true, why: 'the SignalWire SDKs accept 1' },
    { input: 'YES', expected: true, why: 'and yes, any case' },
    { input: '0', expected: false, why: '0' },
    { input: 'no', expected: false, why: 'no' },
    { input: '', expected: false, why: 'empty counts as unset: the default applies' },
  ])('SWML_SSL_ENABLED=$input → $expected ($why) (§3.1)', ({ input, expected }) => {
    expect(parseConfig({}, { env: { SWML_SSL_ENABLED: input }, source: 'c.json' }).security.ssl_enabled).toBe(expected);
  });

  test('a security section that is not an object is still an error (§3.1)', () => {
    expect(errorOf(() => parseConfig({ security: null }, { env, source: 'c.json' })).message).toBe('c.json: security: expected an object, got null');
  });

  test('a bad value names the key and the variable it came from (§3.1)', () => {
    expect(errorOf(() => parseConfig({}, { env: { SWML_HSTS_MAX_AGE: 'forever' }, source: 'c.json' })).message).toBe(
      'c.json: security.hsts_max_age: expected a number, got "forever" (from SWML_HSTS_MAX_AGE)',
    );
  });
});

describe('loadConfigFile errors name the file (§2)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcp-gateway-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function write(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  async function loadError(path: string): Promise<ConfigError> {
    const error = await loadConfigFile(path, { env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }

  test('a missing file (§2)', async () => {
    const path = join(dir, 'nope.json');
    expect((await loadError(path)).message).toBe(`${path}: file not found`);
  });

  test('a directory (§2)', async () => {
    expect((await loadError(dir)).message).toBe(`${dir}: is a directory, not a file`);
  });

  test('invalid JSON gives line and column and never quotes the text, which may hold a secret (§2, §3.2)', async () => {
    const path = await write('bad.json', '{\n  "server": {\n    "auth_password": "hunter2" "port": 1\n  }\n}\n');
    const { message } = await loadError(path);
    expect(message).toBe(`${path}: invalid JSON: expected ',' or the end of the object or array at line 3 column 32`);
  });

  test('invalid JSON without a position still drops the quoted text (§3.2)', async () => {
    const path = await write('token.json', '{"auth_token": hunter2}');
    const { message } = await loadError(path);
    expect(message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: invalid JSON: `));
    expect(message).not.toContain('hunter2');
  });

  test('an empty file (§2)', async () => {
    const path = await write('empty.json', '');
    expect((await loadError(path)).message).toBe(`${path}: invalid JSON: expected a value at the end of the file`);
  });

  test('a top-level array is not a config (§3)', async () => {
    const path = await write('array.json', '[]');
    expect((await loadError(path)).message).toBe(`${path}: expected a JSON object at the top level`);
  });

  test('a schema error names the file and the key path (§2)', async () => {
    const path = await write('schema.json', JSON.stringify({ services: { todo: { command: ['x'], call_timeout: 'abc' } } }));
    expect((await loadError(path)).message).toBe(`${path}: services.todo.call_timeout: expected a number, got "abc"`);
  });

  test('comments and trailing commas are accepted (JSONC)', async () => {
    const path = await write('commented.jsonc', '{\n  // where it listens\n  "server": {"port": 1234, /* inline */},\n  "services": {},\n}\n');
    expect((await loadConfigFile(path, { env: {} })).server.port).toBe(1234);
  });

  test('an unset ${VAR} without a default is named where its emptiness breaks validation', async () => {
    const port = await write('port.json', JSON.stringify({ server: { port: '${GW_PORT}' } }));
    expect((await loadError(port)).message).toBe(`${port}: server.port: expected a number, got "" (\${GW_PORT} is not set)`);
    const command = await write('command.json', JSON.stringify({ services: { todo: { command: ['${TODO_BIN}', '--flag'] } } }));
    expect((await loadError(command)).message).toMatch(/services\.todo\.command: .* \(\$\{TODO_BIN\} is not set\)$/);
  });

  test('each unset ${VAR} without a default is a warning naming it and its key', async () => {
    const path = await write('unset.json', JSON.stringify({ server: { auth_token: '${GW_TOKEN}', host: '${GW_HOST|127.0.0.1}' } }));
    const { warnings, onWarning } = collectWarnings();
    await loadConfigFile(path, { env: {}, onWarning });
    expect(warnings).toEqual([{ message: '${GW_TOKEN} is not set and has no default: "" used', path: 'server.auth_token' }]);
  });

  test('a byte-order mark is accepted (§3)', async () => {
    const path = await write('bom.json', '\uFEFF{"server": {"port": 1234}}');
    expect((await loadConfigFile(path, { env: {} })).server.port).toBe(1234);
  });
});

describe('credentialProblems (§3.2)', () => {
  function withServer(server: Record<string, unknown>): Config {
    return parseConfig({ server }, { env: {}, source: 'c.json' });
  }
  const NO_CREDENTIALS = 'no credentials configured: set server.auth_user and server.auth_password, or server.auth_token';

  test.each([
    { input: {}, expected: { errors: [NO_CREDENTIALS], warnings: [] }, why: 'nothing set' },
    { input: { auth_user: 'admin' }, expected: { errors: [NO_CREDENTIALS], warnings: [] }, why: 'user without password' },
    { input: { auth_password: 'long-enough-pw' }, expected: { errors: [NO_CREDENTIALS], warnings: [] }, why: 'password without user' },
    { input: { auth_token: 'tok' }, expected: { errors: [], warnings: [] }, why: 'a token alone is enough' },
    { input: { host: '127.0.0.1', auth_user: 'a', auth_password: 'changeme' }, expected: { errors: [], warnings: [] }, why: 'weak password on loopback is fine' },
    { input: { host: '127.8.9.10', auth_user: 'a', auth_password: 'x' }, expected: { errors: [], warnings: [] }, why: 'all of 127.0.0.0/8 is loopback' },
    { input: { host: 'localhost', auth_user: 'a', auth_password: 'x' }, expected: { errors: [], warnings: [] }, why: 'localhost' },
    { input: { host: '::1', auth_user: 'a', auth_password: 'x' }, expected: { errors: [], warnings: [] }, why: 'IPv6 loopback' },
    {
      input: { host: '0.0.0.0', auth_user: 'a', auth_password: 'changeme' },
      expected: { errors: [], warnings: ['server.auth_password is the sample default while server.host 0.0.0.0 is reachable from other machines'] },
      why: 'the sample password on all interfaces',
    },
    {
      input: { host: '::', auth_user: 'a', auth_password: 'sh0rt' },
      expected: { errors: [], warnings: ['server.auth_password is shorter than 8 characters while server.host :: is reachable from other machines'] },
      why: 'a short password on all IPv6 interfaces',
    },
    { input: { host: '10.1.2.3', auth_user: 'a', auth_password: 'ünïcödé' }, expected: { errors: [], warnings: [expect.stringContaining('shorter than 8')] }, why: '7 characters, though more bytes' },
    { input: { host: '10.1.2.3', auth_user: 'a', auth_password: 'long-enough' }, expected: { errors: [], warnings: [] }, why: 'a strong password anywhere' },
  ])('$why (§3.2)', ({ input, expected }) => {
    expect(credentialProblems(withServer(input))).toEqual(expected);
  });

  test('messages never contain the secret values (§3.2)', () => {
    const problems = credentialProblems(withServer({ host: '0.0.0.0', auth_user: 'admin', auth_password: 'pw123', auth_token: '' }));
    expect(JSON.stringify(problems)).not.toContain('pw123');
  });
});
