/**
 * `${VAR}` / `${VAR|default}` substitution (SPEC §3). Runs on the raw JSON tree before validation,
 * so a substituted "8100" is converted to a number only where the schema asks for one.
 */
import { isPlainObject } from '../json.js';

// Names are shell-style identifiers, so a literal "${" elsewhere in a value (a password, say)
// survives unless it really looks like a reference. The default runs to the first "}".
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:\|([^}]*))?\}/g;

/** Told of each `${VAR}` without a default whose variable is unset, so errors can name it. */
export type OnUnset = (variable: string, path: PropertyKey[]) => void;

/**
 * A set variable wins even when empty, as `os.environ.get(name, default)` does in the reference;
 * an unset one without a default becomes "".
 */
export function substituteEnv(value: string, env: Record<string, string | undefined>, onUnset?: (variable: string) => void): string {
  return value.replace(REFERENCE, (_match, name: string, fallback: string | undefined) => {
    const set = env[name];
    if (set === undefined && fallback === undefined) onUnset?.(name);
    return set ?? fallback ?? '';
  });
}

/** Substitutes every string in a parsed JSON tree; keys and non-string values are left alone. */
export function substituteEnvDeep(value: unknown, env: Record<string, string | undefined>, onUnset?: OnUnset, path: PropertyKey[] = []): unknown {
  if (typeof value === 'string') return substituteEnv(value, env, onUnset && ((variable) => onUnset(variable, path)));
  if (Array.isArray(value)) return value.map((item, index) => substituteEnvDeep(item, env, onUnset, [...path, index]));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substituteEnvDeep(item, env, onUnset, [...path, key])]));
  }
  return value;
}
