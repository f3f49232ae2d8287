import { isPlainObject } from '../../json.js';
import { isSwaigValueOfType, isValidPattern, SWAIG_STRING_FORMATS } from './validate-parameters.js';

/** A SWAIG function's `parameters` (swaig-protocol.md §3.3): nothing else is allowed at the top. */
export interface SwaigParameters {
  type: 'object';
  properties: Record<string, SwaigProperty>;
  required?: string[];
}

interface Described {
  description?: string;
  nullable?: boolean;
}

type ObjectProperty = Described & {
  type: 'object';
  properties?: Record<string, SwaigProperty>;
  required?: string[];
  default?: Record<string, unknown>;
};

/** One property schema of the subset; `validateSwaigParameters` checks the same rules at runtime. */
export type SwaigProperty =
  | (Described & { type: 'string'; enum?: string[]; default?: string; pattern?: string; format?: string })
  | (Described & { type: 'integer' | 'number'; enum?: number[]; default?: number })
  | (Described & { type: 'boolean'; default?: boolean })
  | (Described & { type: 'array'; items: SwaigProperty; default?: unknown[] })
  | ObjectProperty
  | { type: 'null'; description: string }
  | { anyOf: SwaigProperty[] }
  | { oneOf: SwaigProperty[] }
  | { allOf: SwaigProperty[] };

type Json = Record<string, unknown>;

const SCHEMA_TYPES = ['string', 'integer', 'number', 'boolean', 'array', 'object', 'null'] as const;
type SchemaType = (typeof SCHEMA_TYPES)[number];

interface Context {
  root: unknown;
  /** `$ref`s being expanded on the path from the root: meeting one again is a cycle. */
  refs: readonly string[];
  depth: number;
  /** Property schemas still allowed in this reduction, shared by the whole walk. */
  budget: { remaining: number };
}

/** Deeper than real tool schemas go; keeps recursion far from the stack limit on hostile input. */
const MAX_DEPTH = 16;
/**
 * Far above real tools (server-everything and server-filesystem need at most 8 per tool); bounds
 * the signature when definitions are reused many times (a 40-level binary $ref DAG expanded to
 * 15 MB without it).
 */
const MAX_NODES = 1000;

/**
 * Reduces an MCP tool `inputSchema` to the SWAIG parameter subset (SPEC §9, swaig-protocol.md
 * §3.3). Never throws: a missing or unusable schema becomes a function without parameters.
 */
export function reduceSchema(inputSchema: unknown): SwaigParameters {
  const ctx: Context = { root: inputSchema, refs: ['#'], depth: 0, budget: { remaining: MAX_NODES } };
  const reduced = reduceNode(inputSchema, ctx);
  if ('type' in reduced) return parameters(isObjectProperty(reduced) ? [reduced] : [], 'all');
  // A union at the top (e.g. `oneOf` argument shapes) offers the properties of every branch;
  // for anyOf/oneOf only what every branch requires stays required.
  if ('allOf' in reduced) return parameters(reduced.allOf.filter(isObjectProperty), 'all');
  const members = 'anyOf' in reduced ? reduced.anyOf : reduced.oneOf;
  return parameters(members.filter(isObjectProperty), 'common');
}

function parameters(objects: readonly ObjectProperty[], required: 'all' | 'common'): SwaigParameters {
  const properties = new Map<string, SwaigProperty>();
  for (const object of objects) {
    for (const [name, property] of Object.entries(object.properties ?? {})) {
      if (!properties.has(name)) properties.set(name, property);
    }
  }
  const lists = objects.map((object) => object.required ?? []);
  const names = lists.flat().filter((name) => required === 'all' || lists.every((list) => list.includes(name)));
  const existing = [...new Set(names)].filter((name) => properties.has(name));
  const result: SwaigParameters = { type: 'object', properties: Object.fromEntries(properties) };
  return existing.length > 0 ? { ...result, required: existing } : result;
}

