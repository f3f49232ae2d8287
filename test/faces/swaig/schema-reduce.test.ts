import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { reduceSchema } from '../../../src/faces/swaig/schema-reduce.js';
import { validateSwaigParameters } from '../../../src/faces/swaig/validate-parameters.js';

interface Row {
  input: unknown;
  expected: unknown;
  why: string;
}

/** Wraps one property schema as the `p` property of a tool schema. */
const prop = (schema: unknown, extra: Record<string, unknown> = {}): unknown => ({
  type: 'object',
  properties: { p: schema },
  ...extra,
});
const params = (p: unknown): unknown => ({ type: 'object', properties: { p } });

function check(input: unknown, expected: unknown): void {
  const reduced = reduceSchema(input);
  expect(reduced).toEqual(expected);
  expect(validateSwaigParameters(reduced)).toEqual([]);
}

describe('reduceSchema on real servers (SPEC §9)', () => {
  // Captured once from the dev dependencies with test/fixtures/schemas/capture.mjs (official
  // client over stdio, every capability declared so server-everything lists all its tools).
  const servers = ['server-everything', 'server-filesystem'].map((name) => {
    const fixture = new URL(`../../fixtures/schemas/${name}.json`, import.meta.url);
    return JSON.parse(readFileSync(fixture, 'utf8')) as { package: string; tools: Array<{ name: string; inputSchema: unknown }> };
  });
  const tools = servers.flatMap((server) => server.tools.map((tool) => ({ ...tool, server: server.package })));

  test('the fixtures hold every tool of both servers', () => {
    expect(tools.length).toBeGreaterThanOrEqual(30);
  });

  test.each(tools)('$server $name: the reduced schema is in the SWAIG subset', ({ inputSchema }) => {
    expect(validateSwaigParameters(reduceSchema(inputSchema))).toEqual([]);
  });

  const schemaOf = (name: string): unknown => tools.find((tool) => tool.name === name)?.inputSchema;

  test.each<Row>([
    {
      input: schemaOf('get-resource-links'),
      expected: {
        type: 'object',
        properties: {
          count: { type: 'number', description: 'Number of resource links to return (1-10). Minimum: 1. Maximum: 10.', default: 3 },
        },
      },
      why: 'get-resource-links: bounds move into the description, $schema goes',
    },
    {
      input: schemaOf('gzip-file-as-resource'),
      expected: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'Name of the output file', default: 'README.md.gz' },
          data: {
            type: 'string',
            description: 'URL or data URI of the file content to compress',
            format: 'uri',
            default: 'https://raw.githubusercontent.com/modelcontextprotocol/servers/refs/heads/main/README.md',
          },
          outputType: {
            type: 'string',
            description:
              "How the resulting gzipped file should be returned. 'resourceLink' returns a link to a resource that can be read later, 'resource' returns a full resource object.",
            enum: ['resourceLink', 'resource'],
            default: 'resourceLink',
          },
        },
      },
      why: 'gzip-file-as-resource: formats, enums and defaults of the subset are kept',
    },
    {
      input: schemaOf('edit_file'),
      expected: {
        type: 'object',
        properties: {
          path: { type: 'string' },
          edits: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                oldText: { type: 'string', description: 'Text to search for - must match exactly' },
                newText: { type: 'string', description: 'Text to replace with' },
              },
              required: ['oldText', 'newText'],
            },
          },
          dryRun: { type: 'boolean', description: 'Preview changes using git-style diff format', default: false },
        },
        required: ['path', 'edits'],
      },
      why: 'edit_file: nested objects inside arrays keep their structure (the Python skill drops it)',
    },
    {
      input: schemaOf('read_multiple_files'),
      expected: {
        type: 'object',
        properties: {
          paths: {
            type: 'array',
            description:
              'Array of file paths to read. Each path must be a string pointing to a valid file within allowed directories. Minimum items: 1.',
            items: { type: 'string' },
          },
        },
        required: ['paths'],
      },
      why: 'read_multiple_files: minItems becomes words',
    },
    {
      input: schemaOf('search_files'),
      expected: {
        type: 'object',
        properties: {
          path: { type: 'string' },
          pattern: { type: 'string' },
          excludePatterns: { type: 'array', items: { type: 'string' }, default: [] },
        },
        required: ['path', 'pattern'],
      },
      why: 'search_files: a property named "pattern" is a property, not a keyword',
    },
  ])('$why', ({ input, expected }) => check(input, expected));
});

