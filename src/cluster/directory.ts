import { once } from 'node:events';
import { openRedis } from '../redis.js';

/**
 * The session directory in Redis (SPEC §12, scale-out.md A1). Keys share one hash tag, so the
 * scripts also run on Redis Cluster:
 *   <p>inst:<instance id>  the instance's record (JSON), expires after owner_timeout unless refreshed
 *   <p>members             sorted set of instance ids by last heartbeat (candidates for peers)
 *   <p>own:<session id>    "<instance id>:<epoch>": who runs the session's servers
 *   <p>epoch               the fencing counter every claim and takeover increments
 *   <p>url:<instance_url>  the instance id last started at that address (restart fast path)
 */
export interface InstanceRecord {
  url: string;
  draining: boolean;
}

export interface Peer extends InstanceRecord {
  id: string;
}

export type Resolution =
  /** This instance owns the id (`created`: it claimed it just now; `takenOverFrom`: from a dead owner). */
  | { kind: 'mine'; epoch: number; created: boolean; takenOverFrom?: string }
  /** A live instance owns it. */
  | { kind: 'remote'; epoch: number; owner: Peer }
  /** Lookup only: nobody owns it, or its owner is dead. */
  | { kind: 'none' };

export interface OwnedSession {
  sessionId: string;
  epoch: number;
  /** Still served here: refresh (or re-publish) its key; false: release it. */
  isLive: boolean;
}

export interface Directory {
  /** `claim`: take a free or orphaned id; `lookup`: only say where it lives. One round trip. */
  resolve(sessionId: string, mode: 'claim' | 'lookup'): Promise<Resolution>;
  /** Publishes this instance, refreshes or releases its session keys; returns ids another instance now owns, and the live peers. */
  heartbeat(record: InstanceRecord, owned: OwnedSession[]): Promise<{ lost: string[]; peers: Peer[] }>;
  /** Declares dead whichever earlier process registered this instance's address (only one can listen there). */
  replacePredecessor(url: string): Promise<void>;
  /** Removes this instance; sessions still open keep their keys, so their next call reports the loss. */
  leave(url: string, released: string[]): Promise<void>;
  readonly isConnected: boolean;
  onReconnect(listener: () => void): void;
  close(): void;
}

const RESOLVE = `
local current = redis.call('GET', KEYS[1])
if not current then
  if ARGV[4] ~= 'claim' then return {'none'} end
  local epoch = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[1], ARGV[1] .. ':' .. epoch, 'PX', ARGV[3])
  return {'mine', tostring(epoch), '1'}
end
local sep = string.find(current, ':', 1, true)
local owner = string.sub(current, 1, sep - 1)
local epoch = string.sub(current, sep + 1)
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'mine', epoch, '0'}
end
local record = redis.call('GET', ARGV[2] .. owner)
if record then return {'remote', epoch, owner, record} end
if ARGV[4] ~= 'claim' then return {'none'} end
local next = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. next, 'PX', ARGV[3])
return {'mine', tostring(next), '1', owner}
`;

const HEARTBEAT = `
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
local lost = {}
for i = 9, #ARGV, 3 do
  local key = ARGV[6] .. ARGV[i]
  local mine = ARGV[1] .. ':' .. ARGV[i + 1]
  local current = redis.call('GET', key)
  if ARGV[i + 2] == '1' then
    if current == mine then redis.call('PEXPIRE', key, ARGV[7])
    elseif not current then redis.call('SET', key, mine, 'PX', ARGV[7])
    else table.insert(lost, ARGV[i]) end
  elseif current == mine then
    redis.call('DEL', key)
  end
end
local peers = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local record = redis.call('GET', ARGV[8] .. id)
  if record then table.insert(peers, id); table.insert(peers, record) end
end
return {lost, peers}
`;

const REPLACE_PREDECESSOR = `
local previous = redis.call('GET', KEYS[1])
if previous and previous ~= ARGV[1] then redis.call('DEL', ARGV[2] .. previous) end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`;

const LEAVE = `
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
for i = 3, #ARGV do
  local key = ARGV[2] .. ARGV[i]
  local current = redis.call('GET', key)
  if current and string.sub(current, 1, #ARGV[1] + 1) == ARGV[1] .. ':' then redis.call('DEL', key) end
end
return 1
`;

