import { describe, expect, test } from 'vitest';
import { validateSwaigParameters } from '../../../src/faces/swaig/validate-parameters.js';

interface Row {
  input: unknown;
  expected: string[];
  why: string;
}

/** Wraps one property schema as the `p` property of an otherwise valid top level. */
const prop = (schema: unknown): unknown => ({ type: 'object', properties: { p: schema } });
const at = '$.properties["p"]';

describe('validateSwaigParameters (swaig-protocol.md §3.3)', () => {
  describe('valid schemas', () => {
    test.each<Row>([
      {
        input: { type: 'object', properties: {} },
        expected: [],
        why: 'the minimal top level',
      },
      {
        input: {
          type: 'object',
          properties: {
            text: { type: 'string', description: 'Item text' },
            priority: { type: 'integer', enum: [1, 2, 3] },
          },
          required: ['text'],
        },
        expected: [],
        why: 'the argument_desc of the reference function-call example',
      },
      {
        input: prop({
          type: 'string',
          description: 'd',
          nullable: true,
          enum: ['a', 'b'],
          default: 'a',
          pattern: '^[a-z]+$',
          format: 'date_time',
        }),
        expected: [],
        why: 'every keyword a string may carry',
      },
      { input: prop({ type: 'number', enum: [1.5, 2], default: 2, nullable: false }), expected: [], why: 'number keywords' },
      { input: prop({ type: 'boolean', default: false, description: 'flag' }), expected: [], why: 'boolean keywords' },
      {
        input: prop({ type: 'array', items: { type: 'array', items: { type: 'string' } }, default: [] }),
        expected: [],
        why: 'nested arrays, each with items',
      },
      {
        input: prop({
          type: 'object',
          properties: { a: { type: 'object', properties: { b: { type: 'integer' } }, required: ['b'] } },
          required: ['a'],
          default: { a: { b: 1 } },
        }),
        expected: [],
        why: 'nested objects with required',
      },
      { input: prop({ type: 'object' }), expected: [], why: 'properties are optional below the top level' },
      { input: prop({ type: 'null', description: 'Always null.' }), expected: [], why: 'null with its required description' },
      {
        input: prop({ anyOf: [{ type: 'string' }, { oneOf: [{ type: 'integer' }, { const: 3 }] }, { allOf: [{ type: 'number' }] }] }),
        expected: [],
        why: 'combinators nest property schemas',
      },
      { input: prop({ const: { any: ['json'] } }), expected: [], why: 'const may hold any JSON value' },
      {
        input: { type: 'object', properties: { ['__proto__']: { type: 'string' } }, required: ['__proto__'] },
        expected: [],
        why: 'a property literally named __proto__ is an ordinary property',
      },
    ])('$why', ({ input, expected }) => {
      expect(validateSwaigParameters(input)).toEqual(expected);
    });
  });

  describe('invalid schemas', () => {
    test.each<Row>([
      { input: null, expected: ['$: parameters must be an object'], why: 'not an object' },
      { input: [], expected: ['$: parameters must be an object'], why: 'an array is not an object' },
      { input: { properties: {} }, expected: ['$: type must be "object"'], why: 'the top level needs type object' },
      { input: { type: 'object' }, expected: ['$: properties is required'], why: 'the top level needs properties' },
      {
        input: { type: 'object', properties: [] },
        expected: ['$: properties must be an object'],
        why: 'properties must be a map',
      },
      {
        input: { type: 'object', properties: {}, $schema: 'x', additionalProperties: false, title: 't', description: 'd' },
        expected: [
          '$: "$schema" is not allowed at the top level',
          '$: "additionalProperties" is not allowed at the top level',
          '$: "title" is not allowed at the top level',
          '$: "description" is not allowed at the top level',
        ],
        why: 'nothing but type, properties and required at the top level',
      },
      {
        input: { type: 'object', properties: { a: { type: 'string' } }, required: ['a', 'b', 'a'] },
        expected: ['$: required lists a name twice', '$: required names "b", which is not a property'],
        why: 'required lists existing properties, once',
      },
      {
        input: { type: 'object', properties: {}, required: 'a' },
        expected: ['$: required must be an array of strings'],
        why: 'required must be an array',
      },
      {
        input: { type: 'object', properties: {}, required: ['toString'] },
        expected: ['$: required names "toString", which is not a property'],
        why: 'inherited object members are not properties',
      },
      {
        input: prop({ type: 'integer', minimum: 1, maximum: 10 }),
        expected: [`${at}: "minimum" is not allowed for type integer`, `${at}: "maximum" is not allowed for type integer`],
        why: 'numeric bounds are outside the subset',
      },
      {
        input: prop({ type: 'string', minLength: 1, title: 'T', examples: ['x'] }),
        expected: [
          `${at}: "minLength" is not allowed for type string`,
          `${at}: "title" is not allowed for type string`,
          `${at}: "examples" is not allowed for type string`,
        ],
        why: 'lengths, titles and examples are outside the subset',
      },
      {
        input: prop({ type: 'object', properties: {}, additionalProperties: false }),
        expected: [`${at}: "additionalProperties" is not allowed for type object`],
        why: 'additionalProperties is outside the subset on nested objects too',
      },
      {
        input: prop({ type: ['string', 'null'] }),
        expected: [`${at}: type must be one of string, integer, number, boolean, array, object, null`],
        why: 'type arrays are outside the subset',
      },
      {
        input: prop({ type: 'any' }),
        expected: [`${at}: type must be one of string, integer, number, boolean, array, object, null`],
        why: 'unknown type names',
      },
      { input: prop({ type: 'array' }), expected: [`${at}: an array needs items`], why: 'arrays need items' },
      {
        input: prop({ type: 'array', items: { type: 'array' } }),
        expected: [`${at}.items: an array needs items`],
        why: 'nested arrays need items too',
      },
      {
        input: prop({ type: 'string', format: 'date-time' }),
        expected: [`${at}: format must be one of date_time, time, date, duration, email, hostname, ipv4, ipv6, uri, uuid`],
        why: 'SWAIG spells it date_time',
      },
      {
        input: prop({ type: 'string', pattern: '([a-z' }),
        expected: [`${at}: pattern must be a valid regular expression`],
        why: 'a pattern must compile',
      },
      {
        input: prop({ type: 'integer', format: 'int64' }),
        expected: [`${at}: "format" is not allowed for type integer`],
        why: 'format belongs to strings only',
      },
      {
        input: prop({ type: 'boolean', enum: [true] }),
        expected: [`${at}: "enum" is not allowed for type boolean`],
        why: 'booleans have no enum',
      },
      {
        input: prop({ type: 'integer', enum: [1, 2.5], default: '1' }),
        expected: [`${at}: default must be of type integer`, `${at}: every enum value must be of type integer`],
        why: 'enum values and defaults must have the property type',
      },
      {
        input: prop({ type: 'string', enum: [] }),
        expected: [`${at}: enum must be a non-empty array`],
        why: 'an empty enum allows nothing',
      },
      {
        input: prop({ type: 'string', enum: ['a', null] }),
        expected: [`${at}: every enum value must be of type string`],
        why: 'null in an enum is expressed with nullable instead',
      },
      {
        input: prop({ type: 'string', nullable: 'yes', description: 3 }),
        expected: [`${at}: description must be a string`, `${at}: nullable must be a boolean`],
        why: 'description is text and nullable a boolean',
      },
      {
        input: prop({ type: 'null' }),
        expected: [`${at}: type null needs a description`],
        why: 'the null property requires a description',
      },
      {
        input: prop({ type: 'null', description: 'x', nullable: true }),
        expected: [`${at}: "nullable" is not allowed for type null`],
        why: 'the null property is not nullable',
      },
      {
        input: prop({ anyOf: [{ type: 'string' }], description: 'd' }),
        expected: [`${at}: needs a type, or exactly one of anyOf, oneOf, allOf, const and nothing else`],
        why: 'a combinator carries only its own key',
      },
      {
        input: prop({ const: 1, description: 'd' }),
        expected: [`${at}: needs a type, or exactly one of anyOf, oneOf, allOf, const and nothing else`],
        why: 'const carries only its own key',
      },
      {
        input: prop({ anyOf: [] }),
        expected: [`${at}: anyOf must be a non-empty array`],
        why: 'an empty combinator allows nothing',
      },
      {
        input: prop({ oneOf: [{ type: 'string' }, { type: 'array' }] }),
        expected: [`${at}.oneOf[1]: an array needs items`],
        why: 'combinator members are checked like properties',
      },
      {
        input: prop({ $ref: '#/$defs/X' }),
        expected: [`${at}: needs a type, or exactly one of anyOf, oneOf, allOf, const and nothing else`],
        why: '$ref is outside the subset',
      },
      { input: prop({}), expected: [`${at}: needs a type, or exactly one of anyOf, oneOf, allOf, const and nothing else`], why: 'an empty schema has no type' },
      { input: prop('string'), expected: [`${at}: must be an object`], why: 'a property schema must be an object' },
      {
        input: prop({ type: 'object', properties: { 'a b': { type: 'array', items: {} } }, required: ['c'] }),
        expected: [
          `${at}.properties["a b"].items: needs a type, or exactly one of anyOf, oneOf, allOf, const and nothing else`,
          `${at}: required names "c", which is not a property`,
        ],
        why: 'nested problems carry their path',
      },
    ])('$why', ({ input, expected }) => {
      expect(validateSwaigParameters(input)).toEqual(expected);
    });
  });
});
