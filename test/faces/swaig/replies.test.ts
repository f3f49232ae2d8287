import { describe, expect, test } from 'vitest';
import { GatewayError, type ErrorCode } from '../../../src/errors.js';
import { SWAIG_REPLIES, swaigErrorReply } from '../../../src/faces/swaig/replies.js';

const context = { service: 'todo' };
const STDERR = 'stderr: Traceback (most recent call last) | at /srv/secret/path.js:12';

// One row per ErrorCode; `satisfies` fails compilation when a code is added without a row.
const ROWS = {
  BAD_REQUEST: {
    error: new GatewayError('BAD_REQUEST', 'Session ID contains invalid characters'),
    expected: 'The tool gateway could not accept this request: Session ID contains invalid characters.',
    why: 'the validation message helps the model, with one final full stop',
  },
  UNKNOWN_SERVICE: {
    error: new GatewayError('UNKNOWN_SERVICE', 'Unknown service: todo'),
    expected: 'The todo tools are not available, so this cannot be done right now.',
    why: 'names the service the model saw in "[todo] ..." descriptions',
  },
  UNKNOWN_TOOL: {
    error: new GatewayError('UNKNOWN_TOOL', 'Unknown tool: add_todo'),
    expected: 'The todo service no longer offers this function, so this cannot be done right now.',
    why: 'a tool removed by list_changed after discovery',
  },
  SESSION_LIMIT: {
    error: new GatewayError('SESSION_LIMIT', 'Max sessions limit reached for service todo'),
    expected: 'The todo service is handling too many calls right now. Try again in a moment.',
    why: 'limits are a 200 sentence, not a 503 (SPEC §9)',
  },
  START_FAILED: {
    error: new GatewayError('START_FAILED', `Failed to start MCP service 'todo': exited during initialize (exit code 1); ${STDERR}`),
    expected: 'The todo service could not be started, so this cannot be done right now.',
    why: 'stderr and paths stay in the log',
  },
  SERVER_EXITED: {
    error: new GatewayError('SERVER_EXITED', `MCP server for 'todo' exited (exit code 3); ${STDERR}`, { exit: { code: 3 } }),
    expected:
      'The todo service stopped unexpectedly while working on this, and anything it remembered during this call may be lost. Try again if it is still needed.',
    why: 'the model learns that state is gone (SPEC §5)',
  },
  CALL_TIMEOUT: {
    error: new GatewayError('CALL_TIMEOUT', 'Tool call timed out after 30s'),
    expected: 'The todo service took too long to answer and the request was cancelled. It may or may not have been carried out.',
    why: 'the tool may have acted before the cancel (SPEC §6)',
  },
  MCP_ERROR: {
    error: new GatewayError('MCP_ERROR', 'MCP error -32602: Invalid arguments: text is required', {
      mcp_error: { code: -32602, message: 'Invalid arguments: text is required' },
    }),
    expected: 'The tool reported an error: Invalid arguments: text is required.',
    why: "the server's own message tells the model how to call again",
  },
  RATE_LIMITED: {
    error: new GatewayError('RATE_LIMITED', 'Rate limit exceeded: 10 per 1 minute'),
    expected: 'Too many requests are being made right now. Wait a moment, then try again.',
    why: 'no limit figures the model cannot use',
  },
  SHUTTING_DOWN: {
    error: new GatewayError('SHUTTING_DOWN', 'Gateway is shutting down'),
    expected: 'The tool gateway is restarting. Try again in a moment.',
    why: 'a refused start during shutdown',
  },
  CLIENT_CLOSED: {
    error: new GatewayError('CLIENT_CLOSED', "Client closed the connection; the call to 'list' was cancelled"),
    expected: 'The request to the todo service was cancelled. It may or may not have been carried out.',
    why: 'the platform left; the tool may have acted',
  },
} satisfies Record<ErrorCode, { error: GatewayError; expected: string; why: string }>;

describe('swaigErrorReply (SPEC §9, STYLE §2.3)', () => {
  test.each(Object.entries(ROWS).map(([code, row]) => ({ code, ...row })))('$code: $why', ({ code, error, expected }) => {
    expect(error.code).toBe(code);
    expect(swaigErrorReply(error, context)).toEqual({ response: expected });
  });

  test.each([
    {
      why: 'an MCP error without a JSON-RPC message (SDK failure) stays generic',
      error: new GatewayError('MCP_ERROR', 'MCP call failed: write EPIPE at Socket._write (node:net:123)'),
      expected: 'The tool failed with an internal error.',
    },
    {
      why: 'a message ending in punctuation gets no second full stop',
      error: new GatewayError('MCP_ERROR', 'x', { mcp_error: { code: -32000, message: 'Item not found!' } }),
      expected: 'The tool reported an error: Item not found!',
    },
    {
      why: 'line breaks and control characters in a tool message become one line',
      error: new GatewayError('MCP_ERROR', 'x', { mcp_error: { code: -32000, message: 'bad\n\tinput\u0007 here' } }),
      expected: 'The tool reported an error: bad input here.',
    },
    {
      why: 'a huge tool message is cut (bounded outputs, SPEC §10)',
      error: new GatewayError('MCP_ERROR', 'x', { mcp_error: { code: -32000, message: 'y'.repeat(5000) } }),
      expected: `The tool reported an error: ${'y'.repeat(299)}…`,
    },
    {
      why: 'a blank tool message stays generic',
      error: new GatewayError('MCP_ERROR', 'x', { mcp_error: { code: -32000, message: '  ' } }),
      expected: 'The tool failed with an internal error.',
    },
  ])('$why', ({ error, expected }) => {
    expect(swaigErrorReply(error, context)).toEqual({ response: expected });
  });

  test('anything that is not a GatewayError is a bug and gets a sentence without its details', () => {
    const reply = swaigErrorReply(new TypeError("Cannot read properties of undefined (reading 'x')"), context);
    expect(reply).toEqual(SWAIG_REPLIES.unexpected);
    expect(reply.response).not.toContain('undefined');
  });

  test.each(Object.entries(SWAIG_REPLIES))('face reply %s is one short sentence', (_name, reply) => {
    expect(reply.response).toMatch(/^[A-Z].{10,160}[.]$/u);
  });
});
