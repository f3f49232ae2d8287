import { expect, onTestFinished, test } from 'vitest';
import { BASIC, fixtureService, startTestGateway } from '../helpers/gateway.js';
import { openRaw, unfinishedPost } from '../helpers/raw-http.js';

/** The default request_timeout (30 s) plus the slack the acceptance allows. */
const CLOSE_CEILING_MS = 35_000;

// Its own file: it waits out the real default, in parallel with everything else.
test('with the default request timeout a body that never completes is closed within 35 s', async () => {
  const gw = await startTestGateway({ services: { fx: fixtureService() } }, { skipValidation: true });
  onTestFinished(() => gw.close());
  expect(gw.config.server.request_timeout).toBe(30);

  const connections = await Promise.all(Array.from({ length: 20 }, () => openRaw(gw.url, unfinishedPost('/services/fx/call', { authorization: BASIC }))));
  expect((await fetch(`${gw.url}/health`)).status).toBe(200);
  const lifetimes = await Promise.all(connections.map((connection) => connection.closed));
  expect(Math.max(...lifetimes)).toBeLessThan(CLOSE_CEILING_MS);
  // Node answers the expired request with 408 before closing.
  for (const connection of connections) expect(connection.received()).toMatch(/^HTTP\/1\.1 408 /);
}, 45_000);
