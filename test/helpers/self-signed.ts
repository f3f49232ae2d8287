import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface SelfSignedPem {
  /** `<dir>/certs/server.pem`: certificate then key, the layout the gateway picks up (SPEC §3.1). */
  pemPath: string;
  /** The same certificate and key as separate files, for `security.ssl_cert_path`/`ssl_key_path`. */
  certPath: string;
  keyPath: string;
  /** Pass as `ca` to a client so it trusts the gateway. */
  certPem: string;
  keyPem: string;
}

/**
 * A throwaway self-signed certificate for `localhost`, 127.0.0.1 and ::1, made with the system
 * openssl (no shell). Use a temporary directory: the caller removes it.
 */
export async function createSelfSignedPem(dir: string): Promise<SelfSignedPem> {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost',
    // Clients check the subjectAltName, so tests can connect by name or by loopback address.
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
    '-days', '1', '-keyout', keyPath, '-out', certPath,
  ]);
  const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  await mkdir(join(dir, 'certs'), { recursive: true });
  const pemPath = join(dir, 'certs', 'server.pem');
  await writeFile(pemPath, certPem + keyPem);
  return { pemPath, certPath, keyPath, certPem, keyPem };
}
