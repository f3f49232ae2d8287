import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/types.js';
import { GatewayError, type ErrorCode } from '../../errors.js';
import { isPlainObject } from '../../json.js';
import type { SessionRegistry } from '../../sessions/registry.js';
import type { ToolCalls } from '../../sessions/tool-calls.js';
import { abortWhenClientLeaves } from '../rest/routes.js';
import { checkName } from '../rest/validate.js';
import { renderSwaigResponse, type SwaigReply } from './reply.js';
import { SWAIG_REPLIES, swaigErrorReply } from './replies.js';
import { buildWebHookUrl, createSwaigSignatures, HANGUP_HOOK, webHookUrlProblem, type SwaigFunctionDefinition } from './signature.js';

export interface SwaigDeps {
  config: Config;
  toolCalls: ToolCalls;
  registry: SessionRegistry;
}

export interface SwaigFace {
  routes: ReadonlyArray<{ url: string; methods: string[] }>;
  register(app: FastifyInstance): void;
}

type SwaigRequest = FastifyRequest<{ Querystring: { services?: string | string[] } }>;
type Body = Record<string, unknown>;

/** The MCP server's trouble, not the caller's: logged at `warn` (STYLE §2.6), the rest at `info`. */
const UPSTREAM_TROUBLE: ReadonlySet<ErrorCode> = new Set(['START_FAILED', 'SERVER_EXITED', 'CALL_TIMEOUT', 'MCP_ERROR']);

/** Over `swaig.limit` the model still hears a sentence (SPEC §9), with the X-RateLimit headers set. */
const RATE_LIMITED_REPLY = { status: 200, body: swaigErrorReply(new GatewayError('RATE_LIMITED', 'Rate limit exceeded'), { service: '' }) };

/**
 * The native SWAIG face (SPEC §9): SignalWire discovers functions and calls them here directly.
 * Whatever goes wrong with a call is an HTTP 200 sentence the model can say; only the global
 * hooks answer 401 (credentials) and 400 (a body that is not JSON). The composition root
 * registers the face only when `swaig.enabled`.
 */
export function createSwaigFace(deps: SwaigDeps): SwaigFace {
  const { swaig } = deps.config;
  const signatures = createSwaigSignatures({ swaig, toolCalls: deps.toolCalls });

  const isBasicConfigured = deps.config.server.auth_user !== '' && deps.config.server.auth_password !== '';
  const webHookUrl = (request: SwaigRequest, services: ReadonlySet<string> | undefined): string => {
    // Never hand out a URL every function call through would get 401 for.
    const problem = webHookUrlProblem({ publicUrl: swaig.public_url, authorization: request.headers.authorization }, isBasicConfigured);
    if (problem !== undefined) throw new GatewayError('BAD_REQUEST', problem);
    return buildWebHookUrl({
      publicUrl: swaig.public_url,
      protocol: request.protocol,
      host: request.host,
      authorization: request.headers.authorization,
      services,
    });
  };

  const callFunction = async (name: string, body: Body, services: ReadonlySet<string> | undefined, request: SwaigRequest, reply: FastifyReply): Promise<SwaigReply> => {
    const ref = signatures.resolve(name, services);
    if (!ref) return SWAIG_REPLIES.unknownFunction;
    const args = readArguments(body['argument']);
    if (!args) return SWAIG_REPLIES.invalidArguments;
    const sessionId = sessionIdOf(body);
    if (sessionId === undefined) return SWAIG_REPLIES.missingCallId;
    try {
      checkName('session', sessionId);
      const { result } = await deps.toolCalls.call({
        ...ref,
        sessionId,
        arguments: args,
        signal: abortWhenClientLeaves(reply),
        // The platform gives a function about 30 s; past that the AI has nothing to say.
        budgetMs: swaig.call_timeout * 1000,
      });
      return renderSwaigResponse(result, swaig.max_response_chars);
    } catch (error) {
      logFailure(request.log, error, name);
      return swaigErrorReply(error, ref);
    }
  };

  return {
    routes: [
      { url: '/swaig', methods: ['POST'] },
      { url: '/swaig/functions', methods: ['GET'] },
    ],
    register(app) {
      app.post('/swaig', { config: { limitBucket: 'swaig', limitSessionOf: swaigSessionOf, rateLimitedReply: RATE_LIMITED_REPLY } }, async (request: SwaigRequest, reply: FastifyReply): Promise<SwaigReply | SwaigFunctionDefinition[]> => {
        const body = request.body;
        // Parsed JSON that is not an object is no SWAIG request either (SPEC §4: `Invalid JSON`).
        if (!isPlainObject(body)) throw new GatewayError('BAD_REQUEST', 'Invalid JSON');
        const services = servicesQuery(request.query.services);
        if (body['action'] === 'get_signature') {
          return signatures.definitions({ webHookUrl: webHookUrl(request, services), services, functions: requestedNames(body['functions']) });
        }
        const name = body['function'];
        // No model is behind a body without a function; its sender needs a 400, not a sentence.
        if (typeof name !== 'string' || name === '') throw new GatewayError('BAD_REQUEST', "Missing 'function' parameter");
        if (name === HANGUP_HOOK) return hangUp(deps.registry, body);
        return callFunction(name, body, services, request, reply);
      });

      app.get('/swaig/functions', { config: { limitBucket: 'swaig' } }, async (request: SwaigRequest) => {
        const services = servicesQuery(request.query.services);
        return signatures.definitions({ webHookUrl: webHookUrl(request, services), services });
      });
    },
  };
}