function reduceNode(schema: unknown, ctx: Context): SwaigProperty {
  // `true`, `{}` and anything unusable accept every value, and any string is one.
  if (!isPlainObject(schema)) return { type: 'string' };
  const { node: found, refs, cycle } = expandRefs(schema, ctx);
  if (cycle) return cutNode(found, cycle.target, `Recursive: same structure as ${refName(cycle.ref)}.`);
  if (ctx.depth > MAX_DEPTH) return cutNode(found, undefined, 'Nested too deeply to describe here.');
  ctx.budget.remaining -= 1;
  if (ctx.budget.remaining < 0) return cutNode(found, undefined, 'Too large to describe here.');
  // const is an enum of one: that keeps the type and description the bare `{const}` form would lose.
  const node = 'const' in found ? { ...omit(found, 'const'), enum: [found.const] } : found;
  const inner: Context = { ...ctx, refs };

  if (Array.isArray(node.allOf)) return reduceAllOf(omit(node, 'allOf'), node.allOf, inner);
  if (Array.isArray(node.anyOf)) return reduceUnion('anyOf', omit(node, 'anyOf'), node.anyOf, inner);
  if (Array.isArray(node.oneOf)) return reduceUnion('oneOf', omit(node, 'oneOf'), node.oneOf, inner);
  if (Array.isArray(node.type)) {
    const types = [...new Set(node.type)].map((type) => ({ type }));
    return reduceUnion('anyOf', omit(node, 'type'), types, inner);
  }
  if (isSchemaType(node.type)) return reduceTyped(node.type, node, inner);
  const values: unknown[] = Array.isArray(node.enum) ? node.enum : [];
  const enumTypes = jsonTypes(values);
  if (enumTypes.length > 1) {
    // Mixed enums become one branch per JSON type, each with its own values.
    const branches = enumTypes.map((type) => ({ type, enum: values.filter((value) => isOfJsonType(value, type)) }));
    return reduceUnion('anyOf', omit(node, 'type', 'enum'), branches, inner);
  }
  return reduceTyped(enumTypes[0] ?? inferType(node), node, inner);
}

interface Expanded {
  node: Json;
  refs: readonly string[];
  cycle?: { ref: string; target: unknown };
}

/** Follows `$ref` chains; sibling keywords refine the target and their description replaces its own. */
function expandRefs(schema: Json, ctx: Context): Expanded {
  let node = schema;
  let refs = ctx.refs;
  while (typeof node.$ref === 'string') {
    const ref = node.$ref;
    const siblings = omit(node, '$ref');
    const target = resolvePointer(ctx.root, ref);
    if (refs.includes(ref)) return { node: siblings, refs, cycle: { ref, target } };
    refs = [...refs, ref];
    // An unresolvable reference (external, $anchor) leaves only what its siblings say.
    if (!isPlainObject(target)) return { node: siblings, refs };
    node = withLocalDescription(mergeSchemas(target, omit(siblings, 'description')) ?? target, siblings);
  }
  return { node, refs };
}

function resolvePointer(root: unknown, ref: string): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let current = root;
  for (const token of ref.slice(2).split('/')) {
    const key = decodePointerToken(token);
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Json)[key];
  }
  return current;
}

function decodePointerToken(token: string): string {
  let decoded = token;
  try {
    decoded = decodeURIComponent(token);
  } catch {
    // A stray '%' is kept literally: a reference the schema cannot resolve is not an error here.
  }
  return decoded.replaceAll('~1', '/').replaceAll('~0', '~');
}

function refName(ref: string): string {
  return ref === '#' ? 'the whole parameter list' : decodePointerToken(ref.slice(ref.lastIndexOf('/') + 1));
}

/** Where expansion must stop: an object stays an object, anything else is passed as JSON text. */
function cutNode(node: Json, target: unknown, note: string): SwaigProperty {
  const shape = isPlainObject(target) ? { ...target, ...node } : node;
  const description = descriptionOf(shape);
  if (shape.type === 'object' || isPlainObject(shape.properties)) {
    return { type: 'object', description: joinText(description, note) };
  }
  return { type: 'string', description: joinText(description, `${note} Pass it as JSON text.`) };
}

