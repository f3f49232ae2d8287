/**
 * Per-request cost of the rate limiter with memory:// storage (issue 3 acceptance: under 0.1 ms).
 * Speed is shown here, not asserted in a timed test (STYLE §2.7). Run: npx tsx bench/rate-limit-bench.ts
 */
import { performance } from 'node:perf_hooks';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { parseLimits } from '../src/config/limits.js';
import { createRateLimiter, registerRateLimit } from '../src/http/rate-limit.js';
import { summarize, timeEach, type Latency } from './lib/stats.js';

const HITS = 200_000;
const INJECTS_PER_ROUND = 5_000;
const ROUNDS = 6;
// Rotating client keys so the counter map holds many live windows, as a busy gateway's does.
const CLIENTS = Array.from({ length: 1_000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
// High amounts: the bench measures the cost of counting, not of answering 429.
const ONE_LIMIT = parseLimits('100000000 per minute');
const TWO_LIMITS = parseLimits('100000000 per second; 100000000 per day');

async function buildApp(limited: boolean): Promise<FastifyInstance> {
  const app = Fastify();
  if (limited) {
    const limiter = await createRateLimiter({ storageUri: 'memory://', logger: pino({ level: 'silent' }) });
    registerRateLimit(app, {
      limiter,
      route: () => ({ bucket: 'call', limits: ONE_LIMIT }),
      clientKey: (request) => String(request.headers['x-client']),
    });
    app.addHook('onClose', () => limiter.close());
  }
  app.get('/call', async () => ({ ok: true }));
  await app.ready();
  return app;
}

const row = (name: string, s: Latency): string =>
  `${name.padEnd(44)} ${(s.p50 * 1000).toFixed(1).padStart(8)} µs ${(s.p99 * 1000).toFixed(1).padStart(8)} µs`;

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${HITS} hits, ${ROUNDS}×${INJECTS_PER_ROUND} injects per app`);
  console.log(`${'measure'.padEnd(44)} ${'median'.padStart(11)} ${'p99'.padStart(11)}`);

  const limiter = await createRateLimiter({ storageUri: 'memory://', logger: pino({ level: 'silent' }) });
  for (const [name, limits] of [['hit(), 1 limit', ONE_LIMIT], ['hit(), 2 limits', TWO_LIMITS]] as const) {
    const clientKey = (i: number): string => CLIENTS[i % CLIENTS.length] ?? '';
    await timeEach(HITS / 10, (i) => limiter.hit('warmup', clientKey(i), limits));
    console.log(row(name, summarize(await timeEach(HITS, (i) => limiter.hit('call', clientKey(i), limits)))));
  }
  await limiter.close();

  // Alternate rounds so drift (JIT, GC, a noisy neighbour) hits both apps alike.
  const plain = await buildApp(false);
  const limited = await buildApp(true);
  const samples = { plain: [] as number[], limited: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, app] of [['plain', plain], ['limited', limited]] as const) {
      const times = await timeEach(INJECTS_PER_ROUND, (i) =>
        app.inject({ method: 'GET', url: '/call', headers: { 'x-client': CLIENTS[i % CLIENTS.length] } }),
      );
      // The first round only warms up.
      if (round > 0) samples[name].push(...times);
    }
  }
  await plain.close();
  await limited.close();
  const without = summarize(samples.plain);
  const withHook = summarize(samples.limited);
  console.log(row('inject round trip, no rate-limit hook', without));
  console.log(row('inject round trip, rate-limit hook (1 limit)', withHook));
  // Only the medians are compared: p99 of ~50k round trips moves by more than the hook costs (GC).
  console.log(`${'hook overhead (median difference)'.padEnd(44)} ${((withHook.p50 - without.p50) * 1000).toFixed(1).padStart(8)} µs`);
}

await main();
