import type { Tool } from '@modelcontextprotocol/client';
import type { SwaigConfig } from '../../config/types.js';
import type { ToolCalls } from '../../sessions/tool-calls.js';
import { buildFunctionNames, type FunctionNameTable, type ToolRef } from './names.js';
import { reduceSchema, type SwaigParameters } from './schema-reduce.js';

/** The reserved name the platform calls when the call ends (swaig-protocol.md §5.1). */
export const HANGUP_HOOK = 'hangup_hook';

/** One entry of a `get_signature` reply (swaig-protocol.md §3.2, §4.3). */
export interface SwaigFunctionDefinition {
  function: string;
  description: string;
  parameters: SwaigParameters;
  web_hook_url: string;
  fillers?: Record<string, string[]>;
}

export interface SignatureQuery {
  webHookUrl: string;
  /** The `?services=` restriction; absent = every enabled service. */
  services?: ReadonlySet<string>;
  /** Names a `get_signature` asked for; absent or empty = all (SPEC §9). */
  functions?: readonly string[];
}

export interface SwaigSignatures {
  /** Definitions for a request, plus `hangup_hook` unless `include_hangup_hook` is false. */
  definitions(query: SignatureQuery): SwaigFunctionDefinition[];
  /** The (service, tool) behind a function name, if it is offered within `services`. */
  resolve(functionName: string, services?: ReadonlySet<string>): ToolRef | undefined;
}

type UnboundDefinition = Omit<SwaigFunctionDefinition, 'web_hook_url'>;

interface Snapshot {
  /** The catalogue's arrays the snapshot was built from, one per enabled service. */
  lists: ReadonlyArray<Tool[] | undefined>;
  names: FunctionNameTable;
  functions: ReadonlyArray<{ service: string; definition: UnboundDefinition }>;
}

const HANGUP_DEFINITION: UnboundDefinition = {
  function: HANGUP_HOOK,
  description: 'Internal: closes the MCP sessions of this call when it ends.',
  parameters: { type: 'object', properties: {} },
};

/**
 * SWAIG function definitions for the catalogue's tools (SPEC §9). Names and reduced schemas are
 * built once per catalogue version, not per request (STYLE §3.7): the catalogue replaces a
 * service's array when its tools change, so array identity is the version. Only cached lists are
 * read, so discovery never starts an MCP server (SPEC §6); a service whose list was never loaded
 * is absent until it is.
 */
export function createSwaigSignatures(deps: { swaig: SwaigConfig; toolCalls: Pick<ToolCalls, 'services' | 'cachedTools'> }): SwaigSignatures {
  const { swaig, toolCalls } = deps;
  let snapshot: Snapshot | undefined;

  const current = (): Snapshot => {
    const services = toolCalls.services().map((service) => service.name);
    const lists = services.map((service) => toolCalls.cachedTools(service));
    if (snapshot && isSameVersion(snapshot.lists, lists)) return snapshot;
    snapshot = buildSnapshot(swaig, services, lists);
    return snapshot;
  };

  return {
    definitions({ webHookUrl, services, functions = [] }) {
      const wanted = new Set(functions);
      const chosen = current().functions.filter(
        (entry) => (services === undefined || services.has(entry.service)) && (wanted.size === 0 || wanted.has(entry.definition.function)),
      );
      const definitions = chosen.map(({ definition }) => ({ ...definition, web_hook_url: webHookUrl }));
      // Always offered: the platform registers everything returned, and without the hook a call's
      // sessions would live until the idle sweep (swaig-protocol.md §5.2).
      if (swaig.include_hangup_hook) definitions.push({ ...HANGUP_DEFINITION, web_hook_url: webHookUrl });
      return definitions;
    },
    resolve(functionName, services) {
      const ref = current().names.resolve(functionName);
      return ref && (services === undefined || services.has(ref.service)) ? ref : undefined;
    },
  };
}

function buildSnapshot(swaig: SwaigConfig, services: readonly string[], lists: ReadonlyArray<Tool[] | undefined>): Snapshot {
  const tools = services.flatMap((service, index) => (lists[index] ?? []).map((tool) => ({ service, tool })));
  // One table over every enabled service, so a name never depends on a request's `?services=`.
  const names = buildFunctionNames(swaig.function_prefix, tools.map(({ service, tool }) => ({ service, tool: tool.name })));
  const functions = tools.map(({ service, tool }) => {
    const fillers = swaig.fillers[service];
    const definition: UnboundDefinition = {
      function: names.nameOf(service, tool.name)!,
      description: `[${service}] ${tool.description || tool.title || tool.name}`,
      parameters: reduceSchema(tool.inputSchema),
      ...(fillers === undefined ? {} : { fillers }),
    };
    return { service, definition };
  });
  return { lists, names, functions };
}

function isSameVersion(previous: ReadonlyArray<Tool[] | undefined>, next: ReadonlyArray<Tool[] | undefined>): boolean {
  return previous.length === next.length && previous.every((list, index) => list === next[index]);
}

export interface WebHookUrlSource {
  publicUrl: string;
  /** Scheme and Host of the request, used when no `public_url` is configured. */
  protocol: string;
  host: string;
  authorization: string | undefined;
  services?: ReadonlySet<string>;
}

/**
 * Where SignalWire must send function calls (SPEC §9): `public_url` + `/swaig`, else the
 * request's scheme and Host. Behind a proxy that rewrites Host or terminates TLS without
 * `trust_proxy`, only `public_url` is right (documented limitation). Without `public_url`, the
 * Basic credentials of the discovery request are put back in the URL: the platform sends calls
 * without them otherwise, and they go only to the caller who presented them (swaig-protocol.md §3.4).
 */
export function buildWebHookUrl(source: WebHookUrlSource): string {
  const base = source.publicUrl === ''
    ? `${source.protocol}://${basicUserinfo(source.authorization)}${source.host}`
    : source.publicUrl.replace(/\/+$/u, '');
  const services = source.services === undefined ? '' : `?services=${[...source.services].map(encodeURIComponent).join(',')}`;
  return `${base}/swaig${services}`;
}

/**
 * Why a `web_hook_url` built for this request would get every function call a 401, if it would:
 * the platform authenticates only with Basic credentials in the URL (swaig-protocol.md §3.4).
 */
export function webHookUrlProblem(source: Pick<WebHookUrlSource, 'publicUrl' | 'authorization'>, isBasicConfigured: boolean): string | undefined {
  if (source.publicUrl !== '') return undefined;
  if (!isBasicConfigured) {
    return 'SignalWire can only authenticate with Basic credentials in web_hook_url: set server.auth_user and server.auth_password, or swaig.public_url';
  }
  if (basicUserinfo(source.authorization) === '') {
    return 'web_hook_url would carry no credentials: discover with Basic credentials, or set swaig.public_url';
  }
  return undefined;
}

/** `user:pass@` from a Basic header, percent-encoded for a URL; '' for Bearer or anything else. */
function basicUserinfo(authorization: string | undefined): string {
  const match = /^\s*basic\s+(\S+)\s*$/iu.exec(authorization ?? '');
  if (!match) return '';
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return '';
  return `${encodeURIComponent(decoded.slice(0, colon))}:${encodeURIComponent(decoded.slice(colon + 1))}@`;
}
