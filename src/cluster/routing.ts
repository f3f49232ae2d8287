import type { IncomingMessage } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isPlainObject } from '../json.js';
import { abortWhenClientLeaves } from '../faces/rest/routes.js';
import { checkName } from '../faces/rest/validate.js';
import { STATE_LOST_NOTE, SWAIG_REPLIES } from '../faces/swaig/replies.js';
import { swaigSessionRoute } from '../faces/swaig/routes.js';
import type { Peer } from './directory.js';
import { ForwardError, type ForwardAnswer, type ForwardRequest } from './forward.js';
import { HOP_HEADER, sha256Hex, type Hop } from './hop.js';
import type { ClusterInstance, Location } from './instance.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request came from another instance with a valid `X-Gateway-Hop` (SPEC §12). */
    gatewayHop: Hop | null;
  }
}

/** The session a request is about and how to speak to its client when the cluster fails it. */
interface SessionKey {
  sessionId: string;
  mode: 'claim' | 'lookup';
  face: 'rest' | 'swaig';
}

type Outcome = 'here' | 'answered';

export interface ClusterRouting {
  /** First of all hooks: a forged hop is refused before rate limits, credentials or handlers. */
  verifyHops(app: FastifyInstance): void;
  /**
   * After the rate limit and authentication hooks (the per-session rate limit counts in a
   * preHandler too, and must count here before the request leaves): decide whether a request
   * runs here or on its session's owner.
   */
  route(app: FastifyInstance): void;
  /** The sender's request id on a hop (checked with the hop itself), so one id names the request on both instances. */
  carriedRequestId(raw: IncomingMessage): string | undefined;
}

/** How often a call for an owner that refuses connections asks the directory again (scale-out.md A1). */
const UNREACHABLE_POLL_MS = 250;
const PEER_LISTING_TIMEOUT_MS = 5_000;
const REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;
const RELAYED_HEADERS = ['content-type', 'retry-after'] as const;

/**
 * The HTTP glue of the cluster: faces and sessions never learn that other instances exist.
 * A request about a session owned elsewhere is forwarded once; a forwarded one (a hop) runs here
 * or is refused with 421 so its sender asks the directory again, so no request travels twice.
 */