describe('reduceSchema: top level', () => {
  test.each<Row>([
    { input: undefined, expected: { type: 'object', properties: {} }, why: 'a missing schema means no parameters' },
    { input: null, expected: { type: 'object', properties: {} }, why: 'null means no parameters' },
    { input: 'object', expected: { type: 'object', properties: {} }, why: 'a string is not a schema' },
    { input: [{ type: 'object' }], expected: { type: 'object', properties: {} }, why: 'an array is not a schema' },
    { input: {}, expected: { type: 'object', properties: {} }, why: 'an empty schema has no parameters' },
    { input: { type: 'string' }, expected: { type: 'object', properties: {} }, why: 'a non-object top level has no parameters' },
    { input: { type: 'object' }, expected: { type: 'object', properties: {} }, why: 'properties are always present at the top' },
    {
      input: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        title: 'add_todoArguments',
        description: 'Arguments',
        type: 'object',
        additionalProperties: false,
        properties: { text: { type: 'string', title: 'Text' } },
        required: ['text'],
      },
      expected: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      why: 'only type, properties and required stay at the top; titles go',
    },
    {
      input: { properties: { a: { type: 'string' } }, required: ['a', 'ghost', 'a', 7] },
      expected: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
      why: 'required lists existing properties, once; a missing type is implied by properties',
    },
    {
      input: { type: 'object', properties: { a: { type: 'string' } }, required: ['ghost'] },
      expected: { type: 'object', properties: { a: { type: 'string' } } },
      why: 'an empty required list is left out',
    },
    {
      input: { type: 'object', properties: { a: { type: 'string' }, gone: false, any: true }, required: ['a', 'gone'] },
      expected: { type: 'object', properties: { a: { type: 'string' }, any: { type: 'string' } }, required: ['a'] },
      why: 'a property schema of false forbids it; true accepts anything, and any string is a value',
    },
    {
      input: { $ref: '#/$defs/Args', $defs: { Args: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } } },
      expected: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
      why: 'a top level that is itself a $ref is followed',
    },
    {
      input: {
        type: 'object',
        properties: { mode: { type: 'string' } },
        oneOf: [
          { properties: { id: { type: 'integer' } }, required: ['id', 'mode'] },
          { properties: { name: { type: 'string' } }, required: ['name', 'mode'] },
        ],
      },
      expected: {
        type: 'object',
        properties: { mode: { type: 'string' }, id: { type: 'integer' }, name: { type: 'string' } },
        required: ['mode'],
      },
      why: 'a union at the top offers every branch\'s properties; only what all branches require stays required',
    },
    {
      input: {
        allOf: [
          { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
          { type: 'object', properties: { b: { type: 'number' } }, required: ['b'] },
        ],
      },
      expected: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'number' } }, required: ['a', 'b'] },
      why: 'allOf at the top is merged',
    },
    {
      input: JSON.parse('{"type":"object","properties":{"__proto__":{"type":"string"},"constructor":{"type":"integer"}},"required":["__proto__"]}'),
      expected: JSON.parse('{"type":"object","properties":{"__proto__":{"type":"string"},"constructor":{"type":"integer"}},"required":["__proto__"]}'),
      why: 'properties named __proto__ or constructor stay ordinary properties',
    },
  ])('$why', ({ input, expected }) => check(input, expected));

  test('a __proto__ property never changes the prototype of the output', () => {
    const reduced = reduceSchema(JSON.parse('{"type":"object","properties":{"__proto__":{"type":"string"}}}'));
    expect(Object.getPrototypeOf(reduced.properties)).toBe(Object.prototype);
    expect(Object.keys(reduced.properties)).toEqual(['__proto__']);
  });
});

