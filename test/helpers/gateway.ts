import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway.js';
import { createLogger } from '../../src/log.js';
import { processesWith } from './processes.js';
import { RUN_MARKER_KEY, runMarker } from './run-marker.js';

export const FIXTURE_SERVER = fileURLToPath(new URL('../fixtures/servers/fixture-server.mjs', import.meta.url));
export const FIXTURE_WRAPPER = fileURLToPath(new URL('../fixtures/servers/wrapper.sh', import.meta.url));
export const DEMO_SERVER = fileURLToPath(new URL('../../demo/todo-server.js', import.meta.url));

export const USER = 'admin';
export const PASSWORD = 'test-password-1';
export const TOKEN = 'test-token-abc';
export const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

/** Environment key that tells this gateway's children apart from other tests' children. */
const GATEWAY_MARKER_KEY = 'MCP_TEST_GATEWAY';

export interface TestGateway {
  url: string;
  gateway: Gateway;
  config: Config;
  /** Captured JSON log lines. */
  logs: string[];
  /** Live processes started by this gateway (children and grandchildren). */
  processes(): Promise<number[]>;
  request(method: string, path: string, options?: { body?: unknown; headers?: Record<string, string>; raw?: string }): Promise<TestResponse>;
  call(service: string, body: Record<string, unknown>): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: any;
}

/** A fixture-server service entry; `modes` pick its misbehaviour (see fixture-server.mjs). */
export function fixtureService(modes: string[] = [], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    command: [process.execPath, FIXTURE_SERVER, ...modes.flatMap((mode) => ['--mode', mode])],
    description: `fixture ${modes.join(' ') || 'plain'}`,
    ...extra,
  };
}

/**
 * Starts a real gateway on 127.0.0.1:<random port> with `raw` merged over test defaults
 * (credentials, no rate limiting, a private sandbox directory). Every service gets the run marker
 * and a per-gateway marker in its environment so tests can count exactly their own processes.
 */
export async function startTestGateway(
  raw: { services: Record<string, Record<string, unknown>> } & Record<string, unknown>,
  options: Partial<GatewayOptions> & { env?: Record<string, string | undefined>; skipValidation?: boolean } = {},
): Promise<TestGateway> {
  const id = randomUUID();
  const sandboxDir = await mkdtemp(join(tmpdir(), 'mcp-gw-test-'));
  const services = Object.fromEntries(
    Object.entries(raw.services).map(([name, service]) => [
      name,
      // Tests count processes: no warm servers unless a test asks for them. Servers run as the
      // gateway's user unless a test asks for per-session uids: fixtures and temp files of a
      // checkout under a 0700 directory are out of reach of other uids (test/containment covers them).
      { warm_pool: 0, ...service, sandbox: { session_uids: false, ...(service['sandbox'] as object | undefined) }, env: { [RUN_MARKER_KEY]: runMarker(), [GATEWAY_MARKER_KEY]: id, ...(service['env'] as object | undefined) } },
    ]),
  );
  const config = parseConfig(
    {
      ...raw,
      server: { host: '127.0.0.1', port: 0, auth_user: USER, auth_password: PASSWORD, auth_token: TOKEN, ...(raw['server'] as object | undefined) },
      services,
      session: { sandbox_dir: sandboxDir, ...(raw['session'] as object | undefined) },
      rate_limiting: { enabled: false, ...(raw['rate_limiting'] as object | undefined) },
    },
    { env: options.env ?? {}, source: 'test' },
  );
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const { logger } = await createLogger({ level: 'info', stream });
  const gateway = await createGateway(config, { logger, env: options.env ?? process.env, ...options });
  await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  const address = gateway.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `${gateway.isTls ? 'https' : 'http'}://127.0.0.1:${port}`;
  if (!options.skipValidation) await gateway.validateServices();

  let closed = false;
  const request: TestGateway['request'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { authorization: BASIC, ...opts.headers };
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${url}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: keep the text for the assertion message.
    }
    return { status: response.status, headers: response.headers, body: parsed };
  };
  return {
    url,
    gateway,
    config,
    logs,
    processes: () => processesWith(id, GATEWAY_MARKER_KEY),
    request,
    call: (service, body) => request('POST', `/services/${service}/call`, { body }),
    async close() {
      if (closed) return;
      closed = true;
      await gateway.close();
      await rm(sandboxDir, { recursive: true, force: true });
    },
  };
}
