/** A JSON object (not null, not an array): what configs, request bodies and tool arguments must be. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