describe('reduceSchema: types, nullability and unions', () => {
  test.each<Row>([
    {
      input: prop({ type: ['string', 'null'], description: 'Due date' }),
      expected: params({ type: 'string', description: 'Due date', nullable: true }),
      why: 'type [T, "null"] becomes T with nullable',
    },
    {
      input: prop({ type: ['null', 'integer'], minimum: 0 }),
      expected: params({ type: 'integer', description: 'Minimum: 0.', nullable: true }),
      why: 'the order inside the type array does not matter',
    },
    {
      input: prop({ type: ['string', 'integer'], description: 'Id or name', maxLength: 5, maximum: 9 }),
      expected: params({
        anyOf: [
          { type: 'string', description: 'Id or name. Maximum length: 5.' },
          { type: 'integer', description: 'Id or name. Maximum: 9.' },
        ],
      }),
      why: 'other type arrays become anyOf; each branch keeps only the notes that apply to its type',
    },
    {
      input: prop({ type: ['string', 'number', 'null'] }),
      expected: params({ anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'null', description: 'No value.' }] }),
      why: 'with two or more other types the null branch stays explicit (exact for oneOf too)',
    },
    {
      input: prop({ type: [] }),
      expected: params({ type: 'string' }),
      why: 'an empty type array says nothing: any value',
    },
    {
      input: prop({ anyOf: [{ type: 'string' }, { type: 'null' }], default: null, title: 'Query', description: 'Search text' }),
      expected: params({ type: 'string', description: 'Search text', nullable: true }),
      why: 'pydantic Optional[str]: an anyOf with a null member is nullable; a null default adds nothing',
    },
    {
      input: prop({ oneOf: [{ type: 'integer' }, { type: 'null' }] }),
      expected: params({ type: 'integer', nullable: true }),
      why: 'oneOf with a null member is nullable too',
    },
    {
      input: prop({ description: 'Cat or dog', oneOf: [{ $ref: '#/$defs/Cat' }, { $ref: '#/$defs/Dog' }] }, {
        $defs: {
          Cat: { type: 'object', description: 'A cat', properties: { meows: { type: 'boolean' } } },
          Dog: { type: 'object', properties: { barks: { type: 'boolean' } }, required: ['barks'] },
        },
      }),
      expected: params({
        oneOf: [
          { type: 'object', description: 'Cat or dog', properties: { meows: { type: 'boolean' } } },
          { type: 'object', description: 'Cat or dog', properties: { barks: { type: 'boolean' } }, required: ['barks'] },
        ],
      }),
      why: 'oneOf of $refs: each branch is inlined and carries the description the combinator cannot',
    },
    {
      input: prop({ anyOf: [{ type: 'null' }], description: 'Nothing' }),
      expected: params({ type: 'null', description: 'Nothing' }),
      why: 'a union of only null is the null property',
    },
    {
      input: prop({ type: 'null' }),
      expected: params({ type: 'null', description: 'Always null.' }),
      why: 'the null property gets the description SWAIG requires',
    },
    {
      input: prop({ anyOf: [{ oneOf: [{ type: 'string' }, { type: 'integer' }] }, { type: 'null' }] }),
      expected: params({
        anyOf: [{ oneOf: [{ type: 'string' }, { type: 'integer' }] }, { type: 'null', description: 'No value.' }],
      }),
      why: 'a nullable union cannot carry nullable itself, so null stays a branch',
    },
    {
      input: prop({ anyOf: [], description: 'x' }),
      expected: params({ type: 'string', description: 'x' }),
      why: 'an empty anyOf is ignored',
    },
    {
      input: prop({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, anyOf: [{ required: ['a'] }, { required: ['b'] }] }),
      expected: params({
        anyOf: [
          { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, required: ['a'] },
          { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, required: ['b'] },
        ],
      }),
      why: 'keywords beside anyOf are distributed into each branch ("a or b is required")',
    },
    {
      input: prop({ allOf: [{ $ref: '#/$defs/Address' }], description: 'Home address' }, {
        $defs: { Address: { type: 'object', description: 'A postal address', properties: { city: { type: 'string' } } } },
      }),
      expected: params({ type: 'object', description: 'Home address', properties: { city: { type: 'string' } } }),
      why: 'allOf with one $ref (pydantic style) is merged; the local description wins',
    },
    {
      input: prop({
        allOf: [
          { type: 'object', properties: { a: { type: 'string', description: 'first' } }, required: ['a'] },
          { properties: { a: { maxLength: 3 }, b: { type: 'integer' } }, required: ['b'] },
        ],
      }),
      expected: params({
        type: 'object',
        properties: { a: { type: 'string', description: 'first. Maximum length: 3.' }, b: { type: 'integer' } },
        required: ['a', 'b'],
      }),
      why: 'allOf of objects merges properties, property schemas and required',
    },
    {
      input: prop({ allOf: [{ type: 'integer' }, { type: 'number', minimum: 1 }] }),
      expected: params({ type: 'integer', description: 'Minimum: 1.' }),
      why: 'allOf of integer and number is integer',
    },
    {
      input: prop({ description: 'Impossible', allOf: [{ type: 'string' }, { type: 'integer' }] }),
      expected: params({
        allOf: [
          { type: 'string', description: 'Impossible' },
          { type: 'integer', description: 'Impossible' },
        ],
      }),
      why: 'an allOf that is not simple to merge stays allOf, with the description in each member',
    },
    {
      input: prop({ allOf: [{ anyOf: [{ type: 'string' }, { type: 'integer' }] }, { anyOf: [{ type: 'integer' }, { type: 'boolean' }] }] }),
      expected: params({
        allOf: [{ anyOf: [{ type: 'string' }, { type: 'integer' }] }, { anyOf: [{ type: 'integer' }, { type: 'boolean' }] }],
      }),
      why: 'two unions inside allOf are kept as they are',
    },
    {
      input: prop({ type: 'string', nullable: true }),
      expected: params({ type: 'string', nullable: true }),
      why: 'OpenAPI-style nullable is in the subset',
    },
    { input: prop({}), expected: params({ type: 'string' }), why: 'an untyped property accepts anything, and any string is a value' },
    { input: prop({ type: 'any', description: 'd' }), expected: params({ type: 'string', description: 'd' }), why: 'an unknown type name is treated as untyped' },
    {
      input: prop({ minimum: 2 }),
      expected: params({ type: 'number', description: 'Minimum: 2.' }),
      why: 'numeric keywords imply a number',
    },
    {
      input: prop({ items: { type: 'integer' } }),
      expected: params({ type: 'array', items: { type: 'integer' } }),
      why: 'items implies an array',
    },
  ])('$why', ({ input, expected }) => check(input, expected));
});

