/**
 * The gateway under test, in this process: real config parsing, real sockets, real children.
 * Built here rather than from test/helpers so the bench does not depend on the test suite.
 */
import { Writable } from 'node:stream';
import { getHeapSpaceStatistics } from 'node:v8';
import { parseConfig } from '../../src/config/load.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/log.js';
import { createBenchSetup } from './bench-config.js';
import { createJsonClient, type JsonClient } from './http-client.js';
import type { LiveProcess } from './processes.js';

export { demoServerPath, ECHO_SERVER } from './bench-config.js';

/** What the bench steps need from a gateway, wherever it runs. */
export interface GatewayUnderTest {
  client: JsonClient;
  /** Live processes started by this gateway (servers and anything they started). */
  processes(): Promise<LiveProcess[]>;
  /** memoryUsage() of the process the gateway runs in, after a full GC. */
  memory(): Promise<NodeJS.MemoryUsage>;
  /** Memory V8's young generation holds now (no GC): large after a burst of allocation until V8's memory reducer shrinks it. */
  youngGenerationBytes(): Promise<number>;
}

export interface BenchGateway extends GatewayUnderTest {
  gateway: Gateway;
  /** http://127.0.0.1:<port> and the Authorization header value, for clients other than `client`. */
  url: string;
  authorization: string;
  /** The `echo_remote` service's own URL, for a direct baseline. */
  remoteEchoUrl: string;
  /** Lines the gateway logged at warn or above (the log itself is discarded). */
  loggedLines(): number;
  close(): Promise<void>;
}

export async function startBenchGateway(collectGarbage: () => void): Promise<BenchGateway> {
  const setup = await createBenchSetup();
  const config = parseConfig(setup.raw, { env: {}, source: 'bench' });
  // A null sink that still counts, so a run that logged warnings says so.
  let lines = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const byte of chunk) if (byte === 0x0a) lines++;
      done();
    },
  });
  const { logger } = await createLogger({ level: 'warn', stream: sink });
  const gateway = await createGateway(config, { logger, env: process.env });
  let client: JsonClient | undefined;
  try {
    await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    const address = gateway.app.server.address();
    if (typeof address !== 'object' || address === null) throw new Error('gateway is not listening on a TCP port');
    const reports = await gateway.validateServices();
    const failed = reports.filter((report) => !report.ok);
    if (failed.length > 0) throw new Error(`services failed to start: ${failed.map((r) => `${r.service}: ${r.error}`).join('; ')}`);
    client = createJsonClient(`http://127.0.0.1:${address.port}`, setup.authorization);
    const ownClient = client;
    return {
      gateway,
      client: ownClient,
      url: `http://127.0.0.1:${address.port}`,
      authorization: setup.authorization,
      remoteEchoUrl: setup.remoteEchoUrl,
      processes: setup.processes,
      memory: async () => {
        collectGarbage();
        return process.memoryUsage();
      },
      youngGenerationBytes: async () => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.physical_space_size ?? 0,
      loggedLines: () => lines,
      async close() {
        ownClient.close();
        try {
          await gateway.close();
        } finally {
          await setup.cleanup();
        }
      },
    };
  } catch (error) {
    client?.close();
    await gateway.close();
    await setup.cleanup();
    throw error;
  }
}
