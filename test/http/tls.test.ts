import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { securityConfig as security } from '../helpers/config.js';
import { loadTls } from '../../src/http/tls.js';
import { createSelfSignedPem, type SelfSignedPem } from '../helpers/self-signed.js';


async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-gateway-tls-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A working directory whose certs/server.pem holds `content`. */
async function cwdWithServerPem(content: string): Promise<string> {
  const dir = await tempDir();
  await mkdir(join(dir, 'certs'));
  await writeFile(join(dir, 'certs', 'server.pem'), content);
  return dir;
}

let keysDir: string;
let pem: SelfSignedPem;
let otherPem: SelfSignedPem;

beforeAll(async () => {
  keysDir = await mkdtemp(join(tmpdir(), 'mcp-gateway-tls-keys-'));
  await mkdir(join(keysDir, 'a'));
  await mkdir(join(keysDir, 'b'));
  [pem, otherPem] = await Promise.all([createSelfSignedPem(join(keysDir, 'a')), createSelfSignedPem(join(keysDir, 'b'))]);
});
afterAll(() => rm(keysDir, { recursive: true, force: true }));

describe('loadTls (§3.1)', () => {
  test('no certs/server.pem and ssl_enabled false: plain HTTP', async () => {
    expect(await loadTls({ security: security(), cwd: await tempDir() })).toBeUndefined();
  });

  test('certs/server.pem (certificate + key in one file) serves HTTPS to a client trusting it', async () => {
    const cwd = await tempDir();
    const { pemPath, certPem } = await createSelfSignedPem(cwd);

    const material = await loadTls({ security: security(), cwd });
    expect(material).toMatchObject({ source: pemPath });
    expect(material?.key).toBe(material?.cert);

    const server = createServer({ key: material?.key, cert: material?.cert }, (_req, res) => res.end('over tls'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;

    const req = request({ host: '127.0.0.1', port, servername: 'localhost', ca: certPem });
    req.end();
    const [res] = (await once(req, 'response')) as [NodeJS.ReadableStream];
    let body = '';
    for await (const chunk of res) body += String(chunk);
    expect(body).toBe('over tls');
  });

  test('key before certificate in server.pem works too', async () => {
    const cwd = await cwdWithServerPem(pem.keyPem + pem.certPem);
    expect(await loadTls({ security: security(), cwd })).toMatchObject({ key: pem.keyPem + pem.certPem });
  });

  test('ssl_enabled reads ssl_cert_path and ssl_key_path, relative to cwd', async () => {
    const material = await loadTls({
      security: security({ ssl_enabled: true, ssl_cert_path: 'a/cert.pem', ssl_key_path: 'a/key.pem' }),
      cwd: keysDir,
    });
    expect(material).toEqual({
      cert: pem.certPem,
      key: pem.keyPem,
      source: `${pem.certPath} (key ${pem.keyPath})`,
    });
  });

  test('ssl_enabled wins over certs/server.pem', async () => {
    const cwd = await cwdWithServerPem(otherPem.certPem + otherPem.keyPem);
    const material = await loadTls({
      security: security({ ssl_enabled: true, ssl_cert_path: pem.certPath, ssl_key_path: pem.keyPath }),
      cwd,
    });
    expect(material?.cert).toBe(pem.certPem);
  });

  test.each([
    {
      why: 'unset paths are named',
      config: { ssl_cert_path: '', ssl_key_path: '' },
      message: 'security.ssl_enabled is true but security.ssl_cert_path and security.ssl_key_path are not set',
    },
    {
      why: 'an unset key path is named',
      config: { ssl_cert_path: 'a/cert.pem', ssl_key_path: '' },
      message: 'security.ssl_enabled is true but security.ssl_key_path is not set',
    },
    {
      why: 'missing files are named with the reason',
      config: { ssl_cert_path: 'missing-cert.pem', ssl_key_path: 'missing-key.pem' },
      message: /^cannot read TLS certificate \/.*\/missing-cert\.pem: ENOENT.*; cannot read TLS private key \/.*\/missing-key\.pem: ENOENT/,
    },
    {
      why: 'a missing key file alone is named',
      config: { ssl_cert_path: 'a/cert.pem', ssl_key_path: 'a/nope.pem' },
      message: /^cannot read TLS private key \/.*\/a\/nope\.pem: ENOENT[^;]*$/,
    },
    {
      why: 'a key given as the certificate',
      config: { ssl_cert_path: 'a/key.pem', ssl_key_path: 'a/key.pem' },
      message: /^TLS certificate \/.*\/a\/key\.pem contains no PEM certificate$/,
    },
    {
      why: 'a certificate given as the key',
      config: { ssl_cert_path: 'a/cert.pem', ssl_key_path: 'a/cert.pem' },
      message: /^TLS private key \/.*\/a\/cert\.pem contains no PEM private key$/,
    },
    {
      why: 'a key that does not belong to the certificate',
      config: { ssl_cert_path: 'a/cert.pem', ssl_key_path: 'b/key.pem' },
      message: /^invalid TLS certificate or key in \/.*\/a\/cert\.pem \(key \/.*\/b\/key\.pem\): .*key values mismatch/,
    },
  ])('ssl_enabled: $why is a startup error', async ({ config, message }) => {
    await expect(loadTls({ security: security({ ssl_enabled: true, ...config }), cwd: keysDir })).rejects.toThrow(message);
  });

  test.each([
    { why: 'garbage', content: () => 'not a certificate\n', message: 'must hold a PEM certificate and its private key' },
    { why: 'empty', content: () => '', message: 'must hold a PEM certificate and its private key' },
    { why: 'certificate only', content: () => pem.certPem, message: 'must hold a PEM certificate and its private key' },
    { why: 'key only', content: () => pem.keyPem, message: 'must hold a PEM certificate and its private key' },
    {
      why: 'corrupted certificate body',
      content: () => pem.certPem.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!!!!!!!!!!!!!!!!!') + pem.keyPem,
      message: 'invalid TLS certificate or key in',
    },
    { why: 'mismatched key', content: () => pem.certPem + otherPem.keyPem, message: 'key values mismatch' },
    {
      why: 'encrypted key',
      content: () => `${pem.certPem}-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n`,
      message: 'is encrypted; the gateway needs an unencrypted key',
    },
  ])('certs/server.pem that is $why is a startup error naming the file', async ({ content, message }) => {
    const cwd = await cwdWithServerPem(content());
    const error = await loadTls({ security: security(), cwd }).then(
      () => undefined,
      (failure: unknown) => failure as Error,
    );
    expect(error?.message).toContain(join(cwd, 'certs', 'server.pem'));
    expect(error?.message).toContain(message);
  });

  test('an unreadable certs/server.pem is an error, not plain HTTP', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'certs', 'server.pem'), { recursive: true });
    await expect(loadTls({ security: security(), cwd })).rejects.toThrow(
      `cannot read TLS certificate ${join(cwd, 'certs', 'server.pem')}: EISDIR`,
    );
  });
});
