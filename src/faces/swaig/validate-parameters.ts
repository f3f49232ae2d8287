import { isPlainObject } from '../../json.js';

/**
 * Checks a SWAIG function `parameters` schema against the subset SignalWire documents
 * (swaig-protocol.md §3.3 = signalwire/docs `specs/swml/calling/Methods/ai/swaig/functions/parameters.tsp`,
 * the SDK's `$defs/FunctionParameters`). Returns one line per problem, `<path>: <problem>`; an empty
 * list means valid. Strict on purpose: whether the platform rejects keywords outside the subset
 * is unknown (§11.12), so the reducer must never produce one.
 */
export function validateSwaigParameters(schema: unknown): string[] {
  const problems: string[] = [];
  if (!isPlainObject(schema)) return ['$: parameters must be an object'];
  if (schema.type !== 'object') problems.push('$: type must be "object"');
  for (const key of Object.keys(schema)) {
    if (!TOP_LEVEL_KEYS.has(key)) problems.push(`$: "${key}" is not allowed at the top level`);
  }
  if (!('properties' in schema)) problems.push('$: properties is required');
  checkProperties(schema, '$', problems);
  return problems;
}

const TOP_LEVEL_KEYS: ReadonlySet<string> = new Set(['type', 'properties', 'required']);

/** `StringFormat` in parameters.tsp: JSON Schema's `date-time` is spelled `date_time` there. */
export const SWAIG_STRING_FORMATS: ReadonlySet<string> = new Set([
  'date_time', 'time', 'date', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uri', 'uuid',
]);

const COMMON_KEYS = ['type', 'description', 'nullable'] as const;

/** Keys each property type may carry (parameters.tsp `*Property` models). */
const KEYS_BY_TYPE: Readonly<Record<string, ReadonlySet<string>>> = {
  string: new Set([...COMMON_KEYS, 'enum', 'default', 'pattern', 'format']),
  integer: new Set([...COMMON_KEYS, 'enum', 'default']),
  number: new Set([...COMMON_KEYS, 'enum', 'default']),
  boolean: new Set([...COMMON_KEYS, 'default']),
  array: new Set([...COMMON_KEYS, 'default', 'items']),
  object: new Set([...COMMON_KEYS, 'default', 'properties', 'required']),
  // NullProperty does not extend the base model: no `nullable`, and `description` is required.
  null: new Set(['type', 'description']),
};

/** Which JSON values `enum` and `default` may hold for each type. */
const VALUE_OF_TYPE: Readonly<Record<string, (value: unknown) => boolean>> = {
  string: (value) => typeof value === 'string',
  integer: (value) => Number.isInteger(value),
  number: (value) => typeof value === 'number' && Number.isFinite(value),
  boolean: (value) => typeof value === 'boolean',
  array: (value) => Array.isArray(value),
  object: isPlainObject,
};

/** True when `value` may appear in `enum` or `default` of a property of `type`. */
export function isSwaigValueOfType(type: string, value: unknown): boolean {
  return Object.hasOwn(VALUE_OF_TYPE, type) && (VALUE_OF_TYPE[type]?.(value) ?? false);
}

/** Combinator properties carry only their one key (`OneOfProperty`, ..., `ConstProperty`). */
const COMBINATOR_KEYS: ReadonlySet<string> = new Set(['anyOf', 'oneOf', 'allOf']);

