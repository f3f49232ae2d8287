import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, onTestFinished, test } from 'vitest';
import { createLogger, sanitize } from '../src/log.js';

/** Collects what the logger writes; `next` resolves at the first line matching `predicate`. */
function captureStream() {
  const lines: string[] = [];
  const waiters: Array<{ predicate: (line: string) => boolean; resolve: (line: string) => void }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const line = chunk.toString();
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.predicate(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
      callback();
    },
  });
  const next = (predicate: (line: string) => boolean) =>
    new Promise<string>((resolve) => {
      const seen = lines.find(predicate);
      if (seen === undefined) waiters.push({ predicate, resolve });
      else resolve(seen);
    });
  return { stream, lines, text: () => lines.join(''), next };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-gateway-log-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('createLogger', () => {
  test('authorization headers, passwords and tokens never reach the output (§3.2)', async () => {
    const capture = captureStream();
    const { logger } = await createLogger({ level: 'info', stream: capture.stream });

    logger.info({ req: { headers: { authorization: 'Basic c2VjcmV0LWJhc2lj', host: 'gw' } } }, 'request');
    logger.info({ headers: { authorization: 'Bearer secret-bearer' } }, 'upstream request');
    logger.info({ authorization: 'Bearer secret-top' }, 'bare header');
    logger.info({ server: { auth_user: 'admin', auth_password: 'secret-pw', auth_token: 'secret-token' } }, 'config');
    logger.info({ auth_password: 'secret-top-pw', auth_token: 'secret-top-token' }, 'top level');
    logger.info({ redis: { password: 'secret-redis' } }, 'storage');

    const output = capture.text();
    for (const secret of ['c2VjcmV0LWJhc2lj', 'secret-bearer', 'secret-top', 'secret-pw', 'secret-token', 'secret-redis']) {
      expect(output).not.toContain(secret);
    }
    expect(output).toContain('admin');
    expect(output).toContain('"host":"gw"');
    expect(JSON.parse(capture.lines[0] ?? '')).toMatchObject({
      level: 'info',
      msg: 'request',
      req: { headers: { authorization: '[redacted]' } },
    });
  });

  test('writes one JSON line per entry and honours the level (§3.3)', async () => {
    const capture = captureStream();
    const { logger } = await createLogger({ level: 'warn', stream: capture.stream });

    logger.info('hidden');
    logger.warn({ service: 'todo' }, 'upstream slow');

    expect(capture.lines).toHaveLength(1);
    const entry = JSON.parse(capture.lines[0] ?? '') as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'warn', msg: 'upstream slow', service: 'todo' });
    expect(new Date(entry['time'] as string).toISOString()).toBe(entry['time']);
  });

  test('appends to the log file as well as to the stream (§3.3)', async () => {
    const dir = await tempDir();
    const file = join(dir, 'gateway.log');
    await writeFile(file, 'earlier line\n');
    const capture = captureStream();
    const log = await createLogger({ level: 'info', file, stream: capture.stream });

    log.logger.info({ auth_token: 'secret-token' }, 'hello file');
    await log.close();

    const [earlier, entry, ...rest] = (await readFile(file, 'utf8')).split('\n');
    expect(earlier).toBe('earlier line');
    expect(JSON.parse(entry ?? '')).toMatchObject({ msg: 'hello file', auth_token: '[redacted]' });
    expect(rest).toEqual(['']);
    expect(capture.text()).toContain('hello file');
  });

  test.each([
    { why: 'missing directory', path: (dir: string) => join(dir, 'no-such-dir', 'gateway.log') },
    { why: 'a directory', path: (dir: string) => dir },
  ])('a log file that cannot be opened ($why) rejects naming the file (§3.3)', async ({ path }) => {
    const file = path(await tempDir());
    await expect(createLogger({ level: 'info', file, stream: captureStream().stream })).rejects.toThrow(
      `cannot open log file ${file}`,
    );
  });

  test('reopen() starts a new file after rotation moved the old one away (§2 SIGHUP)', async () => {
    const dir = await tempDir();
    const file = join(dir, 'gateway.log');
    const log = await createLogger({ level: 'info', file, stream: captureStream().stream });

    log.logger.info('before rotation');
    await rename(file, `${file}.1`);
    log.reopen();
    log.logger.info('after rotation');
    await log.close();

    expect(await readFile(`${file}.1`, 'utf8')).toContain('before rotation');
    const fresh = await readFile(file, 'utf8');
    expect(fresh).toContain('after rotation');
    expect(fresh).not.toContain('before rotation');
  });

  test.skipIf(!existsSync('/dev/full'))(
    'a failing log file is reported on the stream once, and close() still resolves',
    async () => {
      const capture = captureStream();
      const log = await createLogger({ level: 'info', file: '/dev/full', stream: capture.stream });

      log.logger.info('first');
      const report = await capture.next((line) => line.includes('log file failed'));
      log.logger.info('second');
      await log.close();

      expect(JSON.parse(report)).toMatchObject({ level: 'error', file: '/dev/full', err: { code: 'ENOSPC' } });
      expect(capture.lines.filter((line) => line.includes('log file failed'))).toHaveLength(1);
      expect(capture.text()).toContain('second');
    },
  );
});

describe('sanitize', () => {
  test.each([
    { input: 'plain text', expected: 'plain text', why: 'ordinary text is kept' },
    { input: 'jös€ ✓ 电话', expected: 'jös€ ✓ 电话', why: 'non-ASCII letters are kept' },
    { input: 'a\nb\r\nc', expected: 'abc', why: 'newlines would forge log lines' },
    { input: 'tab\there', expected: 'tabhere', why: 'C0 control' },
    { input: 'nul\u0000byte', expected: 'nulbyte', why: 'NUL' },
    { input: 'esc\u001b[31mred', expected: 'esc[31mred', why: 'ANSI escape' },
    { input: 'del\u007f', expected: 'del', why: 'DEL' },
    { input: 'c1\u0085\u009b', expected: 'c1', why: 'C1 controls (NEL, CSI)' },
    { input: 'ls\u2028ps\u2029', expected: 'lsps', why: 'Unicode line and paragraph separators' },
    { input: 'user\u202egpj.exe', expected: 'usergpj.exe', why: 'bidi override' },
    { input: '', expected: '', why: 'empty' },
  ])('$why', ({ input, expected }) => {
    expect(sanitize(input)).toBe(expected);
  });

  test('cuts to maxLength code points, marking the cut', () => {
    expect(sanitize('x'.repeat(300))).toBe(`${'x'.repeat(199)}…`);
    expect(sanitize('abcdef', 4)).toBe('abc…');
    expect(sanitize('abcd', 4)).toBe('abcd');
    expect(sanitize('😀😀😀😀😀', 3)).toBe('😀😀…');
  });

  test('strips before cutting, so control characters do not use up the budget', () => {
    expect(sanitize(`${'\n'.repeat(10)}abc`, 3)).toBe('abc');
  });
});
