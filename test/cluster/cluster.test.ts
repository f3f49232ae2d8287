/**
 * SPEC §12 acceptance: three compiled gateways sharing a Redis of this file's own, behind Debian's
 * nginx with plain round robin. One set-up for the whole file; the tests run in order and the
 * later ones (kill -9, SIGTERM, Redis outage) change the cluster, so they come last.
 */
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startGateway, startNginx, startRedis, freePort, type Child } from '../helpers/cluster.js';
import { FIXTURE_SERVER, TOKEN } from '../helpers/gateway.js';
import { isRunning, processesWith } from '../helpers/processes.js';
import { RUN_MARKER_KEY, runMarker } from '../helpers/run-marker.js';
import { waitFor } from '../helpers/wait-for.js';

const SECRET = 'cluster-test-secret-0123456789';
const OWNER_TIMEOUT_S = 2;
const DRAIN_TIMEOUT_S = 4;
const INSTANCE_MARKER = 'MCP_TEST_GATEWAY';

interface Instance {
  name: string;
  port: number;
  url: string;
  configPath: string;
  child?: Child;
}

let dir: string;
let redisPort: number;
let redis: Child;
let nginx: Child;
let lb: string;
const instances: Instance[] = [];

interface Answer {
  status: number;
  body: any;
  upstream: string | null;
  /** X-RateLimit-Remaining, as the instance that received the request reports it. */
  remaining: number;
}

async function send(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // kept as text for the assertion message
  }
  return { status: response.status, body: parsed, upstream: response.headers.get('x-upstream'), remaining: Number(response.headers.get('x-ratelimit-remaining')) };
}

const count = (base: string, sessionId: string): Promise<Answer> => send(base, 'POST', '/services/fx/call', { tool: 'counter', session_id: sessionId });
const swaig = (base: string, body: Record<string, unknown>): Promise<Answer> =>
  send(base, 'POST', '/swaig', { function: 'mcp_fx_counter', argument: { parsed: [{}] }, ...body });
/** "<count> <pid>" from the counter tool. */
const counted = (text: string): { n: number; pid: number } => {
  const [n, pid] = text.split(' ').map(Number);
  return { n: n!, pid: pid! };
};
const fixturePids = (instance: Instance): Promise<number[]> => processesWith(instance.name, INSTANCE_MARKER);

async function ownerOf(sessionId: string): Promise<Instance | undefined> {
  const { body } = await send(instances[0]!.child?.isRunning() ? instances[0]!.url : instances[1]!.url, 'GET', '/sessions');
  return instances.find((instance) => instance.url === body[sessionId]?.instance);
}

async function writeConfig(instance: Instance): Promise<void> {
  const config = {
    server: { host: '127.0.0.1', port: instance.port, auth_token: TOKEN },
    services: {
      fx: {
        command: [process.execPath, FIXTURE_SERVER],
        warm_pool: 0,
        env: { [RUN_MARKER_KEY]: runMarker(), [INSTANCE_MARKER]: instance.name },
      },
    },
    session: { sandbox_dir: join(dir, `sandbox-${instance.name}`) },
    // Shared counters, high enough never to refuse: the tests read how much each request counted.
    rate_limiting: {
      storage_uri: `redis://127.0.0.1:${redisPort}/0`,
      default_limits: '100000 per hour',
      call_limit: '100000 per minute',
      session_delete_limit: '100000 per minute',
    },
    logging: { level: 'WARNING' },
    cluster: {
      storage_uri: `redis://127.0.0.1:${redisPort}/0`,
      instance_url: instance.url,
      secret: SECRET,
      heartbeat: 0.5,
      owner_timeout: OWNER_TIMEOUT_S,
      drain_timeout: DRAIN_TIMEOUT_S,
    },
  };
  await writeFile(instance.configPath, JSON.stringify(config));
}

