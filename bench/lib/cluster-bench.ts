/**
 * (i) Several instances (SPEC §12): three compiled gateways on this machine sharing a Redis of the
 * bench's own. Measures what one hop to the owner costs a warm call, and calls/s when every call
 * lands on the next instance in turn, as behind a round-robin balancer (two in three are forwarded).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort, startGateway, startRedis, type Child } from '../../test/helpers/cluster.js';
import { createBenchSetup } from './bench-config.js';
import { createJsonClient, type JsonClient } from './http-client.js';
import { killGroups } from './processes.js';
import type { Row } from './report.js';
import { callService } from './sessions.js';
import { summarize, timeEach } from './stats.js';

const INSTANCES = 3;

export async function benchCluster(settings: { rounds: number; callsPerRound: number; sessions: number; warmupMs: number; throughputMs: number }): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  const setup = await createBenchSetup();
  const dir = await mkdtemp(join(tmpdir(), 'mcp-gw-bench-cluster-'));
  const redisPort = await freePort();
  const redis = await startRedis(redisPort);
  const gateways: Child[] = [];
  let clients: JsonClient[] = [];
  try {
    const ports = await Promise.all(Array.from({ length: INSTANCES }, () => freePort()));
    const configs = await Promise.all(
      ports.map(async (port, index) => {
        const path = join(dir, `gateway-${index}.json`);
        const raw = {
          ...setup.raw,
          server: { ...(setup.raw['server'] as object), port },
          services: { echo: (setup.raw['services'] as Record<string, unknown>)['echo'] },
          cluster: { storage_uri: `redis://127.0.0.1:${redisPort}/0`, instance_url: `http://127.0.0.1:${port}`, secret: 'bench-cluster-secret-0123456789', drain_timeout: 1 },
        };
        await writeFile(path, JSON.stringify(raw));
        return path;
      }),
    );
    gateways.push(...(await Promise.all(ports.map((port, index) => startGateway(configs[index]!, port, dir)))));
    clients = ports.map((port) => createJsonClient(`http://127.0.0.1:${port}`, setup.authorization));

    // The session's first call lands on instance 0, which owns it from then on.
    const warmId = 'bench-cluster-warm';
    await callService(clients[0]!, 'echo', warmId);
    // Both paths warm (V8 compiles them in the first seconds of load) before anything is timed.
    for (const start = performance.now(); performance.now() - start < settings.warmupMs; ) {
      await callService(clients[0]!, 'echo', warmId);
      await callService(clients[1]!, 'echo', warmId);
    }
    const samples = { owner: [] as number[], forwarded: [] as number[] };
    for (let round = 0; round < settings.rounds; round++) {
      const owner = await timeEach(settings.callsPerRound, () => callService(clients[0]!, 'echo', warmId));
      const forwarded = await timeEach(settings.callsPerRound, () => callService(clients[1]!, 'echo', warmId));
      if (round === 0) continue;
      samples.owner.push(...owner);
      samples.forwarded.push(...forwarded);
    }
    const owner = summarize(samples.owner);
    const forwarded = summarize(samples.forwarded);
    const hopCost = forwarded.p50 - owner.p50;

    // Sessions spread over the owners, then every call goes to the next instance in turn.
    const ids = Array.from({ length: settings.sessions }, (_, i) => `bench-cluster-load-${i}`);
    await Promise.all(ids.map((id, i) => callService(clients[i % INSTANCES]!, 'echo', id)));
    const run = async (durationMs: number): Promise<{ calls: number; ms: number }> => {
      let calls = 0;
      let next = 0;
      const start = performance.now();
      const end = start + durationMs;
      await Promise.all(
        ids.map(async (id) => {
          while (performance.now() < end) {
            await callService(clients[next++ % INSTANCES]!, 'echo', id);
            calls += 1;
          }
        }),
      );
      return { calls, ms: performance.now() - start };
    };
    await run(settings.warmupMs);
    const { calls, ms } = await run(settings.throughputMs);
    const perSecond = Math.round((calls / ms) * 1000);
    return {
      rows: [
        { part: 'i', name: 'warm call via the owner p50 (3 instances)', value: owner.p50, unit: 'ms' },
        { part: 'i', name: 'warm call via a non-owner p50 (one hop)', value: forwarded.p50, unit: 'ms' },
        { part: 'i', name: 'forwarding cost, p50(non-owner) - p50(owner)', value: hopCost, unit: 'ms', goal: '<= 1', ok: hopCost <= 1 },
        { part: 'i', name: `calls/s, 3 instances round robin, ${settings.sessions} sessions`, value: perSecond, unit: 'calls/s' },
      ],
      details: { i_cluster: { owner, forwarded, throughput: { calls, ms: Math.round(ms), callsPerSecond: perSecond } } },
    };
  } finally {
    for (const client of clients) client.close();
    await Promise.all(gateways.map((gateway) => gateway.stop('SIGTERM')));
    await redis.stop();
    killGroups(await setup.processes());
    await setup.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
}
