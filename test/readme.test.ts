import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfigFile, UNKNOWN_KEY_WARNING } from '../src/config/load.js';

let readme: string;
let dir: string;

beforeAll(async () => {
  readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  dir = await mkdtemp(join(tmpdir(), 'readme-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The ```jsonc blocks of one README section, in order. */
function jsoncBlocks(section: string): string[] {
  const start = readme.indexOf(`\n## ${section}\n`);
  expect(start, `README section ${section}`).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  const text = readme.slice(start, end === -1 ? undefined : end);
  return [...text.matchAll(/```jsonc\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

async function load(name: string, text: string) {
  const path = join(dir, name);
  await writeFile(path, text);
  const warnings: Array<{ message: string; path: string }> = [];
  const config = await loadConfigFile(path, { env: {}, onWarning: (message, key) => void warnings.push({ message, path: key }) });
  return { config, unknownKeys: warnings.filter((warning) => warning.message === UNKNOWN_KEY_WARNING) };
}

describe('the README examples load as written', () => {
  test('the configuration block, comments and all', async () => {
    const [block] = jsoncBlocks('Configuration');
    const { config, unknownKeys } = await load('config.jsonc', block!);
    expect(unknownKeys).toEqual([]);
    expect(config.services['todo']).toMatchObject({ start_timeout: 30, call_timeout: 30, tools: { allow: ['*'], deny: [] } });
    expect(config.rate_limiting.call_limit_scope).toBe('session');
  });

  test('each service example of "Real-world servers" is a valid service entry', async () => {
    const blocks = jsoncBlocks('Real-world servers');
    expect(blocks.length).toBeGreaterThan(0);
    for (const [index, block] of blocks.entries()) {
      const { config, unknownKeys } = await load(`service-${index}.jsonc`, `{"server": {"auth_token": "t"}, "services": {${block}}}`);
      expect(unknownKeys).toEqual([]);
      expect(Object.keys(config.services)).toHaveLength(1);
    }
  });
});