export function createClusterRouting(deps: {
  instance: ClusterInstance;
  signer: { sign(method: string, path: string, hop: Hop): string; verify(method: string, path: string, header: string): Hop | undefined };
  forward: (request: ForwardRequest) => Promise<ForwardAnswer>;
  /** The longest a forwarded call may run: the slowest service's call_timeout with its progress ceiling. */
  forwardTimeoutMs: number;
  /** How long a call waits for an owner that refuses connections to be declared dead. */
  ownerWaitMs: number;
}): ClusterRouting {
  const { instance, signer } = deps;
  const ranHere = new WeakMap<FastifyRequest, SessionKey>();

  const hopHeader = (request: FastifyRequest, path: string, body: string): string =>
    signer.sign(request.method, path, { from: instance.id, requestId: request.id, bodySha256: sha256Hex(body) });

  const send = (peer: Peer, request: FastifyRequest, path: string, body: string, signal: AbortSignal, timeoutMs: number): Promise<ForwardAnswer> =>
    deps.forward({
      origin: peer.url,
      method: request.method,
      path,
      // The client's Host, so an `allowed_hosts` list that names the public address admits the hop.
      headers: { host: request.headers.host ?? '', [HOP_HEADER]: hopHeader(request, path, body), ...(body === '' ? {} : { 'content-type': 'application/json' }) },
      body,
      signal,
      timeoutMs,
    });

  const failureReply = (key: SessionKey, kind: ForwardError['kind']): { status: number; body: unknown; headers?: Record<string, string> } => {
    if (key.face === 'swaig') return { status: 200, body: kind === 'failed' ? SWAIG_REPLIES.ownerFailed : SWAIG_REPLIES.ownerUnreachable };
    return kind === 'failed'
      ? { status: 502, body: { error: `Gateway instance owning session ${key.sessionId} failed during the request; it was not retried` } }
      : { status: 503, body: { error: `Gateway instance owning session ${key.sessionId} is unreachable` }, headers: { 'retry-after': '1' } };
  };

  const runHere = (request: FastifyRequest, reply: FastifyReply, key: SessionKey): Outcome => {
    ranHere.set(request, key);
    reply.raw.once('close', instance.enter(key.sessionId));
    return 'here';
  };

  /** One forward; `misdirected` and `unreachable` mean it did not run there and may go elsewhere. */
  const forwardOnce = async (request: FastifyRequest, reply: FastifyReply, key: SessionKey, peer: Peer, signal: AbortSignal): Promise<Outcome | 'misdirected' | 'unreachable'> => {
    const body = request.body === undefined ? '' : JSON.stringify(request.body);
    let answer: ForwardAnswer;
    try {
      answer = await send(peer, request, request.url, body, signal, deps.forwardTimeoutMs);
    } catch (error) {
      if (error instanceof ForwardError && error.kind === 'unreachable') return 'unreachable';
      if (signal.aborted) return 'answered';
      request.log.warn({ err: (error as Error).message, owner: peer.url, sessionId: key.sessionId }, 'forwarded request failed');
      const failure = failureReply(key, 'failed');
      reply.code(failure.status).send(failure.body);
      return 'answered';
    }
    if (answer.status === 421) return 'misdirected';
    reply.code(answer.status);
    for (const name of RELAYED_HEADERS) {
      const value = answer.headers[name];
      if (typeof value === 'string') reply.header(name, value);
    }
    reply.send(answer.body);
    return 'answered';
  };

  const decide = async (request: FastifyRequest, reply: FastifyReply, key: SessionKey): Promise<Outcome> => {
    // A hop always asks the directory: the sender trusted this instance to own the id, so a cached guess here proves nothing.
    let location: Location = await instance.locate(key.sessionId, key.mode, { isFresh: request.gatewayHop !== null });
    if (request.gatewayHop) {
      if (location.where === 'here') return runHere(request, reply, key);
      // Never a second hop: the sender asks the directory again (scale-out.md P1).
      reply.code(421).send({ error: `Session ${key.sessionId} is not served by this instance` });
      return 'answered';
    }
    const signal = abortWhenClientLeaves(reply);
    const deadline = Date.now() + deps.ownerWaitMs;
    let isMisdirected = false;
    for (;;) {
      if (location.where === 'here') return runHere(request, reply, key);
      const outcome = await forwardOnce(request, reply, key, location.peer, signal);
      if (outcome === 'here' || outcome === 'answered') return outcome;
      // A 421 earns one new answer from the directory; an owner that refuses connections is waited
      // for until its heartbeat expires and the id can be taken over (never replayed: it never arrived).
      if ((outcome === 'misdirected' && isMisdirected) || (outcome === 'unreachable' && Date.now() > deadline) || signal.aborted) {
        const failure = failureReply(key, 'unreachable');
        reply.code(failure.status).headers(failure.headers ?? {}).send(failure.body);
        return 'answered';
      }
      if (outcome === 'misdirected') isMisdirected = true;
      else await delay(UNREACHABLE_POLL_MS);
      location = await instance.locate(key.sessionId, key.mode, { isFresh: true });
    }
  };

  /** GET /sessions without `?scope=local`: every live instance's sessions, each tagged with its instance (SPEC §12). */
  const listEverywhere = async (request: FastifyRequest, payload: string): Promise<string> => {
    const sessions = tagged(payload, instance.url);
    if (request.gatewayHop || (request.query as { scope?: string }).scope === 'local') return JSON.stringify(sessions);
    const listings = await Promise.all(
      instance.peers().map(async (peer) => {
        try {
          const answer = await send(peer, request, '/sessions?scope=local', '', AbortSignal.timeout(PEER_LISTING_TIMEOUT_MS), PEER_LISTING_TIMEOUT_MS);
          return answer.status === 200 ? (JSON.parse(answer.body.toString('utf8')) as Record<string, unknown>) : {};
        } catch (error) {
          request.log.warn({ err: (error as Error).message, peer: peer.url }, 'peer did not list its sessions');
          return {};
        }
      }),
    );
    return JSON.stringify(Object.assign({}, ...listings, sessions));
  };

  /** The first answers after a takeover say that the tools' earlier state is gone (SPEC §12). */
  const withResetNote = (key: SessionKey, payload: string): string => {
    const body: unknown = JSON.parse(payload);
    if (!isPlainObject(body)) return payload;
    if (key.face === 'rest' && body['session_created'] === true) return JSON.stringify({ ...body, session_reset: 'owner_lost' });
    if (key.face === 'swaig' && typeof body['response'] === 'string' && instance.tellTakeoverOnce(key.sessionId)) {
      return JSON.stringify({ ...body, response: `${STATE_LOST_NOTE} ${body['response']}` });
    }
    return payload;
  };

  return {
    carriedRequestId(raw) {
      const header = raw.headers[HOP_HEADER];
      const id = typeof header === 'string' ? header.split(';')[3] : undefined;
      return id !== undefined && REQUEST_ID.test(id) ? id : undefined;
    },
    verifyHops(app) {
      app.decorateRequest('gatewayHop', null);

      app.addHook('onRequest', (request, reply, done) => {
        const header = request.headers[HOP_HEADER];
        if (header === undefined) return done();
        const hop = typeof header === 'string' ? signer.verify(request.method, request.url, header) : undefined;
        if (hop === undefined || hop.from === instance.id) {
          request.log.warn({ event: 'hop_rejected', ip: request.ip }, 'invalid X-Gateway-Hop');
          reply.code(403).send({ error: 'Invalid X-Gateway-Hop' });
          return;
        }
        request.gatewayHop = hop;
        done();
      });

      // The sender wrote JSON.stringify of what it parsed, which re-serialises to the same text here.
      app.addHook('preValidation', (request, reply, done) => {
        const hop = request.gatewayHop;
        if (hop && sha256Hex(request.body === undefined ? '' : JSON.stringify(request.body)) !== hop.bodySha256) {
          request.log.warn({ event: 'hop_rejected', ip: request.ip }, 'X-Gateway-Hop does not match the body');
          reply.code(403).send({ error: 'Invalid X-Gateway-Hop' });
          return;
        }
        done();
      });
    },
    route(app) {
      app.addHook('preHandler', (request, reply, done) => {
        const key = sessionKeyOf(request);
        if (key === undefined) return done();
        decide(request, reply, key).then((outcome) => {
          if (outcome === 'here') done();
        }, done);
      });

      app.addHook('onSend', (request, reply, payload, done) => {
        if (reply.statusCode === 200 && typeof payload === 'string') {
          if (request.method === 'GET' && request.routeOptions.url === '/sessions') {
            listEverywhere(request, payload).then((merged) => done(null, merged), done);
            return;
          }
          const key = ranHere.get(request);
          if (key !== undefined && instance.wasTakenOver(key.sessionId)) return done(null, withResetNote(key, payload));
        }
        done(null, payload);
      });
    },
  };
}

