import { createHash } from 'node:crypto';

/** A (service, MCP tool) pair as the gateway knows it. */
export interface ToolRef {
  service: string;
  tool: string;
}

/** Built once per catalogue (STYLE §3.7); both directions are map look-ups. */
export interface FunctionNameTable {
  nameOf(service: string, tool: string): string | undefined;
  resolve(functionName: string): ToolRef | undefined;
}

/** LLM providers cap tool names at 64; SignalWire documents no limit of its own. */
const MAX_NAME_LENGTH = 64;
const HASH_HEX_CHARS = 6;
/** Keeps at least 7 characters of the readable name even when hashes must grow. */
const MAX_HASH_HEX_CHARS = MAX_NAME_LENGTH - 8;
/** Names the platform treats specially (swaig-protocol.md §3.2, §5): a tool must never take one. */
const RESERVED_NAMES: ReadonlySet<string> = new Set(['hangup_hook', 'startup_hook', 'summarize_conversation']);

interface Entry {
  ref: ToolRef;
  plain: string;
  /** 0 = the plain name is used; otherwise how many hex characters of the hash are appended. */
  hashHexChars: number;
}

/**
 * SWAIG function names for MCP tools (SPEC §9): `<prefix><service>_<tool>` with every character
 * outside `[A-Za-z0-9_]` replaced by `_`, as the Python skill names them. A name that is too long
 * or reserved gets `_` + a short hash of (service, tool); when names clash, every tool in the clash
 * gets (or lengthens) its hash, so a name depends only on the set of tools, never on their order.
 */
export function buildFunctionNames(prefix: string, tools: readonly ToolRef[]): FunctionNameTable {
  const entries = new Map<string, Entry>();
  for (const { service, tool } of tools) {
    const key = pairKey(service, tool);
    if (entries.has(key)) continue;
    entries.set(key, { ref: { service, tool }, plain: plainName(prefix, service, tool), hashHexChars: 0 });
  }
  const all = [...entries.values()];
  for (const entry of all) {
    if (entry.plain.length > MAX_NAME_LENGTH || RESERVED_NAMES.has(entry.plain)) {
      entry.hashHexChars = HASH_HEX_CHARS;
    }
  }
  // Lengthening the hashes separates every clash, because sha256 of distinct (service, tool) pairs
  // differ. A plain name that equals another tool's hashed name joins the clash, keeping it symmetric.
  for (let clashing = findClashes(all); clashing.length > 0; clashing = findClashes(all)) {
    if (clashing.every((entry) => entry.hashHexChars === MAX_HASH_HEX_CHARS)) {
      // Only reachable when a service name contains NUL, which config validation forbids (SPEC §3).
      throw new Error(`SWAIG function names clash: ${clashing.map(functionName).join(', ')}`);
    }
    for (const entry of clashing) {
      const longer = entry.hashHexChars === 0 ? HASH_HEX_CHARS : entry.hashHexChars + 2;
      entry.hashHexChars = Math.min(longer, MAX_HASH_HEX_CHARS);
    }
  }

  const nameByKey = new Map([...entries].map(([key, entry]) => [key, functionName(entry)]));
  const byName = new Map(all.map((entry) => [functionName(entry), entry.ref]));
  return {
    nameOf: (service, tool) => nameByKey.get(pairKey(service, tool)),
    resolve: (name) => {
      const ref = byName.get(name);
      return ref ? { ...ref } : undefined;
    },
  };
}

function findClashes(entries: readonly Entry[]): Entry[] {
  const claims = new Map<string, number>();
  for (const entry of entries) {
    const name = functionName(entry);
    claims.set(name, (claims.get(name) ?? 0) + 1);
  }
  return entries.filter((entry) => (claims.get(functionName(entry)) ?? 0) > 1);
}

function functionName({ ref, plain, hashHexChars }: Entry): string {
  if (hashHexChars === 0) return plain;
  const hash = createHash('sha256').update(`${ref.service}\0${ref.tool}`).digest('hex').slice(0, hashHexChars);
  return `${plain.slice(0, MAX_NAME_LENGTH - hash.length - 1)}_${hash}`;
}

function plainName(prefix: string, service: string, tool: string): string {
  const name = `${prefix}${service}_${tool}`.replace(/[^A-Za-z0-9_]/gu, '_');
  // The SDKs accept only names matching ^[A-Za-z_][A-Za-z0-9_]*$ (swaig-protocol.md §8); only an
  // empty prefix in front of a service name starting with a digit can break that.
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** JSON keeps the key unambiguous whatever characters the names contain. */
function pairKey(service: string, tool: string): string {
  return JSON.stringify([service, tool]);
}
