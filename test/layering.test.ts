import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** Layers from the bottom up (STYLE §2.2): a file may import its own layer and the ones below. */
const LAYERS = ['config', 'upstream', 'sessions', 'faces', 'cluster', 'http', 'gateway', 'cli', 'reaper'] as const;

/** Files at the root of src/ that every layer may use; they may use config/ types themselves. */
const SHARED = new Set(['errors.ts', 'json.ts', 'log.ts', 'redis.ts', 'version.ts']);

function layerOf(file: string): number | undefined {
  if (SHARED.has(file)) return undefined;
  const first = file.split('/')[0]!.replace(/\.ts$/, '');
  const index = LAYERS.indexOf(first as (typeof LAYERS)[number]);
  if (index === -1) throw new Error(`${file} is in no layer; add it to LAYERS or SHARED`);
  return index;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts')).map((entry) => relative(SRC, join(entry.parentPath, entry.name)));
}

function importsOf(source: string): string[] {
  return [...source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)].map((match) => match[1]!);
}

test('imports point down the layers: config ← upstream ← sessions ← faces ← cluster ← http ← gateway ← cli (STYLE §2.2)', async () => {
  const problems: string[] = [];
  for (const file of await sourceFiles(SRC)) {
    const source = await readFile(join(SRC, file), 'utf8');
    const layer = layerOf(file);
    for (const specifier of importsOf(source)) {
      if (specifier.startsWith('.')) {
        const target = relative(SRC, join(SRC, file, '..', specifier)).replace(/\.js$/, '.ts');
        if (target.startsWith('..')) continue;
        const targetLayer = layerOf(target);
        const ownLayer = layer ?? 0;
        if (targetLayer !== undefined && targetLayer > ownLayer) problems.push(`${file} imports ${target}`);
      } else if (layer !== undefined && layer < LAYERS.indexOf('faces') && /^(fastify|@fastify\/)/.test(specifier)) {
        problems.push(`${file} imports ${specifier}: the core never imports HTTP code`);
      } else if (specifier === 'node:child_process' && !file.startsWith('upstream/')) {
        problems.push(`${file} spawns processes: only upstream/ may`);
      }
    }
    if (/process\.env\b/.test(source) && !file.startsWith('config/') && file !== 'cli.ts') problems.push(`${file} reads process.env`);
    // The entry points: the gateway's command line and the reaper that outlives a killed gateway.
    if (/process\.(exit|argv)\b|process\.on\('SIG/.test(source) && !['cli.ts', 'reaper.ts'].includes(file)) problems.push(`${file} touches argv, exit or signals`);
  }
  expect(problems).toEqual([]);
});

test('nothing outside upstream/ handles SDK error classes (STYLE §2.2)', async () => {
  const offenders: string[] = [];
  for (const file of await sourceFiles(SRC)) {
    // The MCP face is itself an MCP server: it answers its clients with the SDK's ProtocolError.
    if (file.startsWith('upstream/') || file.startsWith('faces/mcp/')) continue;
    const source = await readFile(join(SRC, file), 'utf8');
    if (/\b(ProtocolError|SdkError)\b/.test(source)) offenders.push(file);
  }
  expect(offenders).toEqual([]);
});
