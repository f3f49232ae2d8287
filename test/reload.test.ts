import { kill } from 'node:process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { exitOf, run, type Running } from './helpers/cli-process.js';
import { FIXTURE_SERVER } from './helpers/gateway.js';
import { isRunning } from './helpers/processes.js';
import { RUN_MARKER_KEY, runMarker } from './helpers/run-marker.js';
import { waitFor } from './helpers/wait-for.js';

const TOKEN = 'reload-token';
const SERVER = { host: '127.0.0.1', port: 0, auth_token: TOKEN };
const MARKER = { [RUN_MARKER_KEY]: runMarker() };

const fixture = (description: string) => ({ command: [process.execPath, FIXTURE_SERVER], description, warm_pool: 0, env: MARKER });

async function client(gateway: Running) {
  const { url } = await gateway.logLine('listening');
  const request = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  const call = async (service: string, sessionId: string, tool: string, args: Record<string, unknown> = {}) => {
    const response = await request('POST', `/services/${service}/call`, { tool, session_id: sessionId, arguments: args });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body as { result: string; session_created: boolean };
  };
  const pidOf = async (sessionId: string, service: string): Promise<number | undefined> =>
    (await request('GET', '/sessions')).body[sessionId]?.services[service]?.pid;
  return { request, call, pidOf };
}

describe('SIGHUP reloads the config (SPEC §15)', () => {
  test('adds, changes and removes services without touching live sessions of kept ones; a broken file changes nothing', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'mcp-gw-reload-'));
    const file = join(cwd, 'config.json');
    const write = (services: Record<string, unknown>) =>
      writeFile(file, JSON.stringify({ server: SERVER, rate_limiting: { enabled: false }, services }));
    const kept = fixture('kept as it is');
    await write({ keep: kept, change: fixture('version 1'), gone: fixture('going away') });

    const gateway = run(['-c', file], { cwd });
    const { request, call, pidOf } = await client(gateway);
    await gateway.logLine('services');

    // The kept session's state: each add_tool registers one more tool in that server process.
    let added = 1;
    expect((await call('keep', 'caller', 'add_tool')).result).toBe('added_1');
    const keepPid = (await pidOf('caller', 'keep'))!;
    await call('change', 'caller', 'pid');
    const oldChangePid = (await pidOf('caller', 'change'))!;
    await call('gone', 'caller', 'pid');
    const gonePid = (await pidOf('caller', 'gone'))!;
    expect([keepPid, oldChangePid, gonePid].every(isRunning)).toBe(true);

    const keptSessionIsUntouched = async (): Promise<void> => {
      expect(await pidOf('caller', 'keep')).toBe(keepPid);
      added += 1;
      const next = await call('keep', 'caller', 'add_tool');
      expect(next.session_created).toBe(false);
      expect(next.result).toBe(`added_${added}`);
    };

    // Reload 1: one service added, one changed, one removed.
    const next = { keep: kept, change: fixture('version 2'), added: fixture('new here') };
    await write(next);
    kill(gateway.child.pid!, 'SIGHUP');
    const reloaded = await gateway.logLine('configuration reloaded');
    expect(reloaded).toMatchObject({ added: ['added'], changed: ['change'], removed: ['gone'], unchanged: ['keep'] });
    await waitFor(async () => (await request('GET', '/services')).body.added?.tools > 0, { what: 'the added service to be listed' });
    const services = (await request('GET', '/services')).body;
    expect(Object.keys(services).sort()).toEqual(['added', 'change', 'keep']);
    expect(services.change.description).toBe('version 2');
    expect((await call('added', 'caller', 'echo', { text: 'hello' })).result).toBe('hello');
    await waitFor(() => !isRunning(gonePid), { what: 'the removed service\'s server to end' });
    expect((await request('POST', '/services/gone/call', { tool: 'pid', session_id: 'caller' })).status).toBe(404);
    expect(await pidOf('caller', 'gone')).toBeUndefined();
    // The changed service's live session keeps its server; a new session gets the new definition.
    expect((await call('change', 'caller', 'pid')).result).toBe(String(oldChangePid));
    expect(Number((await call('change', 'newcomer', 'pid')).result)).not.toBe(oldChangePid);
    await keptSessionIsUntouched();

    // Reload 2: a broken file is logged with its key path and changes nothing.
    await writeFile(file, JSON.stringify({ server: SERVER, services: { ...next, keep: { ...kept, call_timeout: 'soon' } } }));
    kill(gateway.child.pid!, 'SIGHUP');
    const failed = await gateway.logLine('configuration reload failed, running configuration kept: ' + `${file}: services.keep.call_timeout: expected a number, got "soon"`);
    expect(failed).toMatchObject({ event: 'config_reload_failed', path: 'services.keep.call_timeout' });
    expect(Object.keys((await request('GET', '/services')).body).sort()).toEqual(['added', 'change', 'keep']);
    await keptSessionIsUntouched();
    // --check on the broken file reports the same error.
    const check = run(['--check', '-c', file], { cwd });
    expect(await exitOf(check.child)).toBe(2);
    expect(check.stderr()).toContain('services.keep.call_timeout: expected a number, got "soon"');

    // Reload 3: the good file again: nothing changes.
    await write(next);
    kill(gateway.child.pid!, 'SIGHUP');
    expect(await gateway.logLine('configuration reloaded', 2)).toMatchObject({ added: [], changed: [], removed: [], unchanged: ['keep', 'change', 'added'] });
    await keptSessionIsUntouched();
    expect(isRunning(oldChangePid)).toBe(true);

    gateway.child.kill('SIGTERM');
    expect(await exitOf(gateway.child)).toBe(0);
    expect([keepPid, oldChangePid].some(isRunning)).toBe(false);
  }, 120_000);

  test('a config with only mcpServers (and server) serves those servers with their env', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'mcp-gw-mcpservers-'));
    const file = join(cwd, 'config.json');
    await writeFile(
      file,
      JSON.stringify({
        server: SERVER,
        mcpServers: {
          plain: { command: process.execPath, args: [FIXTURE_SERVER], env: MARKER },
          probe: { type: 'stdio', command: process.execPath, args: [FIXTURE_SERVER], env: { ...MARKER, PROBE_SETTING: 'from-mcpServers' } },
        },
      }),
    );
    const gateway = run(['-c', file], { cwd });
    const { call } = await client(gateway);
    const { services } = await gateway.logLine('services');
    expect(Object.keys(services)).toEqual(['plain', 'probe']);
    expect(services.plain).toBeGreaterThan(0);
    expect((await call('plain', 'c1', 'echo', { text: 'from a client config' })).result).toBe('from a client config');
    const { env } = JSON.parse((await call('probe', 'c1', 'env')).result) as { env: Record<string, string> };
    expect(env['PROBE_SETTING']).toBe('from-mcpServers');
    gateway.child.kill('SIGTERM');
    expect(await exitOf(gateway.child)).toBe(0);
  }, 60_000);
});