describe('reduceSchema: $ref, $defs and cycles', () => {
  const tree = {
    type: 'object',
    properties: { root: { $ref: '#/$defs/Node' } },
    $defs: {
      Node: {
        type: 'object',
        description: 'A tree node',
        properties: { value: { type: 'string' }, children: { type: 'array', items: { $ref: '#/$defs/Node' } } },
        required: ['value'],
      },
    },
  };

  test.each<Row>([
    {
      input: tree,
      expected: {
        type: 'object',
        properties: {
          root: {
            type: 'object',
            description: 'A tree node',
            properties: {
              value: { type: 'string' },
              children: {
                type: 'array',
                items: { type: 'object', description: 'A tree node. Recursive: same structure as Node.' },
              },
            },
            required: ['value'],
          },
        },
      },
      why: 'a $ref cycle is cut to a plain object with a note',
    },
    {
      input: {
        type: 'object',
        properties: { name: { type: 'string' }, parent: { $ref: '#', description: 'The parent' } },
      },
      expected: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          parent: { type: 'object', description: 'The parent. Recursive: same structure as the whole parameter list.' },
        },
      },
      why: 'a reference to the root is a cycle at once',
    },
    {
      input: prop({ $ref: '#/$defs/List' }, { $defs: { List: { type: 'array', items: { $ref: '#/$defs/List' } } } }),
      expected: params({
        type: 'array',
        items: { type: 'string', description: 'Recursive: same structure as List. Pass it as JSON text.' },
      }),
      why: 'a cycle through something that is not an object becomes JSON text',
    },
    {
      input: prop({ $ref: '#/$defs/A' }, {
        $defs: { A: { type: 'object', properties: { b: { $ref: '#/$defs/B' } } }, B: { type: 'object', properties: { a: { $ref: '#/$defs/A' } } } },
      }),
      expected: params({
        type: 'object',
        properties: {
          b: { type: 'object', properties: { a: { type: 'object', description: 'Recursive: same structure as A.' } } },
        },
      }),
      why: 'an indirect cycle (A → B → A) is cut too',
    },
    {
      input: prop({ $ref: '#/definitions/Color' }, { definitions: { Color: { type: 'string', enum: ['red', 'green'] } } }),
      expected: params({ type: 'string', enum: ['red', 'green'] }),
      why: 'draft-07 definitions are inlined',
    },
    {
      input: prop({ $ref: '#/$defs/a~1b%20c' }, { $defs: { 'a/b c': { type: 'boolean' } } }),
      expected: params({ type: 'boolean' }),
      why: 'JSON pointer escapes (~1, percent-encoding) are decoded',
    },
    {
      input: prop({ $ref: '#/$defs/Alias' }, { $defs: { Alias: { $ref: '#/$defs/Real' }, Real: { type: 'integer', description: 'Real' } } }),
      expected: params({ type: 'integer', description: 'Real' }),
      why: 'a chain of references is followed',
    },
    {
      input: prop({ $ref: '#/$defs/Count', maximum: 5 }, { $defs: { Count: { type: 'integer', minimum: 1 } } }),
      expected: params({ type: 'integer', description: 'Minimum: 1. Maximum: 5.' }),
      why: 'keywords beside a $ref refine its target (2020-12)',
    },
    {
      input: prop({ $ref: 'https://example.com/schemas/thing.json', description: 'A thing' }),
      expected: params({ type: 'string', description: 'A thing' }),
      why: 'an external reference cannot be resolved: only its siblings are known',
    },
    {
      input: prop({ $ref: '#/$defs/%E0%A4%A' }),
      expected: params({ type: 'string' }),
      why: 'a malformed reference never throws',
    },
    {
      input: prop({ $ref: '#/$defs/Missing' }, { $defs: {} }),
      expected: params({ type: 'string' }),
      why: 'a dangling reference is an untyped property',
    },
    {
      input: prop({ allOf: [{ $ref: '#/$defs/Loop' }] }, { $defs: { Loop: { allOf: [{ $ref: '#/$defs/Loop' }], description: 'Loop' } } }),
      expected: params({ type: 'string', description: 'Loop' }),
      why: 'a definition that is allOf itself ends instead of recursing forever',
    },
  ])('$why', ({ input, expected }) => check(input, expected));

  test('deep nesting is cut, and the result stays valid (no stack overflow on hostile schemas)', () => {
    let schema: unknown = { type: 'string' };
    for (let level = 0; level < 5000; level += 1) schema = { type: 'object', properties: { next: schema } };
    const reduced = reduceSchema(schema);
    expect(validateSwaigParameters(reduced)).toEqual([]);
    expect(JSON.stringify(reduced)).toContain('Nested too deeply to describe here.');
  });

  test('deeply nested allOf is bounded too', () => {
    let schema: unknown = { type: 'object', properties: { a: { type: 'string' } } };
    for (let level = 0; level < 5000; level += 1) schema = { allOf: [schema] };
    expect(validateSwaigParameters(reduceSchema(schema))).toEqual([]);
  });

  test('definitions reused many times do not explode the output', () => {
    const $defs: Record<string, unknown> = { D0: { type: 'string' } };
    for (let level = 1; level <= 40; level += 1) {
      $defs[`D${level}`] = { type: 'object', properties: { left: { $ref: `#/$defs/D${level - 1}` }, right: { $ref: `#/$defs/D${level - 1}` } } };
    }
    const reduced = reduceSchema({ $ref: '#/$defs/D40', $defs });
    expect(validateSwaigParameters(reduced)).toEqual([]);
    expect(JSON.stringify(reduced).length).toBeLessThan(200_000);
    expect(JSON.stringify(reduced)).toContain('Too large to describe here.');
  });
});

