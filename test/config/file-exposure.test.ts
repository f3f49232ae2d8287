import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { exposedCredentialsWarning } from '../../src/config/file-exposure.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcp-gw-exposure-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const withToken = parseConfig({ server: { auth_token: 'a-long-enough-token-123' } }, { env: {}, source: 'test' });
const withoutCredentials = parseConfig({}, { env: {}, source: 'test' });

describe('a config file with credentials readable by other users (§14)', () => {
  test.each([
    { mode: 0o644, config: withToken, warns: true },
    { mode: 0o640, config: withToken, warns: true },
    { mode: 0o600, config: withToken, warns: false },
    { mode: 0o644, config: withoutCredentials, warns: false },
  ])('mode $mode: warns $warns', async ({ mode, config, warns }) => {
    const path = join(dir, `config-${mode.toString(8)}-${warns}.json`);
    await writeFile(path, '{}');
    await chmod(path, mode);
    const warning = await exposedCredentialsWarning(path, config);
    if (warns) expect(warning).toBe(`${path} holds credentials and other users can read it (mode ${mode.toString(8)}), MCP servers included: chmod 600 it`);
    else expect(warning).toBeUndefined();
  });
});
