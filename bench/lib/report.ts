/** The bench's output: one table for people, one JSON file for tools and for the README. */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, arch, release, totalmem, type } from 'node:os';
import { dirname } from 'node:path';

export interface Row {
  /** Which part of the list it answers: a … g. */
  part: string;
  name: string;
  value: number;
  unit: string;
  /** The goal in words, when it sets one. */
  goal?: string;
  /** Whether the goal was met; undefined when there is no goal. */
  ok?: boolean;
}

export interface MachineInfo {
  node: string;
  cpu: string;
  cores: number;
  os: string;
  arch: string;
  memoryMb: number;
}

export function machineInfo(): MachineInfo {
  const cores = cpus();
  return {
    node: process.version,
    cpu: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    os: `${type()} ${release()}`,
    arch: arch(),
    memoryMb: Math.round(totalmem() / 2 ** 20),
  };
}

function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return String(value);
  if (unit === 'ms') return value < 10 ? value.toFixed(3) : value.toFixed(1);
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(1);
}

export function formatTable(rows: readonly Row[]): string {
  const cells = rows.map((row) => [
    `(${row.part}) ${row.name}`,
    formatValue(row.value, row.unit),
    row.unit,
    row.goal ?? '',
    row.ok === undefined ? '' : row.ok ? 'ok' : 'MISSED',
  ]);
  const header = ['measure', 'value', 'unit', 'goal', 'ok?'];
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((cell) => cell[column]!.length)));
  const line = (cell: string[]): string =>
    cell.map((text, column) => (column === 1 ? text.padStart(widths[column]!) : text.padEnd(widths[column]!))).join('  ').trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.map(line)].join('\n');
}

export async function writeJson(path: string, data: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(data, null, 2)}\n`);
}
