import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ServiceReport } from '../../src/gateway.js';
import { FIXTURE_SERVER, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let dir: string;
let reports: ServiceReport[];

/**
 * The fixture server packed as an npm package, so `npx -y` installs it the way it installs a
 * server from the registry (into the npm cache's _npx folder), without depending on the network.
 */
async function packFixtureServer(): Promise<string> {
  const pkg = join(dir, 'pkg');
  await mkdir(join(pkg, 'bin'), { recursive: true });
  await copyFile(FIXTURE_SERVER, join(pkg, 'bin', 'server.mjs'));
  await writeFile(
    join(pkg, 'package.json'),
    JSON.stringify({ name: 'gateway-fixture-server', version: '1.0.0', type: 'module', bin: { 'gateway-fixture-server': 'bin/server.mjs' } }),
  );
  execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: pkg, env: { ...process.env, npm_config_cache: join(dir, 'pack-cache') } });
  return join(dir, 'gateway-fixture-server-1.0.0.tgz');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'package-cache-'));
  const tarball = await packFixtureServer();
  gw = await startTestGateway(
    {
      services: {
        runner: {
          command: ['npx', '-y', `--package=${tarball}`, 'gateway-fixture-server'],
          // Outside any checkout, so npx cannot find the package in a node_modules folder.
          sandbox: { working_dir: dir },
          start_timeout: 60,
        },
      },
    },
    { skipValidation: true },
  );
  reports = await gw.gateway.validateServices();
});
afterAll(async () => {
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('package-runner servers and the shared package cache', () => {
  test('the start-up check fills the gateway-owned npm cache', () => {
    expect(reports).toMatchObject([{ service: 'runner', ok: true }]);
    expect(existsSync(join(gw.config.session.sandbox_dir, '.package-cache', 'gateway', 'npm', '_npx'))).toBe(true);
  });

  test('a new session of an `npx -y` service answers its first call from the cache, with its own HOME', async () => {
    const response = await gw.call('runner', { tool: 'env', session_id: 'first-caller' });
    expect(response.status).toBe(200);
    const env = JSON.parse(response.body.result).env as Record<string, string>;
    expect(env['npm_config_cache']).toBe(join(gw.config.session.sandbox_dir, '.package-cache', 'gateway', 'npm'));
    // <sandbox_dir>/<gateway instance>/<service>/<session>-<random> (see containment/instance.ts).
    expect(env['HOME']!.startsWith(gw.config.session.sandbox_dir) && env['HOME']!.includes('/runner/')).toBe(true);
  });
});
