import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { pino } from 'pino';
import type { LogLevel } from './config/types.js';

export interface GatewayLogger {
  logger: pino.Logger;
  /** Reopens the log file by its path, so logrotate's rename-then-SIGHUP works (SPEC §2). */
  reopen(): void;
  /** Flushes and closes the log file; stdout and a caller's stream stay open (not ours). */
  close(): Promise<void>;
}

/**
 * Secrets are removed here and only here (STYLE §2.6, SPEC §3.2). `*.x` matches one level deep,
 * so the top-level spellings are listed too.
 */
const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  '*.auth_password',
  '*.auth_token',
  '*.password',
  'auth_password',
  'auth_token',
  'password',
];

/**
 * JSON lines to stdout (or `stream`) and, when `file` is set, appended to that file as well
 * (SPEC §3.3). Resolves only once the file is open: a log file that cannot be opened is a
 * startup error, not a later crash.
 */
export async function createLogger(opts: {
  level: LogLevel;
  file?: string;
  stream?: NodeJS.WritableStream;
}): Promise<GatewayLogger> {
  const primary = opts.stream ?? pino.destination({ dest: 1, sync: true });
  // Entries accept every level so the logger's own level stays the single knob.
  const streams = pino.multistream([{ level: 'trace', stream: primary }]);
  const logger = pino(
    {
      level: opts.level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // Operators read the file with grep and tail: names and wall-clock time beat 30 and epoch ms.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    streams,
  );
  if (opts.file === undefined) {
    return { logger, reopen: () => {}, close: async () => {} };
  }

  const file = opts.file;
  try {
    // Checked before pino sees the path: a sonic-boom that never opened still flushes on process
    // exit and throws "sonic boom is not ready yet" there.
    await (await open(file, 'a')).close();
  } catch (error) {
    throw new Error(`cannot open log file ${file}: ${(error as Error).message}`, { cause: error });
  }
  const destination = pino.destination({ dest: file, append: true, mkdir: false, sync: false });
  await once(destination, 'ready');

  // After a write or reopen error (disk full, directory gone) the file is skipped until the
  // next successful reopen: reporting the error through the file again would loop forever.
  let isFileHealthy = true;
  let isClosed = false;
  streams.add({
    level: 'trace',
    stream: { write: (line: string) => { if (isFileHealthy && !isClosed) destination.write(line); } },
  });
  destination.on('error', (error: Error) => {
    if (!isFileHealthy || isClosed) return;
    isFileHealthy = false;
    logger.error({ err: error, file }, 'log file failed; logging to stdout only until reopen');
  });
  destination.on('ready', () => {
    isFileHealthy = true;
  });

  return {
    logger,
    reopen() {
      if (!isClosed) destination.reopen();
    },
    async close() {
      if (isClosed) return;
      isClosed = true;
      await new Promise<void>((resolve) => {
        destination.once('close', resolve);
        // A flush that fails would leave end() retrying forever: drop the buffer, free the fd.
        let isDestroying = false;
        destination.on('error', () => {
          if (isDestroying) return resolve();
          isDestroying = true;
          destination.destroy();
        });
        destination.end();
      });
    },
  };
}

// C0, DEL, C1, line/paragraph separators, and bidi controls (which can make a log line read
// as something it is not).
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Makes a user-supplied string safe to put in a log field (SPEC §3.3): control characters
 * removed, at most `maxLength` code points, the last one `…` when cut.
 */
export function sanitize(value: string, maxLength = 200): string {
  const characters = Array.from(value.replace(UNSAFE_CHARACTERS, ''));
  if (characters.length <= maxLength) return characters.join('');
  return `${characters.slice(0, Math.max(0, maxLength - 1)).join('')}…`;
}
