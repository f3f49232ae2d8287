/**
 * Whether a server run under a per-session uid can reach its own files. A checkout under a 0700
 * directory (a root user's home) holds the server's script and its node_modules where no other
 * uid may pass: such a server would die at start under its own uid. The gateway then keeps that
 * service's sessions under its own identity and says why, instead of failing every start.
 */
import { statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import type { ServiceConfig } from '../../config/types.js';

const OTHERS_EXECUTE = 0o001;
const OTHERS_READ = 0o004;

function modeOf(path: string): { mode: number; isDirectory: boolean } | undefined {
  try {
    const stats = statSync(path);
    return { mode: stats.mode, isDirectory: stats.isDirectory() };
  } catch {
    return undefined;
  }
}

/** The first directory on the way to `path`, or the path itself, that other users cannot use. */
function closedOnTheWay(path: string): string | undefined {
  const target = modeOf(path);
  if (target === undefined) return undefined;
  const needs = target.isDirectory ? OTHERS_EXECUTE : OTHERS_READ | OTHERS_EXECUTE;
  if ((target.mode & needs) === 0) return path;
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const mode = modeOf(dir)?.mode;
    if (mode !== undefined && (mode & OTHERS_EXECUTE) === 0) return dir;
    if (dir === dirname(dir)) return undefined;
  }
}

/** Like execvp under another uid: the first program on PATH that uid can reach, else the first found. */
function onPath(command: string, path: string | undefined): string | undefined {
  let found: string | undefined;
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = join(dir, command);
    if (modeOf(candidate) === undefined) continue;
    if (closedOnTheWay(candidate) === undefined) return candidate;
    found ??= candidate;
  }
  return found;
}

/**
 * The server's program and every argument naming an existing file: the first of them another uid
 * cannot reach, as "<path> (<closed directory> is closed to other users)", or undefined when all
 * are reachable. The working directory itself is not checked: the server is started in it before
 * its uid is dropped.
 */
export function unreachableForOtherUids(service: ServiceConfig, gatewayCwd: string, path: string | undefined): string | undefined {
  const command = service.command;
  if (command === undefined || command.length === 0) return undefined;
  const cwd = resolve(gatewayCwd, service.sandbox.working_dir ?? '.');
  const [program, ...args] = command;
  const candidates: string[] = [];
  const programPath = program!.includes('/') ? resolve(cwd, program!) : onPath(program!, service.env['PATH'] ?? path);
  if (programPath !== undefined) candidates.push(programPath);
  for (const arg of args) {
    if (arg.startsWith('-')) continue;
    const candidate = resolve(cwd, arg);
    if (modeOf(candidate) !== undefined) candidates.push(candidate);
  }
  for (const candidate of candidates) {
    const closed = closedOnTheWay(candidate);
    if (closed !== undefined) return closed === candidate ? `${candidate} is closed to other users` : `${candidate} (${closed} is closed to other users)`;
  }
  return undefined;
}