function checkProperty(node: unknown, path: string, problems: string[]): void {
  if (!isPlainObject(node)) {
    problems.push(`${path}: must be an object`);
    return;
  }
  if (!('type' in node)) {
    checkCombinator(node, path, problems);
    return;
  }
  const type = typeof node.type === 'string' ? node.type : '';
  const allowed = Object.hasOwn(KEYS_BY_TYPE, type) ? KEYS_BY_TYPE[type] : undefined;
  if (!allowed) {
    problems.push(`${path}: type must be one of ${Object.keys(KEYS_BY_TYPE).join(', ')}`);
    return;
  }
  for (const key of Object.keys(node)) {
    if (!allowed.has(key)) problems.push(`${path}: "${key}" is not allowed for type ${type}`);
  }
  if (type === 'null' && typeof node.description !== 'string') {
    problems.push(`${path}: type null needs a description`);
  } else if ('description' in node && typeof node.description !== 'string') {
    problems.push(`${path}: description must be a string`);
  }
  if ('nullable' in node && typeof node.nullable !== 'boolean') problems.push(`${path}: nullable must be a boolean`);
  checkValues(node, type, path, problems);
  if (type === 'string') checkStringKeywords(node, path, problems);
  if (type === 'array') {
    if ('items' in node) checkProperty(node.items, `${path}.items`, problems);
    else problems.push(`${path}: an array needs items`);
  }
  if (type === 'object') checkProperties(node, path, problems);
}

function checkCombinator(node: Record<string, unknown>, path: string, problems: string[]): void {
  const keys = Object.keys(node);
  const [key] = keys;
  if (keys.length !== 1 || key === undefined || !(COMBINATOR_KEYS.has(key) || key === 'const')) {
    problems.push(`${path}: needs a type, or exactly one of anyOf, oneOf, allOf, const and nothing else`);
    return;
  }
  if (key === 'const') return;
  const members = node[key];
  if (!Array.isArray(members) || members.length === 0) {
    problems.push(`${path}: ${key} must be a non-empty array`);
    return;
  }
  members.forEach((member, index) => checkProperty(member, `${path}.${key}[${index}]`, problems));
}

function checkValues(node: Record<string, unknown>, type: string, path: string, problems: string[]): void {
  if (!Object.hasOwn(VALUE_OF_TYPE, type)) return;
  const isValue = (value: unknown): boolean => isSwaigValueOfType(type, value);
  if ('default' in node && !isValue(node.default)) problems.push(`${path}: default must be of type ${type}`);
  if (!('enum' in node)) return;
  if (!Array.isArray(node.enum) || node.enum.length === 0) problems.push(`${path}: enum must be a non-empty array`);
  else if (!node.enum.every(isValue)) problems.push(`${path}: every enum value must be of type ${type}`);
}

function checkStringKeywords(node: Record<string, unknown>, path: string, problems: string[]): void {
  if ('format' in node && !(typeof node.format === 'string' && SWAIG_STRING_FORMATS.has(node.format))) {
    problems.push(`${path}: format must be one of ${[...SWAIG_STRING_FORMATS].join(', ')}`);
  }
  if (!('pattern' in node)) return;
  if (typeof node.pattern !== 'string' || !isValidPattern(node.pattern)) {
    problems.push(`${path}: pattern must be a valid regular expression`);
  }
}

/** `properties` (optional below the top level) and `required`, which must name existing properties. */
function checkProperties(node: Record<string, unknown>, path: string, problems: string[]): void {
  const properties = isPlainObject(node.properties) ? node.properties : {};
  if ('properties' in node && !isPlainObject(node.properties)) problems.push(`${path}: properties must be an object`);
  for (const [name, property] of Object.entries(properties)) {
    checkProperty(property, `${path}.properties[${JSON.stringify(name)}]`, problems);
  }
  if (!('required' in node)) return;
  const required = node.required;
  if (!Array.isArray(required) || !required.every((name) => typeof name === 'string')) {
    problems.push(`${path}: required must be an array of strings`);
    return;
  }
  if (new Set(required).size !== required.length) problems.push(`${path}: required lists a name twice`);
  for (const name of required) {
    if (!Object.hasOwn(properties, name)) problems.push(`${path}: required names "${name}", which is not a property`);
  }
}

/** JSON Schema patterns are ECMA-262 regular expressions, so the JavaScript engine is the judge. */
export function isValidPattern(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

