import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { SecurityConfig } from '../config/types.js';

export interface TlsMaterial {
  key: string;
  cert: string;
  /** The file(s) it came from, for the startup line. */
  source: string;
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----/;
const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const ENCRYPTED_KEY = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/;

/**
 * Finds the TLS certificate and key (SPEC §3.1): `security.ssl_enabled` with
 * ssl_cert_path/ssl_key_path (relative to `cwd`), else `<cwd>/certs/server.pem`, else undefined
 * for plain HTTP. Anything configured or present but unusable throws an Error naming the file:
 * silently serving plain HTTP instead would expose credentials.
 */
export async function loadTls(opts: { security: SecurityConfig; cwd: string }): Promise<TlsMaterial | undefined> {
  const { security, cwd } = opts;
  if (security.ssl_enabled) {
    const unset = (['ssl_cert_path', 'ssl_key_path'] as const).filter((key) => security[key] === '');
    if (unset.length > 0) {
      const names = unset.map((key) => `security.${key}`).join(' and ');
      throw new Error(`security.ssl_enabled is true but ${names} ${unset.length > 1 ? 'are' : 'is'} not set`);
    }
    const certPath = resolve(cwd, security.ssl_cert_path);
    const keyPath = resolve(cwd, security.ssl_key_path);
    // Both reads are attempted so one message names every unreadable file.
    const [cert, key] = await Promise.allSettled([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    if (cert.status === 'rejected' || key.status === 'rejected') {
      const failures = [
        cert.status === 'rejected' ? `cannot read TLS certificate ${certPath}: ${reason(cert.reason)}` : '',
        key.status === 'rejected' ? `cannot read TLS private key ${keyPath}: ${reason(key.reason)}` : '',
      ];
      throw new Error(failures.filter(Boolean).join('; '));
    }

    const material = { cert: cert.value, key: key.value, source: `${certPath} (key ${keyPath})` };
    if (!CERTIFICATE_BLOCK.test(material.cert)) throw new Error(`TLS certificate ${certPath} contains no PEM certificate`);
    if (!PRIVATE_KEY_BLOCK.test(material.key)) throw new Error(`TLS private key ${keyPath} contains no PEM private key`);
    validate(material);
    return material;
  }

  const pemPath = join(cwd, 'certs', 'server.pem');
  let pem: string;
  try {
    pem = await readFile(pemPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new Error(`cannot read TLS certificate ${pemPath}: ${reason(error)}`, { cause: error });
  }
  if (!CERTIFICATE_BLOCK.test(pem) || !PRIVATE_KEY_BLOCK.test(pem)) {
    throw new Error(`TLS certificate ${pemPath} must hold a PEM certificate and its private key`);
  }
  // OpenSSL picks the certificate blocks for `cert` and the key block for `key` out of the same
  // text (test/http/tls.test.ts serves HTTPS this way), so the file is not split.
  const material = { cert: pem, key: pem, source: pemPath };
  validate(material);
  return material;
}

/** Fails at startup, naming the file, instead of at the first TLS handshake. */
function validate(material: TlsMaterial): void {
  if (ENCRYPTED_KEY.test(material.key)) {
    throw new Error(`TLS private key in ${material.source} is encrypted; the gateway needs an unencrypted key`);
  }
  try {
    // Also rejects a key that does not belong to the certificate.
    createSecureContext({ key: material.key, cert: material.cert });
  } catch (error) {
    throw new Error(`invalid TLS certificate or key in ${material.source}: ${reason(error)}`, { cause: error });
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