describe('reduceSchema: keywords outside the subset', () => {
  const swaigFormats = Object.fromEntries(
    ['date_time', 'time', 'date', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uri', 'uuid'].map((format) => [
      format,
      { type: 'string', format },
    ]),
  );

  test.each<Row>([
    {
      input: prop({ type: 'integer', minimum: 1, maximum: 10, description: 'Count' }),
      expected: params({ type: 'integer', description: 'Count. Minimum: 1. Maximum: 10.' }),
      why: 'numeric bounds become a short phrase (SPEC §9)',
    },
    {
      input: prop({ type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, multipleOf: 0.25 }),
      expected: params({ type: 'number', description: 'Greater than 0. Less than 1. Multiple of 0.25.' }),
      why: '2020-12 exclusive bounds and multipleOf',
    },
    {
      input: prop({ type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 5, exclusiveMaximum: false }),
      expected: params({ type: 'number', description: 'Greater than 0. Maximum: 5.' }),
      why: 'draft-04 boolean exclusive bounds',
    },
    {
      input: prop({ type: 'string', minLength: 1, maxLength: 80, description: 'Name.' }),
      expected: params({ type: 'string', description: 'Name. Minimum length: 1. Maximum length: 80.' }),
      why: 'string lengths; a description ending in a full stop gets no second one',
    },
    {
      input: prop({ type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 3, uniqueItems: true }),
      expected: params({ type: 'array', description: 'Minimum items: 1. Maximum items: 3. Items must be unique.', items: { type: 'string' } }),
      why: 'array sizes and uniqueness',
    },
    {
      input: prop({ type: 'object', minProperties: 1, maxProperties: 2, additionalProperties: { type: 'string' }, patternProperties: {} }),
      expected: params({ type: 'object', description: 'Minimum properties: 1. Maximum properties: 2.' }),
      why: 'object sizes; additionalProperties and patternProperties go',
    },
    {
      input: prop({ type: 'string', minimum: 3, minItems: 1, multipleOf: 2 }),
      expected: params({ type: 'string' }),
      why: 'keywords that do not apply to the type are dropped silently',
    },
    {
      input: prop({
        type: 'string',
        title: 'T',
        examples: ['x'],
        $comment: 'c',
        deprecated: true,
        readOnly: true,
        contentMediaType: 'text/plain',
        'x-mcp-header': 'X',
      }),
      expected: params({ type: 'string' }),
      why: 'annotations and vendor keywords are removed',
    },
    {
      input: prop({ type: 'string', format: 'date-time', description: 'When' }),
      expected: params({ type: 'string', description: 'When', format: 'date_time' }),
      why: 'format date-time is spelled date_time in SWAIG',
    },
    {
      input: prop({ type: 'object', properties: swaigFormats }),
      expected: params({ type: 'object', properties: swaigFormats }),
      why: 'every format SWAIG lists is kept',
    },
    {
      input: prop({ type: 'string', format: 'uri-reference', description: 'Link' }),
      expected: params({ type: 'string', description: 'Link. Format: uri-reference.' }),
      why: 'other formats become words',
    },
    {
      input: prop({ type: 'integer', format: 'int64' }),
      expected: params({ type: 'integer', description: 'Format: int64.' }),
      why: 'formats on numbers become words',
    },
    {
      input: prop({ type: 'string', pattern: '^[A-Z]{3}$' }),
      expected: params({ type: 'string', pattern: '^[A-Z]{3}$' }),
      why: 'pattern is in the subset for strings',
    },
    {
      input: prop({ type: 'string', pattern: '(?P<year>\\d{4})' }),
      expected: params({ type: 'string', description: 'Pattern: (?P<year>\\d{4}).' }),
      why: 'a pattern JavaScript cannot compile becomes words',
    },
    {
      input: prop({ type: 'integer', default: '5', description: 'Limit (max 100)' }),
      expected: params({ type: 'integer', description: 'Limit (max 100). Default: "5".' }),
      why: 'a default of the wrong type becomes words',
    },
    {
      input: prop({ type: 'object', properties: {}, default: { a: 1 } }),
      expected: params({ type: 'object', properties: {}, default: { a: 1 } }),
      why: 'defaults of the right type stay',
    },
  ])('$why', ({ input, expected }) => check(input, expected));
});