/**
 * Closes every session of the call, across all services whatever `?services=` says: the platform
 * may fire only one of several includes' hooks (swaig-protocol.md §11.4).
 */
function hangUp(registry: SessionRegistry, body: Body): SwaigReply {
  let isAnyClosed = false;
  for (const id of new Set([stringField(body, 'call_id'), stringField(globalData(body), 'mcp_call_id')])) {
    if (id !== undefined && registry.closeSessionId(id, 'hangup')) isAnyClosed = true;
  }
  return isAnyClosed ? SWAIG_REPLIES.sessionsClosed : SWAIG_REPLIES.noSessions;
}

/**
 * `argument.parsed[0]`, else `JSON.parse(argument.raw)`, else `{}` (SPEC §9). Raw text that is
 * not a JSON object is `undefined` rather than `{}`: see SWAIG_REPLIES.invalidArguments.
 */
function readArguments(argument: unknown): Record<string, unknown> | undefined {
  if (!isPlainObject(argument)) return {};
  const parsed = argument['parsed'];
  if (Array.isArray(parsed) && isPlainObject(parsed[0])) return parsed[0];
  const raw = argument['raw'];
  if (typeof raw !== 'string' || raw.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(raw);
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The session a SWAIG request is about, for routing it to the instance that owns it (SPEC §12):
 * a function call's session, or the call a `hangup_hook` ends; none for discovery.
 */
export function swaigSessionRoute(body: unknown): { sessionId: string; isHangup: boolean } | undefined {
  if (!isPlainObject(body) || typeof body['function'] !== 'string') return undefined;
  const sessionId = sessionIdOf(body);
  return sessionId === undefined ? undefined : { sessionId, isHangup: body['function'] === HANGUP_HOOK };
}

/** `global_data.mcp_call_id` lets an agent pin the session, as the Python skill does; else the call. */
function sessionIdOf(body: Body): string | undefined {
  return stringField(globalData(body), 'mcp_call_id') ?? stringField(body, 'call_id');
}

/** A function call's session for per-session rate limits; discovery has none (counted per client). */
function swaigSessionOf(body: unknown): string | undefined {
  return isPlainObject(body) ? sessionIdOf(body) : undefined;
}

function globalData(body: Body): Body {
  const data = body['global_data'];
  return isPlainObject(data) ? data : {};
}

function stringField(object: Body, key: string): string | undefined {
  const value = object[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function requestedNames(functions: unknown): string[] {
  return Array.isArray(functions) ? functions.filter((name): name is string => typeof name === 'string') : [];
}

/** `?services=a,b` (or repeated); empty means no restriction. */
function servicesQuery(query: string | string[] | undefined): ReadonlySet<string> | undefined {
  const names = [query ?? []].flat().flatMap((part) => part.split(',')).map((name) => name.trim()).filter((name) => name !== '');
  return names.length === 0 ? undefined : new Set(names);
}

function logFailure(log: FastifyBaseLogger, error: unknown, functionName: string): void {
  if (!(error instanceof GatewayError)) {
    log.error({ err: error, function: functionName }, 'swaig call failed');
    return;
  }
  log[UPSTREAM_TROUBLE.has(error.code) ? 'warn' : 'info']({ code: error.code, err: error.message, function: functionName }, 'swaig call failed');
}
