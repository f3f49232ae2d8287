import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { expect, onTestFinished, test } from 'vitest';
import { loadConfigFile } from '../src/config/load.js';
import { createGateway } from '../src/gateway.js';
import { createLogger } from '../src/log.js';
import { waitFor } from './helpers/wait-for.js';
import { isRunning } from './helpers/processes.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/config/', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

test('the deployment-shaped fixture config runs as it is, with a numeric-looking password and argument (§3, §11)', async () => {
  const env = { MCP_HOST: '127.0.0.1', MCP_PORT: '0', MCP_AUTH_PASSWORD: '12345678', MCP_LOG_FILE: '' };
  const config = await loadConfigFile(`${FIXTURES}env-heavy.json`, { env });
  expect(config.server.auth_password).toBe('12345678');
  expect(config.services.todo?.command).toEqual(['node', './demo/todo-server.js', '--max-items', '1000']);

  const { logger } = await createLogger({ level: 'warn', stream: new Writable({ write: (_chunk, _encoding, done) => done() }) });
  const gateway = await createGateway(config, { logger, env: process.env, cwd: ROOT });
  onTestFinished(() => gateway.close());
  await gateway.app.listen({ host: config.server.host, port: config.server.port });
  const [report] = await gateway.validateServices();
  expect(report).toMatchObject({ service: 'todo', ok: true, tools: 5 });

  const response = await gateway.app.inject({
    method: 'POST',
    url: '/services/todo/call',
    headers: { authorization: `Basic ${Buffer.from('admin:12345678').toString('base64')}` },
    payload: { tool: 'add_todo', session_id: 'fixture', arguments: { text: 'works' } },
  });
  expect(response.statusCode).toBe(200);
  expect(response.json().result).toBe('Added todo #1: works');
  const pid = gateway.registry.list()[0]!.upstream.pid!;
  await gateway.close();
  await waitFor(() => !isRunning(pid), { what: 'fixture session server gone' });
});
