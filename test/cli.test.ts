import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, onTestFinished, test } from 'vitest';
import { exitOf, run } from './helpers/cli-process.js';
import { isRunning } from './helpers/processes.js';
import { waitFor } from './helpers/wait-for.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/config/', import.meta.url));

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('mcp-gateway command (§2)', () => {
  test('the README quick start: embedded default, the demo to-do service over curl-like calls, clean SIGTERM', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'mcp-gw-cli-'));
    const gateway = run([], { cwd });
    const { url } = await gateway.logLine('listening');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const services = await gateway.logLine('services');
    expect(services['services']).toEqual({ todo: 5 });

    const call = async (sessionId: string, tool: string, args: Record<string, unknown> = {}) => {
      const response = await fetch(`${url}/services/todo/call`, {
        method: 'POST',
        headers: { authorization: basic('admin', 'changeme'), 'content-type': 'application/json' },
        body: JSON.stringify({ tool, session_id: sessionId, arguments: args }),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as { result: string };
    };
    expect((await call('call-1', 'add_todo', { text: 'buy milk' })).result).toBe('Added todo #1: buy milk');
    expect((await call('call-1', 'list_todos')).result).toContain('buy milk');
    expect((await call('call-2', 'list_todos')).result).not.toContain('buy milk');

    const sessions = (await (await fetch(`${url}/sessions`, { headers: { authorization: basic('admin', 'changeme') } })).json()) as Record<string, any>;
    const pids = Object.values(sessions).map((session) => session.services.todo.pid as number);
    expect(pids).toHaveLength(2);

    gateway.child.kill('SIGTERM');
    expect(await exitOf(gateway.child)).toBe(0);
    for (const pid of pids) await waitFor(() => !isRunning(pid), { what: `server ${pid} gone`, deadlineMs: 2000 });
  });

  test('`npm start` hands SIGTERM to the gateway itself, which stops cleanly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcp-gw-cli-'));
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ server: { host: '127.0.0.1', port: 0, auth_token: 'tok' }, services: {}, session: { sandbox_dir: join(dir, 'sandbox') } }));
    const npm = spawn('npm', ['start', '--silent', '--', '-c', config], { cwd: fileURLToPath(new URL('..', import.meta.url)) });
    onTestFinished(() => {
      if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
    });
    let out = '';
    npm.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor(() => out.includes('"msg":"listening"'), { what: 'the gateway listening', deadlineMs: 30_000 });
    const pid = Number(/"pid":(\d+)/.exec(out)?.[1]);
    onTestFinished(() => {
      if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    });
    npm.kill('SIGTERM');
    await waitFor(() => !isRunning(pid), { what: `gateway ${pid} gone`, deadlineMs: 15_000 });
    expect(out).toContain('"msg":"stopped"');
  });

  test('SIGTERM ends every session tree, wrappers and grandchildren included', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'mcp-gw-cli-'));
    const wrapper = fileURLToPath(new URL('./fixtures/servers/wrapper.sh', import.meta.url));
    await writeFile(
      join(cwd, 'config.json'),
      JSON.stringify({ server: { host: '127.0.0.1', port: 0, auth_token: 'tok' }, services: { w: { command: ['/bin/sh', wrapper] } } }),
    );
    const gateway = run([], { cwd });
    const { url } = await gateway.logLine('listening');
    await gateway.logLine('services');
    const grandchildren: number[] = [];
    for (const id of ['s1', 's2']) {
      const response = await fetch(`${url}/services/w/call`, {
        method: 'POST',
        headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
        body: JSON.stringify({ tool: 'spawn_grandchild', session_id: id }),
      });
      grandchildren.push(Number(((await response.json()) as { result: string }).result));
    }
    const sessions = (await (await fetch(`${url}/sessions`, { headers: { authorization: 'Bearer tok' } })).json()) as Record<string, any>;
    const leaders = Object.values(sessions).map((session) => session.services.w.pid as number);
    gateway.child.kill('SIGTERM');
    expect(await exitOf(gateway.child)).toBe(0);
    for (const pid of [...leaders, ...grandchildren]) expect(isRunning(pid)).toBe(false);
  });

  test('--version prints the version; --help describes the options', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'mcp-gw-cli-'));
    const version = run(['--version'], { cwd });
    let out = '';
    version.child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    expect(await exitOf(version.child)).toBe(0);
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = run(['--help'], { cwd });
    let helpText = '';
    help.child.stdout.on('data', (chunk: Buffer) => (helpText += chunk.toString()));
    expect(await exitOf(help.child)).toBe(0);
    expect(helpText).toContain('--config');
    expect(helpText).toContain('--check');
  });

  test.each([
    { why: 'a missing file', file: 'missing.json', content: undefined, message: /missing\.json/ },
    { why: 'invalid JSON', file: 'bad.json', content: '{"server": ', message: /bad\.json/ },
    { why: 'a schema error', file: 'schema.json', content: '{"server":{"port":"abc","auth_token":"t"},"services":{}}', message: /schema\.json: server\.port/ },
    { why: 'no credentials', file: 'nocreds.json', content: '{"services":{}}', message: /nocreds\.json: no credentials/ },
  ])('-c with $why exits 2 with a one-line reason', async ({ file, content, message }) => {
    const cwd = await mkdtemp(join(tmpdir(), 'mcp-gw-cli-'));
    if (content !== undefined) await writeFile(join(cwd, file), content);
    const gateway = run(['-c', file], { cwd });
    expect(await exitOf(gateway.child)).toBe(2);
    const stderr = gateway.stderr().trim();
    expect(stderr.split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
  });

  test('--check exits 1 naming an unknown key; the same config runs with a warning', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'mcp-gw-cli-'));
    await writeFile(join(cwd, 'config.json'), JSON.stringify({ server: { auth_token: 'tok', host: '127.0.0.1' }, services: {}, sesion: { default_timeout: 60 } }));
    const check = run(['--check'], { cwd });
    expect(await exitOf(check.child)).toBe(1);
    expect(check.stderr()).toContain('unknown config key sesion');
    const gateway = run([], { cwd });
    const warning = await gateway.logLine('unknown config key ignored');
    expect(warning['path']).toBe('sesion');
  });

  test('missing credentials name the unset variable they came from', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'mcp-gw-cli-'));
    await writeFile(join(cwd, 'config.json'), JSON.stringify({ server: { auth_token: '${GW_TEST_UNSET_TOKEN}' }, services: {} }));
    const gateway = run([], { cwd });
    expect(await exitOf(gateway.child)).toBe(2);
    expect(gateway.stderr()).toMatch(/no credentials configured.*server\.auth_token comes from \$\{GW_TEST_UNSET_TOKEN\}, which is not set/);
  });

  test('--check reports each service and exits 1 when one fails', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'mcp-gw-cli-'));
    const fixture = fileURLToPath(new URL('./fixtures/servers/fixture-server.mjs', import.meta.url));
    await writeFile(
      join(cwd, 'config.json'),
      JSON.stringify({
        server: { auth_token: 'tok' },
        services: {
          good: { command: [process.execPath, fixture] },
          bad: { command: [process.execPath, fixture, '--mode', 'crash-at-start'] },
        },
      }),
    );
    const check = run(['--check'], { cwd });
    let out = '';
    check.child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    expect(await exitOf(check.child)).toBe(1);
    expect(out).toMatch(/^SERVICE +STATUS +TOOLS +START +DETAIL$/m);
    expect(out).toMatch(/^good +ok +\d+ +\d+ ms +sandbox: /m);
    expect(out).toMatch(/^bad +error +- +\d+ ms +Failed to start MCP service 'bad': .*fatal: cannot start/m);
  });

  test('the deployment-shaped fixture config loads as it is with --check semantics for its disabled services', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'mcp-gw-cli-'));
    const check = run(['--check', '-c', join(FIXTURES, 'minimal.json')], { cwd, env: { MCP_AUTH_PASSWORD: 'a-long-password' } });
    let out = '';
    check.child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    // minimal.json points at ./my_mcp_server.py, which does not exist here: the config loads, the service fails.
    expect(await exitOf(check.child)).toBe(1);
    expect(out).toMatch(/^my-service +error +- +\d+ ms +Failed to start MCP service 'my-service'/m);
  });
});