describe('reduceSchema: enum and const', () => {
  test.each<Row>([
    { input: prop({ type: 'string', enum: ['a', 'b', 'a'] }), expected: params({ type: 'string', enum: ['a', 'b'] }), why: 'string enums stay, once each' },
    {
      input: prop({ type: 'string', enum: ['a', null] }),
      expected: params({ type: 'string', nullable: true, enum: ['a'] }),
      why: 'null in an enum becomes nullable',
    },
    { input: prop({ enum: ['x', 'y'] }), expected: params({ type: 'string', enum: ['x', 'y'] }), why: 'an untyped string enum is a string' },
    { input: prop({ enum: [1, 2, 3] }), expected: params({ type: 'integer', enum: [1, 2, 3] }), why: 'an untyped integer enum is an integer' },
    { input: prop({ enum: [1, 2.5] }), expected: params({ type: 'number', enum: [1, 2.5] }), why: 'integers and fractions together are numbers' },
    {
      input: prop({ enum: ['auto', 0, 1, null], description: 'Level' }),
      expected: params({
        anyOf: [
          { type: 'string', description: 'Level', enum: ['auto'] },
          { type: 'integer', description: 'Level', enum: [0, 1] },
          { type: 'null', description: 'No value.' },
        ],
      }),
      why: 'a mixed enum becomes one branch per JSON type',
    },
    {
      input: prop({ type: 'integer', enum: [1, 2.5] }),
      expected: params({ type: 'integer', description: 'Allowed values: 1, 2.5.' }),
      why: 'enum values that do not fit the type become words',
    },
    {
      input: prop({ type: 'boolean', enum: [true] }),
      expected: params({ type: 'boolean', description: 'Must be true.' }),
      why: 'booleans have no enum in the subset',
    },
    {
      input: prop({ type: 'string', enum: [] }),
      expected: params({ type: 'string' }),
      why: 'an empty enum is dropped',
    },
    { input: prop({ const: 'fixed', description: 'Mode' }), expected: params({ type: 'string', description: 'Mode', enum: ['fixed'] }), why: 'const becomes an enum of one, keeping the description' },
    { input: prop({ const: 3 }), expected: params({ type: 'integer', enum: [3] }), why: 'a numeric const' },
    { input: prop({ type: 'number', const: 3 }), expected: params({ type: 'number', enum: [3] }), why: 'const keeps an explicit type' },
    { input: prop({ const: null }), expected: params({ type: 'null', description: 'Always null.' }), why: 'const null is the null property' },
    { input: prop({ const: false }), expected: params({ type: 'boolean', description: 'Must be false.' }), why: 'a boolean const becomes words' },
    {
      input: prop({ const: { a: 1 } }),
      expected: params({ type: 'object', description: 'Must be {"a":1}.' }),
      why: 'an object const becomes words',
    },
    {
      input: prop({
        oneOf: [
          { type: 'object', properties: { kind: { const: 'circle' }, r: { type: 'number' } }, required: ['kind', 'r'] },
          { type: 'object', properties: { kind: { const: 'square' }, side: { type: 'number' } }, required: ['kind', 'side'] },
        ],
      }),
      expected: params({
        oneOf: [
          { type: 'object', properties: { kind: { type: 'string', enum: ['circle'] }, r: { type: 'number' } }, required: ['kind', 'r'] },
          { type: 'object', properties: { kind: { type: 'string', enum: ['square'] }, side: { type: 'number' } }, required: ['kind', 'side'] },
        ],
      }),
      why: 'a discriminated union (zod style) keeps its discriminators',
    },
  ])('$why', ({ input, expected }) => check(input, expected));
});