function reduceAllOf(siblings: Json, members: unknown[], ctx: Context): SwaigProperty {
  let merged: Json | undefined = omit(siblings, 'description');
  let refs = ctx.refs;
  for (const member of members) {
    if (!isPlainObject(member)) continue;
    const expanded = expandRefs(member, { ...ctx, refs });
    refs = expanded.refs;
    // A member that only repeats an enclosing definition adds no constraint.
    if (!expanded.cycle) merged = merged && mergeSchemas(merged, expanded.node);
  }
  const child = { ...ctx, depth: ctx.depth + 1 };
  // As beside a $ref, the local description replaces the members' own.
  if (merged) return reduceNode(withLocalDescription(merged, siblings), { ...child, refs });
  // Not simple (conflicting types, two unions): keep allOf, which cannot carry a description, so
  // each member gets the shared one.
  const parts = members.map((member) => withDescription(member, descriptionOf(siblings)));
  const shaped = ['type', 'properties', 'items', 'enum', 'const', 'anyOf', 'oneOf'].some((key) => key in siblings);
  return { allOf: (shaped ? [siblings, ...parts] : parts).map((part) => reduceNode(part, child)) };
}

/** anyOf/oneOf: shared keywords go into every branch; null branches become `nullable`. */
function reduceUnion(key: 'anyOf' | 'oneOf', siblings: Json, members: unknown[], ctx: Context): SwaigProperty {
  const child = { ...ctx, depth: ctx.depth + 1 };
  const branch = (member: unknown): unknown =>
    isPlainObject(member) ? (mergeSchemas(siblings, member) ?? withDescription(member, descriptionOf(siblings))) : siblings;
  const reduced = members.filter((member) => member !== false).map((member) => reduceNode(branch(member), child));
  const kept = reduced.filter((member) => !('type' in member && member.type === 'null'));
  const hasNull = kept.length < reduced.length;
  const [first] = kept;
  if (first === undefined) return reduced[0] ?? reduceNode(siblings, ctx);
  if (kept.length === 1) return hasNull ? nullableOf(first) : first;
  const branches = hasNull ? [...kept, nullMember()] : kept;
  return key === 'anyOf' ? { anyOf: branches } : { oneOf: branches };
}

function nullableOf(property: SwaigProperty): SwaigProperty {
  if ('type' in property && property.type !== 'null') return { ...property, nullable: true };
  return { anyOf: [property, nullMember()] };
}

/** Only for unions: the subset's null property must carry a description. */
function nullMember(): SwaigProperty {
  return { type: 'null', description: 'No value.' };
}

function reduceTyped(type: SchemaType, node: Json, ctx: Context): SwaigProperty {
  const notes = keywordNotes(type, node);
  if (type === 'null') return { type, description: joinText(descriptionOf(node), notes.join(' ')) || 'Always null.' };
  const child = { ...ctx, depth: ctx.depth + 1 };
  const out: Json = {};
  if (type === 'array') out.items = reduceItems(node, child);
  if (type === 'object') Object.assign(out, objectKeywords(node, child));
  if (type === 'string') Object.assign(out, stringKeywords(node, notes));
  else if (typeof node.format === 'string') notes.push(`Format: ${node.format}.`);

  const values = Array.isArray(node.enum) ? uniqueValues(node.enum.filter((value) => value !== null)) : [];
  const enumFits = ENUM_TYPES.has(type) && values.every((value) => isSwaigValueOfType(type, value));
  if (values.length > 0 && enumFits) out.enum = values;
  else if (values.length > 0) notes.push(allowedValuesNote(values));
  // A null default only restates that the property is optional.
  if (node.default !== undefined && node.default !== null) {
    if (isSwaigValueOfType(type, node.default)) out.default = node.default;
    else notes.push(`Default: ${JSON.stringify(node.default)}.`);
  }
  const description = joinText(descriptionOf(node), notes.join(' '));
  const nullable = node.nullable === true || (Array.isArray(node.enum) && node.enum.includes(null));
  return { type, ...(description ? { description } : {}), ...(nullable ? { nullable } : {}), ...out } as SwaigProperty;
}

/** The subset allows `enum` on these types only. */
const ENUM_TYPES: ReadonlySet<SchemaType> = new Set(['string', 'integer', 'number']);

function allowedValuesNote(values: readonly unknown[]): string {
  const listed = values.map((value) => JSON.stringify(value));
  return listed.length === 1 ? `Must be ${listed[0]}.` : `Allowed values: ${listed.join(', ')}.`;
}

