import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/load.js';

/** Parses through the public path (substitution + schema) with an empty environment. */
function parse(raw: Record<string, unknown>, env: Record<string, string> = {}) {
  return parseConfig(raw, { env, source: 'config.json' });
}

function errorOf(raw: Record<string, unknown>, env: Record<string, string> = {}): string {
  try {
    parse(raw, env);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a config error');
}

type Cfg = ReturnType<typeof parse>;

const todo = (extra: Record<string, unknown> = {}) => ({ services: { todo: { command: ['node', 'server.js'], ...extra } } });

describe('defaults (§3)', () => {
  test('an empty file gets every documented default (§3, §3.1, §7, §8, §9)', () => {
    const config = parse({});
    expect(config.server).toEqual({ host: '0.0.0.0', port: 8080, auth_user: '', auth_password: '', auth_token: '', trust_proxy: false, request_timeout: 30, max_connections_per_client: 256 });
    expect(config.services).toEqual({});
    expect(config.session).toEqual({
      default_timeout: 300,
      max_sessions_per_service: 100,
      max_total_sessions: 500,
      cleanup_interval: 60,
      sandbox_dir: './sandbox',
    });
    const { rate_limiting: rl } = config;
    expect([rl.enabled, rl.storage_uri]).toEqual([true, 'memory://']);
    expect(rl.default_limits.map((l) => l.text)).toEqual(['200 per 1 day', '50 per 1 hour']);
    expect([rl.tools_limit, rl.call_limit, rl.session_delete_limit].map((l) => l.map((x) => x.text))).toEqual([
      ['30 per 1 minute'],
      ['10 per 1 minute'],
      ['20 per 1 minute'],
    ]);
    expect(config.logging).toEqual({ level: 'info' });
    expect(config.security).toEqual({
      ssl_enabled: false,
      ssl_cert_path: '',
      ssl_key_path: '',
      allowed_hosts: ['*'],
      cors_origins: [],
      max_request_size: 10_485_760,
      use_hsts: true,
      hsts_max_age: 31_536_000,
    });
    expect({ ...config.swaig, limit: config.swaig.limit.map((l) => l.text) }).toEqual({
      enabled: true,
      public_url: '',
      function_prefix: 'mcp_',
      max_response_chars: 8000,
      call_timeout: 25,
      include_hangup_hook: true,
      fillers: {},
      limit: ['600 per 1 minute'],
    });
  });

  test('a service gets its name from its key and the documented service and sandbox defaults (§3, §7)', () => {
    expect(parse(todo()).services.todo).toEqual({
      name: 'todo',
      command: ['node', 'server.js'],
      description: '',
      enabled: true,
      env: {},
      sandbox: {
        enabled: true,
        restricted_env: true,
        resource_limits: true,
        max_memory_mb: 512,
        max_cpu_seconds: 300,
        max_file_size_mb: 10,
        max_processes: 10,
        max_open_files: 1024,
        allowed_paths: [],
        drop_privileges: false,
        session_uids: true,
        uid_range: [200_000, 265_535],
        cgroups: 'auto',
      },
      call_timeout: 30,
      start_timeout: 30,
      max_result_bytes: 10_485_760,
      warm_pool: 1,
      session_mode: 'session',
      tools: { allow: ['*'], deny: [], descriptions: {} },
      headers: {},
      transport: 'auto',
    });
  });

  test('defaults are fresh objects for every parse (§3)', () => {
    const first = parse(todo());
    first.security.allowed_hosts.push('evil');
    first.services.todo?.sandbox.allowed_paths.push('/');
    const second = parse(todo());
    expect(second.security.allowed_hosts).toEqual(['*']);
    expect(second.services.todo?.sandbox.allowed_paths).toEqual([]);
  });
});

describe('conversion only where the schema wants a number or boolean (§3)', () => {
  test.each([
    { input: { server: { port: '8100' } }, pick: (c: Cfg) => c.server.port, expected: 8100, why: 'numeric string → number' },
    { input: { server: { port: ' 8100 ' } }, pick: (c: Cfg) => c.server.port, expected: 8100, why: 'surrounding spaces are ignored' },
    { input: { server: { port: '${P|9000}' } }, pick: (c: Cfg) => c.server.port, expected: 9000, why: 'after substitution' },
    { input: { session: { default_timeout: '0.5' } }, pick: (c: Cfg) => c.session.default_timeout, expected: 0.5, why: 'fractional seconds' },
    { input: { security: { ssl_enabled: 'true' } }, pick: (c: Cfg) => c.security.ssl_enabled, expected: true, why: '"true" → true' },
    { input: { security: { use_hsts: 'FALSE' } }, pick: (c: Cfg) => c.security.use_hsts, expected: false, why: 'case-insensitive' },
    { input: { rate_limiting: { enabled: 'False' } }, pick: (c: Cfg) => c.rate_limiting.enabled, expected: false, why: 'mixed case' },
    { input: { server: { auth_password: '12345678' } }, pick: (c: Cfg) => c.server.auth_password, expected: '12345678', why: 'numeric-looking password stays a string (§11)' },
    { input: { server: { auth_password: 12345678 } }, pick: (c: Cfg) => c.server.auth_password, expected: '12345678', why: 'a JSON number where a string is wanted becomes its text' },
    { input: { server: { auth_token: '0123' } }, pick: (c: Cfg) => c.server.auth_token, expected: '0123', why: 'leading zero kept: never went through a number' },
    { input: { server: { auth_user: 'true' } }, pick: (c: Cfg) => c.server.auth_user, expected: 'true', why: 'boolean-looking string stays a string' },
    { input: { swaig: { function_prefix: '007_' } }, pick: (c: Cfg) => c.swaig.function_prefix, expected: '007_', why: 'string key' },
  ])('$why', ({ input, pick, expected }) => {
    expect(pick(parse(input))).toEqual(expected);
  });

  test('numeric-looking command arguments stay strings (§3, §11)', () => {
    const config = parse(todo({ command: ['node', 'server.js', '--max-items', '1000', '${N|0100}'] }));
    expect(config.services.todo?.command).toEqual(['node', 'server.js', '--max-items', '1000', '0100']);
  });

  test('a JSON number in a command line or env becomes its string (§3)', () => {
    const config = parse(todo({ command: ['node', 'server.js', '--port', 9000], env: { RETRIES: 3, NAME: 'x' } }));
    expect(config.services.todo?.command).toEqual(['node', 'server.js', '--port', '9000']);
    expect(config.services.todo?.env).toEqual({ RETRIES: '3', NAME: 'x' });
  });

  test.each([
    { input: todo({ call_timeout: 'abc' }), expected: 'config.json: services.todo.call_timeout: expected a number, got "abc"', why: 'not a number' },
    { input: todo({ start_timeout: 0 }), expected: 'config.json: services.todo.start_timeout: expected a number greater than 0 and at most 3600, got 0', why: 'start_timeout range' },
    { input: todo({ tools: { deny: 'git_push' } }), expected: 'config.json: services.todo.tools.deny: expected an array of strings, got "git_push"', why: 'tool globs are a list' },
    { input: todo({ tools: { descriptions: { add: '' } } }), expected: 'config.json: services.todo.tools.descriptions.add: expected a non-empty string', why: 'an empty description' },
    { input: { rate_limiting: { call_limit_scope: 'ip' } }, expected: 'config.json: rate_limiting.call_limit_scope: expected one of "session", "client", got "ip"', why: 'call_limit_scope values' },
    { input: { server: { port: '' } }, expected: 'config.json: server.port: expected a number, got ""', why: 'an empty substitution is not 0' },
    { input: { server: { port: '0x1F90' } }, expected: 'config.json: server.port: expected a number, got "0x1F90"', why: 'decimal only' },
    { input: { server: { port: '80.5' } }, expected: 'config.json: server.port: expected a whole number, got "80.5"', why: 'integer keys' },
    { input: { server: { port: 65536 } }, expected: 'config.json: server.port: expected a number from 0 to 65535, got 65536', why: 'port range' },
    { input: { server: { port: true } }, expected: 'config.json: server.port: expected a number, got true', why: 'a boolean is not a number' },
    { input: { security: { ssl_enabled: 'yes' } }, expected: 'config.json: security.ssl_enabled: expected true or false, got "yes"', why: 'only true/false in the file' },
    { input: { security: { use_hsts: 1 } }, expected: 'config.json: security.use_hsts: expected true or false, got 1', why: 'a number is not a boolean' },
    { input: { server: { auth_user: true } }, expected: 'config.json: server.auth_user: expected a string, got true', why: 'a boolean is not a string' },
    { input: { server: { host: null } }, expected: 'config.json: server.host: expected a string, got null', why: 'null is not a silent default' },
    { input: { server: { host: '' } }, expected: 'config.json: server.host: expected a non-empty string', why: 'a bind address is needed' },
    { input: { server: 'x' }, expected: 'config.json: server: expected an object, got "x"', why: 'sections are objects' },
    { input: { services: [] }, expected: 'config.json: services: expected an object, got an array', why: 'services is a map' },
  ])('a value that cannot be converted names the key path and the value: $why (§3)', ({ input, expected }) => {
    expect(errorOf(input)).toBe(expected);
  });
});


describe('services (§3)', () => {
  test.each([
    { input: todo({ call_timeout: 0 }), expected: 'services.todo.call_timeout: expected a number greater than 0 and at most 3600, got 0', why: 'timeout must be positive' },
    { input: todo({ call_timeout: 3601 }), expected: 'services.todo.call_timeout: expected a number greater than 0 and at most 3600, got 3601', why: 'at most an hour' },
    { input: todo({ warm_pool: -1 }), expected: 'services.todo.warm_pool: expected a number of at least 0, got -1', why: 'warm pool can be 0, not negative' },
    { input: todo({ session_mode: 'pooled' }), expected: 'services.todo.session_mode: expected one of "session", "shared", got "pooled"', why: 'closed set' },
    { input: { services: { todo: {} } }, expected: 'services.todo.command: an enabled service needs a non-empty array of strings (program first, then arguments)', why: 'enabled needs a command' },
    { input: todo({ command: [] }), expected: 'services.todo.command: an enabled service needs a non-empty array of strings (program first, then arguments)', why: 'empty argv' },
    { input: todo({ command: 'node server.js' }), expected: 'services.todo.command: expected an array of strings, got "node server.js"', why: 'argv, never a shell line' },
    { input: todo({ command: ['node', { x: 1 }] }), expected: 'services.todo.command[1]: expected a string, got an object', why: 'index in the path' },
    { input: { services: { 'bad name': { command: ['x'] } } }, expected: 'services.bad name: expected a service name of 1-64 characters from A-Z, a-z, 0-9, "_" and "-", got "bad name"', why: 'name characters' },
    { input: { services: { ['a'.repeat(65)]: { command: ['x'] } } }, expected: `services.${'a'.repeat(65)}: expected a service name of 1-64 characters`, why: 'name length' },
    { input: todo({ sandbox: { max_memory_mb: 0 } }), expected: 'services.todo.sandbox.max_memory_mb: expected a number of at least 1, got 0', why: 'sandbox limits are positive' },
    { input: todo({ env: { 'A=B': 'x' } }), expected: 'services.todo.env.A=B: expected an environment variable name without "="', why: 'env names' },
    { input: todo({ sandbox: { cgroups: 'yes' } }), expected: 'services.todo.sandbox.cgroups: expected one of "auto", "required", "off", got "yes"', why: 'cgroups mode' },
    { input: todo({ sandbox: { uid_range: [265_535, 200_000] } }), expected: 'services.todo.sandbox.uid_range: expected [first, last] with whole numbers from 1000 to 2147483647, first <= last, got an array', why: 'uid range order' },
    { input: todo({ sandbox: { uid_range: [0, 10] } }), expected: 'services.todo.sandbox.uid_range: expected [first, last]', why: 'never root or system uids' },
    { input: todo({ sandbox: { max_cpu_percent: 0 } }), expected: 'services.todo.sandbox.max_cpu_percent: expected a number greater than 0', why: 'a CPU quota is positive' },
  ])('$why (§3, §7)', ({ input, expected }) => {
    expect(errorOf(input)).toContain(`config.json: ${expected}`);
  });

  test('a disabled service is checked for types only: no command needed (§3)', () => {
    const config = parse({ services: { later: { enabled: false, description: 'not yet' }, todo: { command: ['node', 'x'] } } });
    expect(config.services.later).toMatchObject({ name: 'later', enabled: false, command: [] });
  });

  test('a disabled service pointing at a missing program loads (§3)', () => {
    const config = parse({ services: { shell: { enabled: 'false', command: ['python3', '/path/to/shell_mcp.py'] } } });
    expect(config.services.shell?.command).toEqual(['python3', '/path/to/shell_mcp.py']);
  });

  test('names of 1-64 letters, digits, "_" and "-" are accepted (§3)', () => {
    const name = `A-z_0${'9'.repeat(59)}`;
    expect(Object.keys(parse({ services: { [name]: { command: ['x'] } } }).services)).toEqual([name]);
  });

  test('session_mode shared, warm_pool 0 and a working_dir are kept; an empty working_dir means none (§7)', () => {
    const config = parse({
      services: {
        a: { command: ['x'], session_mode: 'shared', warm_pool: '0', sandbox: { working_dir: '/srv/a', allowed_paths: ['/tmp'] } },
        b: { command: ['x'], sandbox: { working_dir: '${WORKDIR|}' } },
      },
    });
    expect(config.services.a).toMatchObject({ session_mode: 'shared', warm_pool: 0, sandbox: { working_dir: '/srv/a', allowed_paths: ['/tmp'] } });
    expect(config.services.b?.sandbox.working_dir).toBeUndefined();
  });
});

describe('rate limiting (§8)', () => {
  test('limit strings and lists are parsed once, at load (§8)', () => {
    const config = parse({ rate_limiting: { default_limits: '100/day; 10/hour', call_limit: ['1/second', '5 per 2 minutes'], tools_limit: '' } });
    expect(config.rate_limiting.default_limits.map((l) => l.text)).toEqual(['100 per 1 day', '10 per 1 hour']);
    expect(config.rate_limiting.call_limit.map((l) => [l.text, l.windowMs])).toEqual([
      ['1 per 1 second', 1_000],
      ['5 per 2 minute', 120_000],
    ]);
    expect(config.rate_limiting.tools_limit).toEqual([]);
  });

  test.each([
    { input: { rate_limiting: { call_limit: '10 per min' } }, expected: "config.json: rate_limiting.call_limit: couldn't parse rate limit string '10 per min'", why: 'single string' },
    { input: { rate_limiting: { default_limits: ['200 per day', '5/sec'] } }, expected: "config.json: rate_limiting.default_limits[1]: couldn't parse rate limit string '5/sec'", why: 'list index in the path' },
    { input: { swaig: { limit: 600 } }, expected: 'config.json: swaig.limit: expected a rate-limit string or a list of them, got 600', why: 'not a string' },
  ])('an invalid limit string is an error naming the key path and the string: $why (§8)', ({ input, expected }) => {
    expect(errorOf(input)).toBe(expected);
  });

  test.each(['memory://', 'redis://localhost:6379/0', 'redis://:secret@cache:6379', 'rediss://user:secret@cache:6380/2'])(
    'storage_uri %s is accepted (§8)',
    (uri) => {
      expect(parse({ rate_limiting: { storage_uri: uri } }).rate_limiting.storage_uri).toBe(uri);
    },
  );

  test('an unsupported storage_uri is an error that quotes only its scheme, never its password (§8, §3.2)', () => {
    const message = errorOf({ rate_limiting: { storage_uri: 'memcached://:hunter2@cache:11211' } });
    expect(message).toBe('config.json: rate_limiting.storage_uri: expected memory://, redis://... or rediss://..., got scheme "memcached"');
  });
});

describe('logging (§3.3)', () => {
  test.each([
    { input: 'DEBUG', expected: 'debug', why: 'upper case' },
    { input: 'info', expected: 'info', why: 'lower case' },
    { input: 'Warning', expected: 'warn', why: 'Python name' },
    { input: 'WARN', expected: 'warn', why: 'short form' },
    { input: 'error', expected: 'error', why: 'error' },
    { input: 'CRITICAL', expected: 'fatal', why: 'Python CRITICAL is pino fatal' },
  ])('level $input → $expected ($why)', ({ input, expected }) => {
    expect(parse({ logging: { level: input } }).logging.level).toBe(expected);
  });

  test('an unknown level is an error (§3.3)', () => {
    expect(errorOf({ logging: { level: 'verbose' } })).toBe(
      'config.json: logging.level: expected DEBUG, INFO, WARNING, WARN, ERROR or CRITICAL, got "verbose"',
    );
  });

  test('file is kept; an empty file means none (§3.3)', () => {
    expect(parse({ logging: { file: '/var/log/gw.log' } }).logging.file).toBe('/var/log/gw.log');
    expect(parse({ logging: { file: '${LOG_FILE|}' } }).logging.file).toBeUndefined();
  });
});

describe('server and security (§3, §3.1)', () => {
  test.each([
    { input: true, expected: true, why: 'trust every hop' },
    { input: 'false', expected: false, why: 'boolean text after substitution' },
    { input: ['10.0.0.1', '::1', '192.168.0.0/16'], expected: ['10.0.0.1', '::1', '192.168.0.0/16'], why: 'addresses and ranges' },
    { input: '10.0.0.1, 10.0.0.2', expected: ['10.0.0.1', '10.0.0.2'], why: 'comma-separated from the environment' },
  ])('trust_proxy $input ($why) (§3, §8)', ({ input, expected }) => {
    expect(parse({ server: { trust_proxy: input } }).server.trust_proxy).toEqual(expected);
  });

  test('a trust_proxy entry that is not an address is an error (§3)', () => {
    expect(errorOf({ server: { trust_proxy: ['10.0.0.1', 'proxy.local'] } })).toBe(
      'config.json: server.trust_proxy: expected an IP address or CIDR range, got "proxy.local"',
    );
  });

  test('port 0 is allowed so tests can bind an ephemeral port (§3)', () => {
    expect(parse({ server: { port: 0 } }).server.port).toBe(0);
  });

  test.each([
    { input: { allowed_hosts: 'a.example.com, b.example.com' }, expected: { allowed_hosts: ['a.example.com', 'b.example.com'] }, why: 'comma-separated string' },
    { input: { allowed_hosts: ['*'], cors_origins: ['https://app.example.com'] }, expected: { allowed_hosts: ['*'], cors_origins: ['https://app.example.com'] }, why: 'lists' },
    { input: { cors_origins: '' }, expected: { cors_origins: [] }, why: 'empty string = no CORS' },
    { input: { max_request_size: '1048576', hsts_max_age: '0' }, expected: { max_request_size: 1_048_576, hsts_max_age: 0 }, why: 'numbers from strings' },
  ])('security: $why (§3.1)', ({ input, expected }) => {
    expect(parse({ security: input }).security).toMatchObject(expected);
  });

  test('an empty allowed_hosts is an error, not a gateway that refuses every Host (§3.1)', () => {
    expect(errorOf({ security: { allowed_hosts: '' } })).toBe('config.json: security.allowed_hosts: expected at least one entry ("*" allows any)');
  });

  test('secret values are never quoted in errors (§3.2)', () => {
    const cases = [
      { server: { auth_password: ['hunter2-password'] } },
      { server: { auth_token: { value: 'hunter2-token' } } },
      todo({ env: { API_KEY: ['hunter2-key'] } }),
      { swaig: { public_url: 'ftp://user:hunter2@gw.example.com' } },
    ];
    for (const raw of cases) expect(errorOf(raw)).not.toContain('hunter2');
  });
});

describe('swaig (§9)', () => {
  test('fillers, public_url and limit are read (§9)', () => {
    const config = parse({
      swaig: {
        public_url: 'https://user:pass@gw.example.com',
        fillers: { todo: { 'en-US': ['One moment', 'Checking'] } },
        limit: '100 per minute',
        max_response_chars: '4000',
        include_hangup_hook: 'false',
      },
    });
    expect(config.swaig).toMatchObject({
      public_url: 'https://user:pass@gw.example.com',
      fillers: { todo: { 'en-US': ['One moment', 'Checking'] } },
      max_response_chars: 4000,
      include_hangup_hook: false,
    });
    expect(config.swaig.limit.map((l) => l.text)).toEqual(['100 per 1 minute']);
  });

  test.each([
    { input: { public_url: 'gw.example.com' }, expected: 'config.json: swaig.public_url: expected an http:// or https:// URL', why: 'scheme required' },
    { input: { fillers: { todo: ['x'] } }, expected: 'config.json: swaig.fillers.todo: expected an object, got an array', why: 'fillers are per language' },
    { input: { fillers: { todo: { en: 'x' } } }, expected: 'config.json: swaig.fillers.todo.en: expected an array of strings, got "x"', why: 'a list of phrases' },
    {
      input: { fillers: { todo: { 'en-ZA': ['One moment'] } } },
      expected: 'config.json: swaig.fillers.todo: expected a language code the platform knows ("default", "auto", "en-US", "es", …), got "en-ZA"',
      why: 'a language the platform does not know',
    },
    {
      input: { fillers: { todo: { en: ['One moment'], es: ['Un momento'] } } },
      expected: 'config.json: swaig.fillers.todo: expected exactly one language per service (the platform allows one), got 2',
      why: 'one language key per fillers object',
    },
  ])('$why (§9)', ({ input, expected }) => {
    expect(errorOf({ swaig: input })).toBe(expected);
  });
});

describe('cluster (§12)', () => {
  const cluster = (extra: Record<string, unknown> = {}) => ({
    cluster: { instance_url: 'http://10.0.0.5:8080/', secret: '${MCP_CLUSTER_SECRET}', ...extra },
  });

  test('absent means a single instance; present gets its defaults and a secret from the environment', () => {
    expect(parse({}).cluster).toBeUndefined();
    expect(parse(cluster({ heartbeat: '0.5' }), { MCP_CLUSTER_SECRET: 'a-long-enough-secret' }).cluster).toEqual({
      instance_url: 'http://10.0.0.5:8080',
      secret: 'a-long-enough-secret',
      heartbeat: 0.5,
      owner_timeout: 6,
      drain_timeout: 120,
    });
  });

  test.each<{ extra: Record<string, unknown>; env: Record<string, string>; expected: string; why: string }>([
    { extra: {}, env: {}, expected: 'cluster.secret: expected a non-empty string', why: 'an unset secret variable' },
    { extra: { secret: 'short' }, env: {}, expected: 'cluster.secret: expected at least 16 characters', why: 'guessable from a captured hop' },
    { extra: { instance_url: '10.0.0.5:8080' }, env: { MCP_CLUSTER_SECRET: 'a-long-enough-secret' }, expected: 'cluster.instance_url: expected http://host:port', why: 'no scheme' },
    { extra: { storage_uri: 'memory://' }, env: { MCP_CLUSTER_SECRET: 'a-long-enough-secret' }, expected: 'cluster.storage_uri: expected redis://', why: 'one process memory cannot be shared' },
    { extra: { heartbeat: 6 }, env: { MCP_CLUSTER_SECRET: 'a-long-enough-secret' }, expected: 'cluster.owner_timeout: expected more than cluster.heartbeat', why: 'every owner would look dead' },
  ])('$why is refused', ({ extra, env, expected }) => {
    expect(errorOf(cluster(extra), env)).toContain(expected);
  });
});
