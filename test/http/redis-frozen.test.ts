import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { expect, onTestFinished, test } from 'vitest';
import { fixtureService, startTestGateway } from '../helpers/gateway.js';
import { freePort, startRedis, stopRedis } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait-for.js';

const FALLBACK_MSG = 'rate limit storage unreachable, using in-memory counters';
const BACK_MSG = 'rate limit storage back on redis';
/** Commands that are not rate-limit work: the probe and this test's own questions. */
const NOT_COUNTED = new Set(['ping', 'info', 'auth', 'select', 'client', 'hello', 'config']);

/** How many rate-limit commands Redis has executed so far. */
async function limitCommands(observer: Redis): Promise<number> {
  const stats = await observer.info('commandstats');
  let total = 0;
  for (const match of stats.matchAll(/^cmdstat_([^:|]+)(?:\|[^:]+)?:calls=(\d+)/gm)) {
    if (!NOT_COUNTED.has(match[1]!)) total += Number(match[2]);
  }
  return total;
}

test('a frozen Redis is asked once, then left alone until a background probe finds it healthy', async () => {
  const port = await freePort();
  const password = randomUUID();
  const redis = await startRedis(port, password);
  onTestFinished(() => stopRedis(redis));
  const redisUri = `redis://:${password}@127.0.0.1:${port}`;
  const observer = new Redis(redisUri);
  onTestFinished(() => observer.disconnect());

  const gw = await startTestGateway(
    {
      services: { fx: fixtureService() },
      rate_limiting: { enabled: true, storage_uri: redisUri, default_limits: ['100000 per minute', '1000000 per day'] },
    },
    { skipValidation: true },
  );
  onTestFinished(() => gw.close());

  for (let i = 0; i < 3; i++) expect((await gw.request('GET', '/sessions')).status).toBe(200);
  const beforeFreeze = await limitCommands(observer);
  // Three requests, two limits each: what one counter update costs in Redis commands.
  const perHit = beforeFreeze / 6;
  expect(perHit).toBeGreaterThanOrEqual(1);

  redis.kill('SIGSTOP');
  const durations: number[] = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    const response = await gw.request('GET', '/sessions');
    durations.push(Math.round(performance.now() - started));
    expect(response.status).toBe(200);
    expect(response.headers.get('x-ratelimit-limit')).toBe('100000');
  }
  expect(gw.logs.filter((line) => line.includes(FALLBACK_MSG))).toHaveLength(1);

  redis.kill('SIGCONT');
  await waitFor(() => gw.logs.some((line) => line.includes(BACK_MSG)), { what: 'the probe to find Redis again' });
  // Only the counter update that timed out reached Redis while it was frozen: 20 requests with
  // two limits each would have sent 40. Calls that never ask Redis cannot be slowed by it.
  const whileFrozen = (await limitCommands(observer)) - beforeFreeze;
  expect(whileFrozen, `per-call ms while frozen: ${durations.join(', ')}`).toBeLessThanOrEqual(perHit);

  expect((await gw.request('GET', '/sessions')).status).toBe(200);
  expect(await limitCommands(observer)).toBeGreaterThan(beforeFreeze + whileFrozen);
});
