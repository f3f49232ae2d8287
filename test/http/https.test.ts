import { mkdtemp } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { BASIC, fixtureService, startTestGateway } from '../helpers/gateway.js';
import { createSelfSignedPem } from '../helpers/self-signed.js';

function get(url: string, ca: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { ca, headers }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}

test('certs/server.pem (certificate and key in one file) turns on HTTPS with HSTS (§3.1)', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'mcp-gw-tls-'));
  const { certPem } = await createSelfSignedPem(cwd);
  const gw = await startTestGateway({ services: { fx: fixtureService() } }, { cwd });
  onTestFinished(() => gw.close());
  expect(gw.url).toMatch(/^https:\/\//);

  const health = await get(`${gw.url}/health`, certPem);
  expect(health.status).toBe(200);
  expect(health.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');

  const services = await get(`${gw.url}/services`, certPem, { authorization: BASIC });
  expect(services.status).toBe(200);
  expect(JSON.parse(services.body)).toHaveProperty('fx');
});

test('a configured certificate that cannot be read stops start-up instead of falling back to HTTP (§3.1)', async () => {
  await expect(
    startTestGateway({
      services: { fx: fixtureService() },
      security: { ssl_enabled: true, ssl_cert_path: '/nonexistent/cert.pem', ssl_key_path: '/nonexistent/key.pem' },
    }),
  ).rejects.toThrow(/\/nonexistent\/cert\.pem/);
});
