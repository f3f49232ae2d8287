import { describe, expect, test } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { renderResultText } from '../../src/faces/render.js';

/** Base64 of `bytes` zero bytes, so a row states the decoded size it expects. */
const data = (bytes: number): string => Buffer.alloc(bytes).toString('base64');

// Results come from arbitrary servers; rows that break the SDK type go through this cast on purpose.
const loose = (value: unknown): CallToolResult => value as CallToolResult;

interface Row {
  input: CallToolResult;
  expected: string;
  why: string;
}

describe('renderResultText (SPEC §4.1)', () => {
  test.each<Row>([
    {
      input: { content: [{ type: 'text', text: 'Added todo #1: buy milk' }] },
      expected: 'Added todo #1: buy milk',
      why: 'the SPEC §4.1 example: one text block is the result',
    },
    {
      input: { content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
      expected: 'a\nb',
      why: 'all text blocks are joined with a newline',
    },
    {
      input: { content: [{ type: 'image', data: data(1200), mimeType: 'image/png' }] },
      expected: '[image: image/png, 1.2 kB]',
      why: 'the SPEC example placeholder: the decoded size, not the base64 length',
    },
    {
      input: { content: [{ type: 'audio', data: data(3), mimeType: 'audio/wav' }] },
      expected: '[audio: audio/wav, 3 B]',
      why: 'audio is a placeholder too; under 1 kB the size is whole bytes',
    },
    {
      input: { content: [{ type: 'image', data: data(1), mimeType: 'image/gif' }] },
      expected: '[image: image/gif, 1 B]',
      why: 'base64 padding is not counted as data',
    },
    {
      input: { content: [{ type: 'image', data: data(2_500_000), mimeType: 'image/jpeg' }] },
      expected: '[image: image/jpeg, 2.5 MB]',
      why: 'megabytes with one decimal',
    },
    {
      input: { content: [{ type: 'image', data: data(999_999), mimeType: 'image/jpeg' }] },
      expected: '[image: image/jpeg, 1.0 MB]',
      why: 'the unit is chosen after rounding, never "1000.0 kB"',
    },
    {
      input: { content: [{ type: 'image', data: `${data(6).slice(0, 4)}\n${data(6).slice(4)}`, mimeType: 'image/png' }] },
      expected: '[image: image/png, 6 B]',
      why: 'line breaks inside the base64 are not data',
    },
    {
      input: loose({ content: [{ type: 'image' }] }),
      expected: '[image: unknown type, 0 B]',
      why: 'a block without mimeType or data still renders instead of throwing',
    },
    {
      input: {
        content: [
          { type: 'text', text: 'Here are the links:' },
          { type: 'resource_link', uri: 'test://static/resource/1', name: 'Resource 1' },
        ],
      },
      expected: 'Here are the links:\n[resource: test://static/resource/1]',
      why: 'a resource_link renders as its URI',
    },
    {
      input: { content: [{ type: 'resource', resource: { uri: 'file:///notes.txt', text: 'line 1\nline 2' } }] },
      expected: 'line 1\nline 2',
      why: 'an embedded text resource is its text',
    },
    {
      input: { content: [{ type: 'resource', resource: { uri: 'file:///a.gz', blob: data(10), mimeType: 'application/gzip' } }] },
      expected: '[resource: file:///a.gz]',
      why: 'an embedded blob resource renders as its URI',
    },
    {
      input: loose({ content: [{ type: 'resource' }, { type: 'resource_link' }] }),
      expected: '[resource]\n[resource]',
      why: 'resources without a URI still render',
    },
    {
      input: loose({ content: [{ type: 'text', text: 'before' }, { type: 'widget', payload: 1 }, 'junk', null, {}] }),
      expected: 'before\n[widget]\n[unknown]\n[unknown]\n[unknown]',
      why: 'unknown or malformed blocks render as their type in brackets, never throw',
    },
    {
      input: loose({ content: [{ type: 'text' }] }),
      expected: '',
      why: 'a text block without text is empty text',
    },
    {
      input: { content: [], structuredContent: { temperature: 22.5, conditions: 'Sunny' } },
      expected: '{"temperature":22.5,"conditions":"Sunny"}',
      why: 'no text at all: structuredContent as compact JSON',
    },
    {
      input: loose({ structuredContent: [1, 2] }),
      expected: '[1,2]',
      why: 'content missing but structuredContent present: still the structured JSON',
    },
    {
      input: {
        content: [{ type: 'image', data: data(1200), mimeType: 'image/png' }],
        structuredContent: { id: 7 },
      },
      expected: '{"id":7}\n[image: image/png, 1.2 kB]',
      why: 'no text block: the structured JSON stands in for text, other placeholders follow',
    },
    {
      input: { content: [{ type: 'text', text: '' }], structuredContent: { ok: true } },
      expected: '{"ok":true}',
      why: 'an empty text block is no text, so the structured value is used',
    },
    {
      input: { content: [{ type: 'text', text: '{"ok": true}' }], structuredContent: { ok: true } },
      expected: '{"ok": true}',
      why: 'text wins over structuredContent (servers send both, the text is the serialized form)',
    },
    {
      input: { content: [{ type: 'resource', resource: { uri: 'x:/y', text: 'embedded' } }], structuredContent: { a: 1 } },
      expected: 'embedded',
      why: 'an embedded text resource counts as text',
    },
    {
      input: { content: [], structuredContent: null },
      expected: 'null',
      why: 'a null structuredContent is still present (any JSON value since 2026-07-28)',
    },
    {
      input: { content: [] },
      expected: '{"content":[]}',
      why: 'empty content and nothing structured: the whole result object, as the reference does',
    },
    {
      input: loose({ isError: true }),
      expected: '{"isError":true}',
      why: 'missing content counts as empty: the whole result object',
    },
    {
      input: loose({ content: 'not an array', _meta: { x: 1 } }),
      expected: '{"content":"not an array","_meta":{"x":1}}',
      why: 'a malformed content field counts as empty',
    },
  ])('$why', ({ input, expected }) => {
    expect(renderResultText(input)).toBe(expected);
  });
});