/** A Redis that does not answer must not hold a request up for long: degraded mode answers instead. */
const CONNECT_TIMEOUT_MS = 1_000;
const COMMAND_TIMEOUT_MS = 1_000;
const RECONNECT_MAX_DELAY_MS = 1_000;

type Scripts = {
  resolve(own: string, epoch: string, me: string, instPrefix: string, ttlMs: number, mode: string): Promise<string[]>;
  heartbeat(inst: string, members: string, ...args: Array<string | number>): Promise<[string[], string[]]>;
  replacePredecessor(urlKey: string, me: string, instPrefix: string): Promise<number>;
  leave(inst: string, members: string, urlKey: string, me: string, ownPrefix: string, ...released: string[]): Promise<number>;
};

export async function createDirectory(opts: {
  storageUri: string;
  keyPrefix: string;
  instanceId: string;
  /** Instance records expire after this: owner_timeout. */
  instanceTtlMs: number;
  /** Session keys of a dead owner live this long, so the next call can still say the state was lost. */
  sessionTtlMs: number;
  now: () => number;
  onError: (error: Error) => void;
}): Promise<Directory> {
  const { instanceId: me, keyPrefix } = opts;
  const p = `${keyPrefix}{cluster}:`;
  const instPrefix = `${p}inst:`;
  const ownPrefix = `${p}own:`;
  const instKey = `${instPrefix}${me}`;
  const membersKey = `${p}members`;
  const epochKey = `${p}epoch`;
  const urlKey = (url: string): string => `${p}url:${url}`;

  const client = openRedis(opts.storageUri, {
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    reconnectMaxDelayMs: RECONNECT_MAX_DELAY_MS,
  });
  client.on('error', opts.onError);
  client.defineCommand('resolve', { numberOfKeys: 2, lua: RESOLVE });
  client.defineCommand('heartbeat', { numberOfKeys: 2, lua: HEARTBEAT });
  client.defineCommand('replacePredecessor', { numberOfKeys: 1, lua: REPLACE_PREDECESSOR });
  client.defineCommand('leave', { numberOfKeys: 3, lua: LEAVE });
  const scripts = client as unknown as Scripts;
  // An unreachable Redis at start is not fatal: the instance starts degraded (SPEC §12).
  await once(client, 'ready').catch(() => {});

  const parsePeer = (id: string, json: string): Peer => {
    const record = JSON.parse(json) as InstanceRecord;
    return { id, url: record.url, draining: record.draining === true };
  };

  return {
    async resolve(sessionId, mode) {
      const [kind, epoch, third, fourth] = await scripts.resolve(`${ownPrefix}${sessionId}`, epochKey, me, instPrefix, opts.sessionTtlMs, mode);
      if (kind === 'mine') return { kind, epoch: Number(epoch), created: third === '1', ...(fourth === undefined ? {} : { takenOverFrom: fourth }) };
      if (kind === 'remote') return { kind, epoch: Number(epoch), owner: parsePeer(third!, fourth!) };
      return { kind: 'none' };
    },
    async heartbeat(record, owned) {
      const now = opts.now();
      const staleBefore = now - Math.max(opts.instanceTtlMs * 10, 60_000);
      const args = owned.flatMap((session) => [session.sessionId, session.epoch, session.isLive ? '1' : '0']);
      const [lost, flat] = await scripts.heartbeat(instKey, membersKey, me, JSON.stringify(record), opts.instanceTtlMs, now, staleBefore, ownPrefix, opts.sessionTtlMs, instPrefix, ...args);
      const peers: Peer[] = [];
      for (let i = 0; i < flat.length; i += 2) peers.push(parsePeer(flat[i]!, flat[i + 1]!));
      return { lost, peers };
    },
    async replacePredecessor(url) {
      await scripts.replacePredecessor(urlKey(url), me, instPrefix);
    },
    async leave(url, released) {
      await scripts.leave(instKey, membersKey, urlKey(url), me, ownPrefix, ...released);
    },
    get isConnected() {
      return client.status === 'ready';
    },
    onReconnect(listener) {
      client.on('ready', listener);
    },
    close() {
      client.disconnect();
    },
  };
}