async function launch(instance: Instance): Promise<void> {
  instance.child = await startGateway(instance.configPath, instance.port, dir);
  // Tool names come from the catalogue the start-up check fills.
  await waitFor(async () => (await send(instance.url, 'GET', '/services')).body?.fx?.tools > 0, { deadlineMs: 60_000, what: `${instance.name} catalogue` });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcp-gw-cluster-'));
  redisPort = await freePort();
  redis = await startRedis(redisPort);
  for (const name of ['a', 'b', 'c']) {
    const port = await freePort();
    instances.push({ name: `${name}-${process.pid}`, port, url: `http://127.0.0.1:${port}`, configPath: join(dir, `${name}.json`) });
  }
  for (const instance of instances) await writeConfig(instance);
  await Promise.all(instances.map(launch));
  const lbPort = await freePort();
  nginx = await startNginx(join(dir, 'nginx'), lbPort, instances.map((instance) => instance.port));
  lb = `http://127.0.0.1:${lbPort}`;
  // Every instance sees the other two before the tests start.
  await waitFor(async () => (await Promise.all(instances.map((i) => send(i.url, 'GET', '/health')))).every((h) => h.body.cluster?.peers === 2), { deadlineMs: 10_000, what: 'peers' });
}, 180_000);

afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.child?.stop('SIGTERM', (DRAIN_TIMEOUT_S + 10) * 1000)));
  await nginx?.stop('SIGQUIT');
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('several instances behind round-robin nginx (SPEC §12)', () => {
  test('1. one session over REST and SWAIG keeps one server and one state across all instances', async () => {
    const rest: Answer[] = [];
    for (let i = 0; i < 9; i++) rest.push(await count(lb, 'continuity-rest'));
    expect(rest.map((answer) => answer.status)).toEqual(Array(9).fill(200));
    expect(rest.map((answer) => counted(answer.body.result).n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(new Set(rest.map((answer) => counted(answer.body.result).pid)).size).toBe(1);
    expect(rest.map((answer) => answer.body.session_created)).toEqual([true, ...Array(8).fill(false)]);
    expect(new Set(rest.map((answer) => answer.upstream)).size).toBe(3);

    const byCallId: Answer[] = [];
    for (let i = 0; i < 9; i++) byCallId.push(await swaig(lb, { call_id: 'continuity-swaig' }));
    expect(byCallId.map((answer) => counted(answer.body.response).n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(new Set(byCallId.map((answer) => answer.upstream)).size).toBe(3);

    const pinned: Answer[] = [];
    for (let i = 0; i < 9; i++) pinned.push(await swaig(lb, { call_id: `leg-${i}`, global_data: { mcp_call_id: 'continuity-pinned' } }));
    expect(pinned.map((answer) => counted(answer.body.response).n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  }, 60_000);

  test('2. 24 racing first calls for one new id start one server cluster-wide and lose no write', async () => {
    const before = (await Promise.all(instances.map(fixturePids))).flat().length;
    const answers = await Promise.all(Array.from({ length: 24 }, () => count(lb, 'race-1')));
    expect(answers.map((answer) => answer.status)).toEqual(Array(24).fill(200));
    expect(new Set(answers.map((answer) => answer.upstream)).size).toBe(3);
    const results = answers.map((answer) => counted(answer.body.result));
    expect(results.map((result) => result.n).sort((x, y) => x - y)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(new Set(results.map((result) => result.pid)).size).toBe(1);
    expect(answers.filter((answer) => answer.body.session_created)).toHaveLength(1);
    expect((await Promise.all(instances.map(fixturePids))).flat().length).toBe(before + 1);
  }, 60_000);

  test('3. DELETE and hangup_hook through a non-owner end the owner\'s server; unknown id is 404 everywhere', async () => {
    const first = await count(instances[0]!.url, 'delete-me');
    const { pid } = counted(first.body.result);
    const nonOwner = instances[1]!;
    expect((await send(nonOwner.url, 'DELETE', '/sessions/delete-me')).status).toBe(200);
    await waitFor(() => !isRunning(pid), { deadlineMs: 10_000, what: 'deleted session process gone' });
    const again = await count(lb, 'delete-me');
    expect(again.body).toMatchObject({ session_created: true });
    expect(counted(again.body.result).n).toBe(1);

    const call = await swaig(instances[2]!.url, { call_id: 'hangup-me' });
    const hungUpPid = counted(call.body.response).pid;
    const hangup = await send(instances[0]!.url, 'POST', '/swaig', { function: 'hangup_hook', call_id: 'hangup-me' });
    expect(hangup.body.response).toMatch(/closed/);
    await waitFor(() => !isRunning(hungUpPid), { deadlineMs: 10_000, what: 'hung-up session process gone' });

    for (const instance of instances) expect((await send(instance.url, 'DELETE', '/sessions/nobody-has-this')).status).toBe(404);
  }, 60_000);

  test('4. GET /sessions on every instance lists every instance\'s sessions with their owner', async () => {
    for (const instance of instances) await count(instance.url, `listed-on-${instance.name}`);
    for (const instance of instances) {
      const { status, body } = await send(instance.url, 'GET', '/sessions');
      expect(status).toBe(200);
      for (const owner of instances) expect(body[`listed-on-${owner.name}`]).toMatchObject({ instance: owner.url, services: { fx: { calls: 1 } } });
    }
    const metrics = (await send(instances[0]!.url, 'GET', '/metrics')).body as string;
    expect(metrics).toMatch(/^mcp_gateway_cluster_redis_up 1$/m);
    expect(metrics).toMatch(/^mcp_gateway_cluster_peers 2$/m);
    expect(metrics).toMatch(/^mcp_gateway_cluster_draining 0$/m);
  }, 60_000);

  test('5. a forged X-Gateway-Hop gets 403 and starts nothing', async () => {
    const target = instances[1]!;
    const before = await fixturePids(target);
    const body = JSON.stringify({ tool: 'counter', session_id: 'forged-1' });
    const ts = Date.now();
    const digest = createHmac('sha256', 'not-the-cluster-secret').update(body).digest('hex');
    const forged = [
      'garbage',
      `abcdef0123456789;${ts};${'0'.repeat(64)};req-1;${'A'.repeat(43)}`,
      `abcdef0123456789;${ts};${digest};req-1;${createHmac('sha256', 'wrong').update('x').digest('base64url')}`,
    ];
    for (const hop of forged) {
      // No credentials either: a hop must not open the door by itself.
      const response = await fetch(`${target.url}/services/fx/call`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-gateway-hop': hop }, body });
      expect(response.status).toBe(403);
    }
    expect((await send(target.url, 'GET', '/sessions')).body['forged-1']).toBeUndefined();
    expect(await fixturePids(target)).toEqual(before);
  }, 30_000);

  test('rate limits count a forwarded request once, where it arrived', async () => {
    await count(instances[0]!.url, 'limited-once');
    const first = await count(instances[1]!.url, 'limited-once');
    const second = await count(instances[1]!.url, 'limited-once');
    expect(counted(second.body.result).n).toBe(3);
    expect(first.remaining - second.remaining).toBe(1);
  }, 30_000);

  test('6. kill -9 of an owner: its call in flight fails, its sessions restart honestly elsewhere, the others keep their state', async () => {
    const [survivor, victim] = [instances[0]!, instances[1]!];
    await count(survivor.url, 'survives');
    await count(victim.url, 'orphan');
    await count(victim.url, 'orphan');
    // A call running on the owner when it dies fails; it is never replayed elsewhere (tools have side effects).
    const inFlight = send(survivor.url, 'POST', '/services/fx/call', { tool: 'slow', session_id: 'orphan', arguments: { ms: 20_000 } });
    await waitFor(async () => (await send(victim.url, 'GET', '/sessions?scope=local')).body['orphan']?.services.fx.calls === 3, { deadlineMs: 10_000, what: 'slow call running on the owner' });
    victim.child!.process.kill('SIGKILL');
    await victim.child!.exited;
    const killedAt = Date.now();
    const failed = await inFlight;
    expect(failed.status).toBe(502);
    expect(failed.body.error).toMatch(/not retried/);

    const afterCrash = await count(lb, 'orphan');
    expect(afterCrash.status).toBe(200);
    expect(afterCrash.body).toMatchObject({ session_created: true, session_reset: 'owner_lost' });
    expect(counted(afterCrash.body.result).n).toBe(1);
    // Liveness, not speed: the call waited for the dead owner's heartbeat to expire, and no longer.
    expect(Date.now() - killedAt).toBeLessThan((OWNER_TIMEOUT_S + 10) * 1000);
    expect(counted((await count(lb, 'orphan')).body.result).n).toBe(2);
    expect(counted((await count(lb, 'survives')).body.result).n).toBe(2);

    await launch(victim);
  }, 60_000);

  test('7. SIGTERM of an owner: not ready at once, its sessions keep their state, new ones start elsewhere, it exits 0', async () => {
    const [other, draining] = [instances[0]!, instances[2]!];
    await count(draining.url, 'drained');
    expect(counted((await count(draining.url, 'drained')).body.result).n).toBe(2);
    draining.child!.process.kill('SIGTERM');
    // "At once": as soon as the signal is handled, whatever the drain still has to do.
    await waitFor(async () => (await send(draining.url, 'GET', '/ready')).status === 503, { deadlineMs: 5_000, what: '/ready 503' });
    expect((await send(draining.url, 'GET', '/health')).body.cluster).toMatchObject({ draining: true });

    expect(counted((await count(other.url, 'drained')).body.result).n).toBe(3);
    expect(counted((await count(draining.url, 'drained')).body.result).n).toBe(4);
    const fresh = await count(draining.url, 'started-while-draining');
    expect(fresh.body).toMatchObject({ session_created: true });
    expect((await ownerOf('started-while-draining'))?.url).not.toBe(draining.url);

    expect(await draining.child!.exited).toBe(0);
    await waitFor(async () => (await fixturePids(draining)).length === 0, { deadlineMs: 10_000, what: 'drained instance processes gone' });
    // Its session outlived the drain deadline: the next call is taken over and says so.
    expect((await count(other.url, 'drained')).body).toMatchObject({ session_created: true, session_reset: 'owner_lost' });
  }, 60_000);

  test('8. Redis stopped: owned sessions work, new ones start locally, no 500; back: ownership re-published', async () => {
    const [a, b] = [instances[0]!, instances[1]!];
    await count(a.url, 'outage-owned');
    const ids = Object.fromEntries(await Promise.all([a, b].map(async (i) => [i.url, (await send(i.url, 'GET', '/health')).body.cluster.instance_id])));
    await redis.stop();
    await waitFor(async () => (await send(a.url, 'GET', '/health')).body.cluster.redis === 'down', { deadlineMs: 10_000, what: 'redis down seen' });

    expect(counted((await count(a.url, 'outage-owned')).body.result).n).toBe(2);
    const local = await count(b.url, 'outage-new');
    expect(local.status).toBe(200);
    expect(local.body.session_created).toBe(true);
    expect((await send(a.url, 'GET', '/ready')).status).toBe(200);
    expect((await send(a.url, 'GET', '/metrics')).body).toMatch(/^mcp_gateway_cluster_redis_up 0$/m);

    redis = await startRedis(redisPort);
    const client = new Redis({ port: redisPort, host: '127.0.0.1' });
    try {
      const ownerOfKey = async (sessionId: string): Promise<string | undefined> => (await client.get(`mcp-gateway:{cluster}:own:${sessionId}`))?.split(':')[0];
      await waitFor(async () => (await ownerOfKey('outage-new')) === ids[b.url] && (await ownerOfKey('outage-owned')) === ids[a.url], {
        deadlineMs: 10_000,
        what: 'ownership re-published',
      });
    } finally {
      client.disconnect();
    }
    expect(counted((await count(b.url, 'outage-owned')).body.result).n).toBe(3);
    await waitFor(async () => /^mcp_gateway_cluster_redis_up 1$/m.test((await send(a.url, 'GET', '/metrics')).body as string), {
      deadlineMs: 10_000,
      what: 'the Redis gauge back at 1',
    });
  }, 60_000);
});