describe('reduceSchema: nested objects and arrays', () => {
  test.each<Row>([
    { input: prop({ type: 'array' }), expected: params({ type: 'array', items: { type: 'string' } }), why: 'an array without items gets string items' },
    {
      input: prop({ type: 'array', items: { type: 'array' } }),
      expected: params({ type: 'array', items: { type: 'array', items: { type: 'string' } } }),
      why: 'nested arrays get items at every level',
    },
    {
      input: prop({ type: 'array', items: true }),
      expected: params({ type: 'array', items: { type: 'string' } }),
      why: 'items: true accepts anything',
    },
    {
      input: prop({ type: 'array', items: [{ type: 'string' }, { type: 'number' }] }),
      expected: params({ type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'number' }] } }),
      why: 'a draft-07 tuple becomes "any of the item schemas"',
    },
    {
      input: prop({ type: 'array', prefixItems: [{ type: 'number' }, { type: 'number' }], items: false }),
      expected: params({ type: 'array', items: { anyOf: [{ type: 'number' }, { type: 'number' }] } }),
      why: 'a 2020-12 tuple (prefixItems) too',
    },
    {
      input: prop({ type: 'array', prefixItems: [{ type: 'number' }] }),
      expected: params({ type: 'array', items: { type: 'number' } }),
      why: 'a one-item tuple is its item schema',
    },
    {
      input: prop({
        type: 'object',
        description: 'Filter',
        properties: {
          tags: { type: 'array', items: { type: 'object', properties: { name: { type: 'string', maxLength: 10 } }, required: ['name', 'nope'] } },
          range: { type: 'object', properties: { from: { type: 'string', format: 'date' } } },
        },
        required: ['tags'],
        additionalProperties: false,
      }),
      expected: params({
        type: 'object',
        description: 'Filter',
        properties: {
          tags: {
            type: 'array',
            items: { type: 'object', properties: { name: { type: 'string', description: 'Maximum length: 10.' } }, required: ['name'] },
          },
          range: { type: 'object', properties: { from: { type: 'string', format: 'date' } } },
        },
        required: ['tags'],
      }),
      why: 'nested objects and arrays keep their structure; nested required lists only existing properties',
    },
    {
      input: prop({ type: 'object', properties: { type: { type: 'string' }, properties: { type: 'integer' }, items: { type: 'boolean' } } }),
      expected: params({ type: 'object', properties: { type: { type: 'string' }, properties: { type: 'integer' }, items: { type: 'boolean' } } }),
      why: 'properties named like keywords are properties',
    },
  ])('$why', ({ input, expected }) => check(input, expected));
});

