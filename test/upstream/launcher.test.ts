import { existsSync } from 'node:fs';
import { describe, expect, onTestFinished, test } from 'vitest';
import { FIXTURE_SERVER, fixtureService, PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { readableCopy } from '../helpers/readable-copy.js';
import { privateUser } from '../helpers/unprivileged-user.js';
import { waitFor } from '../helpers/wait-for.js';

const PYTHON_SERVER = new URL('../fixtures/servers/fixture-server.py', import.meta.url).pathname;

async function gatewayFor(...args: Parameters<typeof startTestGateway>): Promise<TestGateway> {
  const gw = await startTestGateway(...args);
  onTestFinished(() => gw.close());
  return gw;
}

async function childView(gw: TestGateway, service: string, sessionId: string): Promise<{ env: Record<string, string>; uid: number; cwd: string; limits: string }> {
  const response = await gw.call(service, { tool: 'env', session_id: sessionId });
  expect(response.status).toBe(200);
  return JSON.parse(response.body.result);
}

/** The gateway's own environment as a test gives it: a secret and a loader variable that must not reach children. */
const GATEWAY_ENV = { ...process.env, LD_PRELOAD: '/nonexistent/inject.so', MY_GATEWAY_SECRET: PASSWORD, GATEWAY_ONLY: 'visible-when-full' };

describe('sandbox through the gateway (§7)', () => {
  test('Node and Python servers run under the default sandbox with a restricted environment and private homes', async () => {
    const gw = await gatewayFor(
      { services: { node: fixtureService(), python: { command: ['python3', PYTHON_SERVER] } } },
      { env: GATEWAY_ENV },
    );
    const first = await childView(gw, 'node', 'one');
    const second = await childView(gw, 'node', 'two');
    for (const view of [first, second]) {
      expect(view.env['HOME']).toBe(view.env['TMPDIR']);
      expect(view.env['LANG']).toBe('C.UTF-8');
      expect(view.env).not.toHaveProperty('LD_PRELOAD');
      expect(view.env).not.toHaveProperty('MY_GATEWAY_SECRET');
      expect(view.env).not.toHaveProperty('GATEWAY_ONLY');
      expect(JSON.stringify(view.env)).not.toContain(PASSWORD);
      expect(existsSync(view.env['HOME']!)).toBe(true);
    }
    expect(first.env['HOME']).not.toBe(second.env['HOME']);
    expect(first.limits).toMatch(/Max cpu time\s+300\s+305\s+seconds/);
    expect(first.limits).toMatch(/Max file size\s+10485760\s+10485760\s+bytes/);

    const python = await childView(gw, 'python', 'one');
    expect(python.env).not.toHaveProperty('MY_GATEWAY_SECRET');
    expect(python.env['HOME']).not.toBe(first.env['HOME']);

    await gw.request('DELETE', '/sessions/one');
    await waitFor(() => !existsSync(first.env['HOME']!) && !existsSync(python.env['HOME']!), { what: 'private directories removed' });
    expect(existsSync(second.env['HOME']!)).toBe(true);
  });

  test('restricted_env false passes the gateway environment minus loader variables and secrets', async () => {
    const gw = await gatewayFor({ services: { full: fixtureService([], { sandbox: { restricted_env: false } }) } }, { env: GATEWAY_ENV });
    const view = await childView(gw, 'full', 's');
    expect(view.env['GATEWAY_ONLY']).toBe('visible-when-full');
    expect(view.env).not.toHaveProperty('LD_PRELOAD');
    expect(view.env).not.toHaveProperty('MY_GATEWAY_SECRET');
  });

  test('a server over max_memory_mb is stopped and its calls answer 502 naming the limit', async () => {
    const gw = await gatewayFor({ services: { hog: fixtureService([], { sandbox: { max_memory_mb: 100 } }) } });
    const waiting = gw.call('hog', { tool: 'slow', session_id: 'm', arguments: { ms: 60_000 } });
    await gw.call('hog', { tool: 'alloc', session_id: 'm', arguments: { mb: 200 } });
    const response = await waiting;
    expect(response.status).toBe(502);
    // The kernel (cgroup) or the resident-memory watchdog stops it, whichever the host has.
    expect(response.body.error).toMatch(/^MCP server for 'hog' exited \(memory limit of 100 MiB exceeded[ :(]/);
  });

  test('a busy-looping server is stopped at its CPU limit; other sessions keep working', async () => {
    const gw = await gatewayFor({ services: { spin: fixtureService([], { sandbox: { max_cpu_seconds: 1 } }) } });
    await gw.call('spin', { tool: 'echo', session_id: 'calm', arguments: { text: 'x' } });
    const response = await gw.call('spin', { tool: 'burn', session_id: 'busy' });
    expect(response.status).toBe(502);
    expect(response.body.error).toMatch(/^MCP server for 'spin' exited \((CPU time limit exceeded \(SIGXCPU\)|signal SIGKILL)\)/);
    expect((await gw.call('spin', { tool: 'echo', session_id: 'calm', arguments: { text: 'fine' } })).body.result).toBe('fine');
  });

  test('under bubblewrap a CPU-limit kill is reported as the CPU time limit, not as bwrap exit code 152', async () => {
    const fs = await import('node:fs/promises');
    const allowed = await fs.mkdtemp('/tmp/mcp-gw-allowed-');
    onTestFinished(() => fs.rm(allowed, { recursive: true, force: true }));
    const gw = await gatewayFor({ services: { spin: fixtureService([], { sandbox: { max_cpu_seconds: 1, allowed_paths: [allowed] } }) } });
    const response = await gw.call('spin', { tool: 'burn', session_id: 'busy' });
    expect(response.status).toBe(502);
    expect(response.body.error).toMatch(/^MCP server for 'spin' exited \(CPU time limit exceeded \(SIGXCPU\)\)/);
  });

  test('with allowed_paths only those paths and the private directory are writable (bubblewrap)', async () => {
    const allowed = await import('node:fs/promises').then((fs) => fs.mkdtemp('/tmp/mcp-gw-allowed-'));
    const gw = await gatewayFor({ services: { iso: fixtureService([], { sandbox: { allowed_paths: [allowed] } }) } });
    const write = async (path: string) =>
      (await gw.call('iso', { tool: 'write_file', session_id: 'fs', arguments: { path, bytes: 10 } })).body;
    expect(await write(`${allowed}/ok.txt`)).toMatchObject({ is_error: false });
    const view = await childView(gw, 'iso', 'fs');
    expect(await write(`${view.env['HOME']}/private.txt`)).toMatchObject({ is_error: false });
    expect(await write('/usr/evil.txt')).toMatchObject({ is_error: true });
    expect(await write(`${process.cwd()}/evil.txt`)).toMatchObject({ is_error: true });
    expect(existsSync(`${process.cwd()}/evil.txt`)).toBe(false);
    expect(existsSync('/root/.bashrc') ? (await write('/root/evil.txt')).is_error : true).toBe(true);
  });

  test('drop_privileges runs the server as an unprivileged user', async () => {
    const { path: server, dir } = await readableCopy(FIXTURE_SERVER);
    const user = privateUser();
    const gw = await gatewayFor(
      { services: { low: { ...fixtureService(), command: [process.execPath, server], sandbox: { drop_privileges: true, working_dir: dir } } } },
      { unprivilegedUser: user },
    );
    const view = await childView(gw, 'low', 'u');
    expect(view.uid).toBe(process.getuid?.() === 0 ? user.uid : process.getuid?.());
  });
});