function stringKeywords(node: Json, notes: string[]): Json {
  const out: Json = {};
  if (typeof node.format === 'string') {
    const format = node.format === 'date-time' ? 'date_time' : node.format;
    if (SWAIG_STRING_FORMATS.has(format)) out.format = format;
    else notes.push(`Format: ${node.format}.`);
  }
  if (typeof node.pattern === 'string') {
    if (isValidPattern(node.pattern)) out.pattern = node.pattern;
    else notes.push(`Pattern: ${node.pattern}.`);
  }
  return out;
}

function reduceItems(node: Json, ctx: Context): SwaigProperty {
  // Tuples (`prefixItems`, draft-07 `items: [...]`) become "any of the listed item schemas".
  const members = [
    ...(Array.isArray(node.prefixItems) ? node.prefixItems : []),
    ...(Array.isArray(node.items) ? node.items : isPlainObject(node.items) ? [node.items] : []),
  ];
  if (members.length > 1) return reduceUnion('anyOf', {}, members, ctx);
  return reduceNode(members[0], ctx);
}

function objectKeywords(node: Json, ctx: Context): Json {
  if (!isPlainObject(node.properties)) return {};
  const entries = Object.entries(node.properties).filter(([, schema]) => schema !== false);
  const properties = Object.fromEntries(entries.map(([name, schema]) => [name, reduceNode(schema, ctx)]));
  const required = Array.isArray(node.required)
    ? uniqueValues(node.required.filter((name) => typeof name === 'string' && Object.hasOwn(properties, name)))
    : [];
  return required.length > 0 ? { properties, required } : { properties };
}

const NUMERIC: readonly SchemaType[] = ['integer', 'number'];

interface KeywordNote {
  key: string;
  types: readonly SchemaType[];
  note: (value: number, node: Json) => string;
}

/** Constraints outside the subset, kept as words so the model still honours them. */
const KEYWORD_NOTES: readonly KeywordNote[] = [
  // draft-04 spelled exclusive bounds as booleans beside minimum/maximum.
  {
    key: 'minimum',
    types: NUMERIC,
    note: (value, node) => (node.exclusiveMinimum === true ? `Greater than ${value}.` : `Minimum: ${value}.`),
  },
  { key: 'exclusiveMinimum', types: NUMERIC, note: (value) => `Greater than ${value}.` },
  {
    key: 'maximum',
    types: NUMERIC,
    note: (value, node) => (node.exclusiveMaximum === true ? `Less than ${value}.` : `Maximum: ${value}.`),
  },
  { key: 'exclusiveMaximum', types: NUMERIC, note: (value) => `Less than ${value}.` },
  { key: 'multipleOf', types: NUMERIC, note: (value) => `Multiple of ${value}.` },
  { key: 'minLength', types: ['string'], note: (value) => `Minimum length: ${value}.` },
  { key: 'maxLength', types: ['string'], note: (value) => `Maximum length: ${value}.` },
  { key: 'minItems', types: ['array'], note: (value) => `Minimum items: ${value}.` },
  { key: 'maxItems', types: ['array'], note: (value) => `Maximum items: ${value}.` },
  { key: 'minProperties', types: ['object'], note: (value) => `Minimum properties: ${value}.` },
  { key: 'maxProperties', types: ['object'], note: (value) => `Maximum properties: ${value}.` },
];

/**
 * Bounds that are only the number type's own limits (zod writes ±Number.MAX_SAFE_INTEGER on every
 * integer) say nothing; "Maximum: 9007199254740991." would only confuse the model.
 */
function isTypeLimit(value: number): boolean {
  return Math.abs(value) >= Number.MAX_SAFE_INTEGER;
}

function keywordNotes(type: SchemaType, node: Json): string[] {
  const notes = KEYWORD_NOTES.flatMap(({ key, types, note }) => {
    const value = node[key];
    return types.includes(type) && typeof value === 'number' && !isTypeLimit(value) ? [note(value, node)] : [];
  });
  if (type === 'array' && node.uniqueItems === true) notes.push('Items must be unique.');
  return notes;
}

/** The type a schema without a usable `type` implies by its keywords; none means any value. */
function inferType(node: Json): SchemaType {
  const has = (...keys: string[]): boolean => keys.some((key) => key in node);
  const objectKeys = ['properties', 'required', 'additionalProperties', 'patternProperties', 'minProperties', 'maxProperties'];
  if (has(...objectKeys)) return 'object';
  if (has('items', 'prefixItems', 'minItems', 'maxItems', 'uniqueItems', 'contains')) return 'array';
  if (has('minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf')) return 'number';
  return 'string';
}

