import { describe, expect, test } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { renderSwaigResponse } from '../../../src/faces/swaig/reply.js';
import type { SwaigReply } from '../../../src/faces/swaig/reply.js';

const marker = '… [truncated]';
const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });
// Results come from arbitrary servers; rows that break the SDK type go through this cast on purpose.
const loose = (value: unknown): CallToolResult => value as CallToolResult;

interface Row {
  input: { result: CallToolResult; maxChars: number };
  expected: SwaigReply;
  why: string;
}

describe('renderSwaigResponse (SPEC §9)', () => {
  test.each<Row>([
    {
      input: { result: text('Added todo #1: buy milk'), maxChars: 8000 },
      expected: { response: 'Added todo #1: buy milk' },
      why: 'the text is the REST result text',
    },
    {
      input: { result: { content: [{ type: 'image', data: 'AAAA', mimeType: 'image/png' }] }, maxChars: 8000 },
      expected: { response: '[image: image/png, 3 B]' },
      why: 'non-text blocks render as in the REST face',
    },
    {
      input: { result: { ...text('Tool no-such-tool not found'), isError: true }, maxChars: 8000 },
      expected: { response: 'Tool error: Tool no-such-tool not found' },
      why: 'a tool error is prefixed so the model knows it failed',
    },
    {
      input: { result: { ...text('fine'), isError: false }, maxChars: 8000 },
      expected: { response: 'fine' },
      why: 'isError false adds nothing',
    },
    {
      input: { result: text('abcdefghij'), maxChars: 10 },
      expected: { response: 'abcdefghij' },
      why: 'text exactly at the limit is not cut',
    },
    {
      input: { result: text('x'.repeat(100)), maxChars: 20 },
      expected: { response: `${'x'.repeat(7)}${marker}` },
      why: 'longer text is cut so that text plus marker is exactly the limit',
    },
    {
      input: { result: { ...text('y'.repeat(50)), isError: true }, maxChars: 30 },
      expected: { response: `Tool error: ${'y'.repeat(5)}${marker}` },
      why: 'the error prefix counts toward the limit',
    },
    {
      input: { result: text(`${'word '.repeat(4)}tail`), maxChars: 23 },
      expected: { response: `word word${marker}` },
      why: 'whitespace before the marker is dropped',
    },
    {
      input: { result: text(`abcdefg😀${'z'.repeat(20)}`), maxChars: 21 },
      expected: { response: `abcdefg${marker}` },
      why: 'a cut never splits an emoji (surrogate pair)',
    },
    {
      input: { result: text('abcdefghijklmnopqrstuvwxyz'), maxChars: 5 },
      expected: { response: 'abcde' },
      why: 'a limit smaller than the marker cuts without it',
    },
    {
      input: { result: text('abc'), maxChars: 0 },
      expected: { response: '' },
      why: 'a zero limit yields an empty response',
    },
    {
      input: {
        result: loose({ ...text('Transferring you now.'), _meta: { swaig: { action: [{ SWML: { version: '1.0.0' } }, { say: 'Bye' }], post_process: true } } }),
        maxChars: 8000,
      },
      expected: { response: 'Transferring you now.', action: [{ SWML: { version: '1.0.0' } }, { say: 'Bye' }], post_process: true },
      why: '_meta.swaig action and post_process pass through to the reply',
    },
    {
      input: { result: loose({ ...text('Goodbye.'), _meta: { swaig: { action: { hangup: true } } } }), maxChars: 8000 },
      expected: { response: 'Goodbye.', action: [{ hangup: true }] },
      why: 'a single action object (allowed by SWAIG) becomes a one-element array',
    },
    {
      input: { result: loose({ ...text('ok'), _meta: { swaig: { post_process: false } } }), maxChars: 8000 },
      expected: { response: 'ok', post_process: false },
      why: 'post_process passes through on its own',
    },
    {
      input: {
        result: loose({ ...text('failed'), isError: true, _meta: { swaig: { action: [{ say: 'Sorry' }] } } }),
        maxChars: 8000,
      },
      expected: { response: 'Tool error: failed', action: [{ say: 'Sorry' }] },
      why: 'actions pass through on tool errors too: the server decided them',
    },
    {
      input: {
        result: loose({ ...text('ok'), _meta: { swaig: { action: 'hangup', post_process: 'yes' }, other: { action: [1] } } }),
        maxChars: 8000,
      },
      expected: { response: 'ok' },
      why: 'malformed action/post_process values and other _meta keys are ignored',
    },
    {
      input: { result: loose({ ...text('ok'), _meta: { swaig: [{ say: 'x' }] } }), maxChars: 8000 },
      expected: { response: 'ok' },
      why: 'a _meta.swaig that is not an object is ignored',
    },
  ])('$why', ({ input, expected }) => {
    const reply = renderSwaigResponse(input.result, input.maxChars);
    expect(reply).toEqual(expected);
    expect(reply.response.length).toBeLessThanOrEqual(input.maxChars);
  });

  test.each([50, 51, 100, 8000])('the response never exceeds maxChars=%i for long mixed text', (maxChars) => {
    const long = Array.from({ length: 2000 }, (_, index) => (index % 7 === 0 ? '😀' : `w${index} `)).join('');
    const { response } = renderSwaigResponse(text(long), maxChars);
    expect(response.length).toBeLessThanOrEqual(maxChars);
    expect(response.endsWith(marker)).toBe(true);
    expect(response).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});
