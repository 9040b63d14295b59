import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** base64 SHA-256 of the certificate's SubjectPublicKeyInfo: what agents pin. */
  pin: string;
  /** Where the certificate came from, for the start-up message. */
  origin: 'given' | 'generated' | 'kept';
  certPath: string;
}

/** The pin of a PEM certificate: base64 SHA-256 over its SubjectPublicKeyInfo (as in HPKP, RFC 7469). */
export function spkiPin(certPem: string | Buffer): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** Loads the administrator's certificate and key, with errors that name the file. */
export function loadTls(certPath: string, keyPath: string): TlsMaterial {
  const cert = readFileOrExplain(certPath, '--tls-cert');
  const key = readFileOrExplain(keyPath, '--tls-key');
  try {
    return { cert, key, pin: spkiPin(cert), origin: 'given', certPath };
  } catch (err) {
    throw new Error(`--tls-cert ${certPath} is not a PEM certificate: ${(err as Error).message}`);
  }
}

/**
 * The self-signed certificate kept in the data directory, generated on first
 * start (ECDSA P-256, valid for localhost, 127.0.0.1, ::1 and the host names
 * given). Agents trust it by pin, printed at start and returned at registration.
 */
export async function ensureSelfSigned(dataDir: string, hostnames: string[]): Promise<TlsMaterial> {
  const dir = join(dataDir, 'tls');
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath, 'utf8');
    return { cert, key: readFileSync(keyPath, 'utf8'), pin: spkiPin(cert), origin: 'kept', certPath };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const names = [...new Set(['localhost', ...hostnames])];
  const ips = names.filter((n) => /^[\d.]+$|:/.test(n));
  const dns = names.filter((n) => !ips.includes(n));
  const notAfter = new Date();
  notAfter.setFullYear(notAfter.getFullYear() + 2);
  const generated = await generate([{ name: 'commonName', value: dns[0] ?? 'localhost' }, { name: 'organizationName', value: 'Skybridge Cloud (self-signed)' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...dns.map((value) => ({ type: 2 as const, value })),
          ...[...new Set(['127.0.0.1', '::1', ...ips])].map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  writeFileSync(keyPath, generated.private, { mode: 0o600 });
  writeFileSync(certPath, generated.cert, { mode: 0o644 });
  return { cert: generated.cert, key: generated.private, pin: spkiPin(generated.cert), origin: 'generated', certPath };
}

function readFileOrExplain(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${flag} ${path} cannot be read (${(err as NodeJS.ErrnoException).code}): give the path of a PEM file readable by this user`);
  }
}
