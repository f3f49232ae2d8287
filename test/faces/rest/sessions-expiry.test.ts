import { expect, onTestFinished, test } from 'vitest';
import { fixtureService, startTestGateway } from '../../helpers/gateway.js';

test('GET /sessions never lists a session already past its idle timeout, even before the sweep', async () => {
  let clock = Date.now();
  // The sweep runs once a minute of real time: only the listing itself can keep an expired session out.
  const gw = await startTestGateway({ services: { fx: fixtureService() } }, { now: () => clock });
  onTestFinished(() => gw.close());
  await gw.call('fx', { tool: 'echo', session_id: 'short', arguments: { text: 'x' }, timeout: 10 });
  await gw.call('fx', { tool: 'echo', session_id: 'long', arguments: { text: 'x' }, timeout: 100 });
  expect(Object.keys((await gw.request('GET', '/sessions')).body).sort()).toEqual(['long', 'short']);

  clock += 10_000;
  const listed = (await gw.request('GET', '/sessions')).body;
  expect(Object.keys(listed)).toEqual(['long']);
  expect(listed.long.time_remaining).toBe(90);
});