function jsonTypes(values: readonly unknown[]): SchemaType[] {
  const types = new Set(values.map(valueType));
  // One number branch holds integers too.
  if (types.has('number')) types.delete('integer');
  return [...types];
}

function isOfJsonType(value: unknown, type: SchemaType): boolean {
  const actual = valueType(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

function valueType(value: unknown): SchemaType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'boolean') return 'boolean';
  return typeof value === 'object' ? 'object' : 'string';
}

/**
 * The conjunction of two schemas when it is simple, else undefined: types must overlap, enums
 * intersect, properties and required combine, descriptions join; otherwise the first one wins.
 */
function mergeSchemas(a: Json, b: Json): Json | undefined {
  const out: Json = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const current = out[key];
    // defineProperty, not assignment: a key named __proto__ must stay an ordinary key.
    if (!Object.hasOwn(out, key)) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else if (key === 'type') {
      const type = intersectTypes(current, value);
      if (type === undefined) return undefined;
      out.type = type;
    } else if (key === 'enum' && Array.isArray(current) && Array.isArray(value)) {
      const allowed = new Set(value.map((item) => JSON.stringify(item)));
      const common = current.filter((item) => allowed.has(JSON.stringify(item)));
      if (common.length === 0) return undefined;
      out.enum = common;
    } else if (key === 'properties' && isPlainObject(current) && isPlainObject(value)) {
      const merged = new Map(Object.entries(current));
      for (const [name, schema] of Object.entries(value)) {
        const existing = merged.get(name);
        merged.set(name, existing === undefined ? schema : { allOf: [existing, schema] });
      }
      out.properties = Object.fromEntries(merged);
    } else if (key === 'items' && isPlainObject(current) && isPlainObject(value)) out.items = { allOf: [current, value] };
    else if (key === 'required' && Array.isArray(current) && Array.isArray(value)) out.required = [...current, ...value];
    else if (key === 'allOf' && Array.isArray(current) && Array.isArray(value)) out.allOf = [...current, ...value];
    else if (key === 'description') out.description = joinText(descriptionOf(a), descriptionOf(b));
    else if (key === 'anyOf' || key === 'oneOf') return undefined;
  }
  return out;
}

function intersectTypes(a: unknown, b: unknown): string | string[] | undefined {
  const list = (type: unknown): string[] => (Array.isArray(type) ? type : [type]).filter((item) => typeof item === 'string');
  const right = list(b);
  const common = list(a).flatMap((type) => {
    if (right.includes(type)) return [type];
    // An integer is a number: the overlap of the two is the integers.
    const overlapsAsInteger = (type === 'integer' && right.includes('number')) || (type === 'number' && right.includes('integer'));
    return overlapsAsInteger ? ['integer'] : [];
  });
  const unique = [...new Set(common)];
  return unique.length === 0 ? undefined : unique.length === 1 ? unique[0] : unique;
}

function withLocalDescription(node: Json, local: Json): Json {
  return typeof local.description === 'string' ? { ...node, description: local.description } : node;
}

function withDescription(schema: unknown, description: string): unknown {
  if (!description || !isPlainObject(schema)) return schema;
  return { ...schema, description: joinText(description, descriptionOf(schema)) };
}

function descriptionOf(node: Json): string {
  return typeof node.description === 'string' ? node.description.trim() : '';
}

function joinText(first: string, second: string): string {
  if (!first || !second) return first || second;
  return /[.!?]$/.test(first) ? `${first} ${second}` : `${first}. ${second}`;
}

function uniqueValues<T>(values: T[]): T[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    const key = JSON.stringify(value);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function omit(node: Json, ...keys: string[]): Json {
  return Object.fromEntries(Object.entries(node).filter(([key]) => !keys.includes(key)));
}

function isSchemaType(type: unknown): type is SchemaType {
  return SCHEMA_TYPES.some((known) => known === type);
}

function isObjectProperty(property: SwaigProperty): property is ObjectProperty {
  return 'type' in property && property.type === 'object';
}

