import { afterAll, beforeAll, expect, test } from 'vitest';
import { fixtureService, startTestGateway, type TestGateway } from '../../helpers/gateway.js';

// Idle time is read from this clock, which moves only when a test moves it; call timeouts are real.
let clock = Date.now();
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ services: { fx: fixtureService(), quick: fixtureService([], { call_timeout: 2, warm_pool: 1 }) } }, { now: () => clock });
});
afterAll(() => gw?.close());

test('GET /sessions never lists a session already past its idle timeout, even before the sweep', async () => {
  // The sweep runs once a minute of real time: only the listing itself can keep an expired session out.
  await gw.call('fx', { tool: 'echo', session_id: 'short', arguments: { text: 'x' }, timeout: 10 });
  await gw.call('fx', { tool: 'echo', session_id: 'long', arguments: { text: 'x' }, timeout: 100 });
  expect(Object.keys((await gw.request('GET', '/sessions')).body).sort()).toEqual(['long', 'short']);

  clock += 10_000;
  const listed = (await gw.request('GET', '/sessions')).body;
  expect(Object.keys(listed)).toEqual(['long']);
  expect(listed.long.time_remaining).toBe(90);
});

test('calls that only time out do not move the idle clock, so a wedged session still expires', async () => {
  await gw.call('quick', { tool: 'echo', session_id: 'stuck', arguments: { text: 'x' }, timeout: 4 });
  expect((await gw.call('quick', { tool: 'hang', session_id: 'stuck' })).status).toBe(504);
  clock += 3_000;
  // Still within its idle timeout, so this reaches the same session; it times out as well.
  expect((await gw.call('quick', { tool: 'hang', session_id: 'stuck' })).status).toBe(504);
  clock += 3_000;
  // 6 s since the last answer: expired, although the last call began only 3 s ago.
  expect((await gw.request('GET', '/sessions')).body).not.toHaveProperty('stuck');
  const next = await gw.call('quick', { tool: 'echo', session_id: 'stuck', arguments: { text: 'x' } });
  expect(next.body.session_created).toBe(true);
});
