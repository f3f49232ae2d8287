import { describe, expect, onTestFinished, test } from 'vitest';
import { ProcessHandle, type Launch } from '../../src/upstream/process.js';
import { FIXTURE_SERVER, FIXTURE_WRAPPER } from '../helpers/gateway.js';
import { isRunning } from '../helpers/processes.js';
import { RUN_MARKER_KEY, runMarker } from '../helpers/run-marker.js';
import { waitFor } from '../helpers/wait-for.js';

const FAST = { stdinGraceMs: 300, termGraceMs: 300 };

function launch(command: string, args: string[]): Launch {
  return { command, args, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', [RUN_MARKER_KEY]: runMarker() }, cwd: process.cwd() };
}

/** Sends one JSON-RPC request over the handle and resolves with the parsed response. */
async function rpc(handle: ProcessHandle, id: number, method: string, params: unknown = {}): Promise<any> {
  const response = new Promise<any>((resolve) => {
    let buffer = '';
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('utf8');
      for (const line of buffer.split('\n').slice(0, -1)) {
        const message = JSON.parse(line);
        if (message.id === id) {
          handle.stdout.off('data', onData);
          resolve(message);
        }
      }
      buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
    };
    handle.stdout.on('data', onData);
  });
  handle.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
  return response;
}

async function grandchildOf(handle: ProcessHandle): Promise<number> {
  await rpc(handle, 1, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } });
  const answer = await rpc(handle, 2, 'tools/call', { name: 'spawn_grandchild', arguments: {} });
  return Number(answer.result.content[0].text);
}

describe('ProcessHandle (§5)', () => {
  test('a command that does not exist rejects at once', async () => {
    await expect(ProcessHandle.spawn(launch('/nonexistent/server', []))).rejects.toThrow(/ENOENT/);
  });

  test('close ends a wrapper, the server it forked and that server\'s own child', async () => {
    const handle = await ProcessHandle.spawn(launch('/bin/sh', [FIXTURE_WRAPPER]), { timings: FAST });
    onTestFinished(() => handle.killNow());
    const grandchild = await grandchildOf(handle);
    expect(isRunning(grandchild)).toBe(true);
    await handle.close();
    expect(isRunning(handle.pid)).toBe(false);
    await waitFor(() => !isRunning(grandchild), { what: 'grandchild gone' });
  });

  test('a server that ignores SIGTERM and stdin EOF is killed', async () => {
    const handle = await ProcessHandle.spawn(launch(process.execPath, [FIXTURE_SERVER, '--mode', 'ignore-sigterm']), { timings: FAST });
    onTestFinished(() => handle.killNow());
    await rpc(handle, 1, 'ping');
    await handle.close();
    expect((await handle.exited).signal).toBe('SIGKILL');
  });

  test('children left behind by a server that exited on its own are ended by close', async () => {
    const handle = await ProcessHandle.spawn(launch(process.execPath, [FIXTURE_SERVER]), { timings: FAST });
    onTestFinished(() => handle.killNow());
    const grandchild = await grandchildOf(handle);
    handle.stdin.end();
    await handle.exited;
    expect(isRunning(grandchild)).toBe(true);
    await handle.close();
    await waitFor(() => !isRunning(grandchild), { what: 'orphaned grandchild gone' });
  });

  test('megabytes of stderr never stall the server; the ring keeps the tail', async () => {
    const handle = await ProcessHandle.spawn(launch(process.execPath, [FIXTURE_SERVER, '--mode', 'flood-stderr']), { timings: FAST });
    onTestFinished(() => handle.killNow());
    await rpc(handle, 1, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } });
    for (let id = 2; id < 200; id += 1) {
      const answer = await rpc(handle, id, 'tools/call', { name: 'echo', arguments: { text: `n${id}` } });
      expect(answer.result.content[0].text).toBe(`n${id}`);
    }
    expect(handle.stderr.tail(3).length).toBe(3);
    await handle.close();
  });
});