/** The session a request is about, when it is one the owner must run (SPEC §12); invalid ids run here and get their 400. */
function sessionKeyOf(request: FastifyRequest): SessionKey | undefined {
  const route = request.routeOptions.url;
  let key: SessionKey | undefined;
  if (request.method === 'POST' && route === '/services/:name/call') {
    const sessionId = isPlainObject(request.body) ? request.body['session_id'] : undefined;
    if (typeof sessionId === 'string') key = { sessionId, mode: 'claim', face: 'rest' };
  } else if (request.method === 'DELETE' && route === '/sessions/:id') {
    key = { sessionId: (request.params as { id: string }).id, mode: 'lookup', face: 'rest' };
  } else if (request.method === 'POST' && route === '/swaig') {
    const swaig = swaigSessionRoute(request.body);
    if (swaig !== undefined) key = { sessionId: swaig.sessionId, mode: swaig.isHangup ? 'lookup' : 'claim', face: 'swaig' };
  }
  return key !== undefined && isSessionId(key.sessionId) ? key : undefined;
}

function isSessionId(value: string): boolean {
  try {
    checkName('session', value);
    return true;
  } catch {
    return false;
  }
}

/** Each entry of an instance's own listing names the instance that runs it. */
function tagged(payload: string, instanceUrl: string): Record<string, unknown> {
  const sessions = JSON.parse(payload) as Record<string, Record<string, unknown>>;
  for (const entry of Object.values(sessions)) entry['instance'] = instanceUrl;
  return sessions;
}
