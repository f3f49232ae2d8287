/**
 * The MCP face loads the MCP server SDK on its first request (faces/mcp/routes.ts): a gateway used
 * only over REST and SWAIG never holds that code in memory. Checked on the compiled gateway in a
 * process of its own, with a module hook recording every module it loads.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';
import { FIXTURE_SERVER } from '../../helpers/gateway.js';

const RECORD_LOADS = fileURLToPath(new URL('../../fixtures/lazy/record-loads.mjs', import.meta.url));
const GATEWAY_THEN_MCP = fileURLToPath(new URL('../../fixtures/lazy/gateway-then-mcp.mjs', import.meta.url));
const SERVER_SDK = '/node_modules/@modelcontextprotocol/server/';

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the MCP server SDK is loaded by the first MCP request, not by a REST call', async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcp-gw-lazy-'));
  const log = join(dir, 'loads.txt');
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', RECORD_LOADS, GATEWAY_THEN_MCP, FIXTURE_SERVER], {
    env: { ...process.env, MCP_GATEWAY_LOAD_LOG: log },
    timeout: 30_000,
  });
  expect(JSON.parse(stdout)).toEqual([200, 200]);
  const loads = (await readFile(log, 'utf8')).split('\n');
  const mark = loads.indexOf('MARK first MCP request');
  expect(mark).toBeGreaterThan(0);
  expect(loads.slice(0, mark).filter((url) => url.includes(SERVER_SDK))).toEqual([]);
  expect(loads.slice(mark).some((url) => url.includes(SERVER_SDK))).toBe(true);
  // The gateway itself was loaded through the hook, so an empty "before" is not an empty log.
  expect(loads.slice(0, mark).some((url) => url.endsWith('/dist/gateway.js'))).toBe(true);
});
