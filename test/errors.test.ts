import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { GatewayError, type ErrorCode } from '../src/errors.js';
import { errorBody, httpStatusFor } from '../src/http/error-map.js';

/** One row per code: the status table of SPEC §4.1, pinned cell by cell. */
const STATUS_ROWS: Array<{ code: ErrorCode; status: number }> = [
  { code: 'BAD_REQUEST', status: 400 },
  { code: 'UNKNOWN_SERVICE', status: 404 },
  { code: 'UNKNOWN_TOOL', status: 404 },
  { code: 'SESSION_LIMIT', status: 503 },
  { code: 'START_FAILED', status: 502 },
  { code: 'SERVER_EXITED', status: 502 },
  { code: 'CALL_TIMEOUT', status: 504 },
  { code: 'MCP_ERROR', status: 502 },
  { code: 'RATE_LIMITED', status: 429 },
  { code: 'SHUTTING_DOWN', status: 503 },
  { code: 'CLIENT_CLOSED', status: 499 },
];

describe('error table (STYLE §2.3)', () => {
  test.each(STATUS_ROWS)('$code → $status', ({ code, status }) => {
    expect(httpStatusFor(new GatewayError(code, 'x'))).toBe(status);
  });

  test.each([
    { code: -32602, status: 400, why: 'invalid params is the caller\'s mistake' },
    { code: -32601, status: 400, why: 'unknown method is the caller\'s mistake' },
    { code: -32603, status: 502, why: 'internal error is the server\'s trouble' },
  ])('MCP error $code → $status ($why)', ({ code, status }) => {
    const error = new GatewayError('MCP_ERROR', 'm', { mcp_error: { code, message: 'm' } });
    expect(httpStatusFor(error)).toBe(status);
    expect(errorBody(error)).toEqual({ error: 'm', mcp_error: { code, message: 'm' } });
  });

  test('the README lists every code with its status, and no stale ones', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Error codes'));
    const listed = [...section.matchAll(/^\| `([A-Z_]+)` \| (\d{3})/gm)].map((match) => ({ code: match[1], status: Number(match[2]) }));
    expect(listed).toEqual(STATUS_ROWS);
  });
});
