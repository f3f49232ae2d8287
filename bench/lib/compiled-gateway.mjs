#!/usr/bin/env node
// The compiled gateway (dist/) in a process of its own, run by plain node: no tsx loader and no
// bench client in it, so its memoryUsage() is what an operator's gateway has. Driven by
// gateway-process.ts with one JSON line per command on stdin and one per answer on stdout.
import { createInterface } from 'node:readline';
import { getHeapSpaceStatistics } from 'node:v8';
import { Writable } from 'node:stream';

const dist = new URL('../../dist/', import.meta.url);
const { parseConfig } = await import(new URL('config/load.js', dist).href);
const { createGateway } = await import(new URL('gateway.js', dist).href);
const { createLogger } = await import(new URL('log.js', dist).href);

const answer = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
let gateway;

async function run(command) {
  if (command.start) {
    const config = parseConfig(command.start, { env: {}, source: 'bench' });
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    const { logger } = await createLogger({ level: 'warn', stream: sink });
    gateway = await createGateway(config, { logger, env: process.env });
    await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    const failed = (await gateway.validateServices()).filter((report) => !report.ok);
    if (failed.length > 0) throw new Error(`services failed to start: ${JSON.stringify(failed)}`);
    return { port: gateway.app.server.address().port };
  }
  if (command.youngGeneration) {
    // No GC here: this is how the bench sees V8's memory reducer give the young generation back.
    return { bytes: youngGenerationBytes() };
  }
  if (command.memory) {
    // Started with --expose-gc: a reading of what is held, not of garbage.
    globalThis.gc();
    return { memory: process.memoryUsage() };
  }
  if (command.close) {
    await gateway?.close();
    return { closed: true };
  }
  throw new Error(`unknown command ${JSON.stringify(command)}`);
}

function youngGenerationBytes() {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.physical_space_size ?? 0;
}

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line);
  try {
    answer(await run(command));
  } catch (error) {
    answer({ error: String(error?.stack ?? error) });
  }
  if (command.close) break;
}