describe('reduceSchema never fails and always yields the subset', () => {
  // A seeded generator of hostile, schema-like values: every output must validate.
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
  }
  const pick = <T,>(next: () => number, items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const TYPES = ['string', 'integer', 'number', 'boolean', 'array', 'object', 'null', 'any', ['string', 'null'], ['integer', 'array']];
  const VALUES = [null, true, 0, 1.5, 'x', [], {}, [1, 'a', null], { k: 'v' }];

  function schema(next: () => number, depth: number): unknown {
    if (depth > 4 || next() < 0.1) return pick(next, [true, false, {}, null, 3, 'str', ...VALUES]);
    const node: Record<string, unknown> = {};
    const keys = [
      ...['type', 'properties', 'items', 'prefixItems', 'anyOf', 'oneOf', 'allOf', '$ref', 'enum', 'const'],
      ...['default', 'format', 'pattern', 'required', 'minimum', 'nullable', 'description'],
    ];
    for (const key of keys) {
      if (next() > 0.3) continue;
      if (key === 'type') node.type = pick(next, TYPES);
      else if (key === 'properties') node.properties = { a: schema(next, depth + 1), b: schema(next, depth + 1) };
      else if (key === 'items') node.items = next() < 0.2 ? [schema(next, depth + 1)] : schema(next, depth + 1);
      else if (['anyOf', 'oneOf', 'allOf', 'prefixItems'].includes(key)) node[key] = [schema(next, depth + 1), schema(next, depth + 1)];
      else if (key === '$ref') node.$ref = pick(next, ['#', '#/$defs/A', '#/$defs/B', '#/nope', 'http://x', '#/properties/a']);
      else if (key === 'enum') node.enum = pick(next, [[], ['a'], [1, 2], ['a', 1, null], [true], [{}]]);
      else if (key === 'format') node.format = pick(next, ['date-time', 'email', 'int32', 7]);
      else if (key === 'pattern') node.pattern = pick(next, ['^a', '(', 5]);
      else if (key === 'required') node.required = pick(next, [['a'], ['a', 'z'], 'a', [1]]);
      else if (key === 'minimum') node.minimum = pick(next, [0, 'low']);
      else if (key === 'nullable') node.nullable = pick(next, [true, 'yes']);
      else if (key === 'description') node.description = pick(next, ['d', 5, '']);
      else node[key] = pick(next, VALUES);
    }
    return node;
  }

  test.each(Array.from({ length: 300 }, (_, seed) => ({ seed })))('random schema #$seed', ({ seed }) => {
    const next = random(seed + 1);
    const root = { ...(schema(next, 0) as object), $defs: { A: schema(next, 1), B: { $ref: '#/$defs/A' } } };
    expect(validateSwaigParameters(reduceSchema(root))).toEqual([]);
  });
});

describe('bounds that are only the number type’s own limits', () => {
  test('zod’s ±MAX_SAFE_INTEGER on integers never reaches a description; real bounds still do', () => {
    const schema = z.toJSONSchema(z.object({ count: z.number().int(), page: z.number().int().min(1).max(50), ratio: z.number().min(0) }));
    const reduced = reduceSchema(schema as Record<string, unknown>);
    const text = JSON.stringify(reduced);
    expect(text).not.toContain('9007199254740991');
    expect(reduced.properties['page']).toMatchObject({ description: 'Minimum: 1. Maximum: 50.' });
    expect(reduced.properties['ratio']).toMatchObject({ description: 'Minimum: 0.' });
  });
});
