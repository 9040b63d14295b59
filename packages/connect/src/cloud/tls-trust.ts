import { createHash, X509Certificate } from 'node:crypto';
import { connect, type PeerCertificate } from 'node:tls';

/**
 * How the agent trusts the cloud's certificate: the system's CAs, a CA file,
 * or a pin (base64 SHA-256 of the certificate's SubjectPublicKeyInfo), as
 * returned by registration. A pinned connection refuses any other key, even
 * one a public CA signed.
 */
export interface TlsTrust {
  /** PEM of the CA (or self-signed certificate) to trust. */
  ca?: string | undefined;
  /** base64 SHA-256 of the SPKI of the certificate the cloud must present. */
  pin?: string | null | undefined;
}

export const spkiPinOf = (der: Buffer): string =>
  createHash('sha256').update(new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');

export class PinMismatchError extends Error {
  readonly code = 'certificate_pin_mismatch';
  constructor(host: string, expected: string, actual: string) {
    super(`the certificate of ${host} does not match the pinned key (expected ${expected}, got ${actual}): the cloud's certificate changed or something intercepts the connection; if the cloud's key was rotated, register the agent again`);
  }
}

/** Reads the certificate a TLS server presents, without sending anything over the connection. */
export function fetchPeerCertificate(host: string, port: number, servername?: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, servername: servername ?? (/^[\d.]+$|:/.test(host) ? undefined : host), rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate(false);
      socket.destroy();
      if (!cert?.raw) reject(new Error(`${host}:${port} presented no certificate`));
      else resolve(cert);
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error(`TLS handshake with ${host}:${port} timed out`)));
    socket.once('error', reject);
  });
}

const pinnedCas = new Map<string, string>();

/**
 * TLS options for a connection to `url`. With a pin and no CA, the server's
 * certificate is fetched once, checked against the pin and then trusted as
 * its own CA; every connection checks the pin again before any byte of the
 * request is sent.
 */
export async function tlsOptionsFor(url: URL, trust: TlsTrust): Promise<{ ca?: string; checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined }> {
  if (url.protocol !== 'https:') return {};
  const pin = trust.pin ?? undefined;
  if (!pin) return trust.ca ? { ca: trust.ca } : {};
  const key = `${url.host}|${pin}`;
  let ca = trust.ca ?? pinnedCas.get(key);
  if (!ca) {
    const cert = await fetchPeerCertificate(url.hostname.replace(/^\[|\]$/g, ''), Number(url.port || 443));
    const actual = spkiPinOf(cert.raw);
    if (actual !== pin) throw new PinMismatchError(url.host, pin, actual);
    ca = new X509Certificate(cert.raw).toString();
    pinnedCas.set(key, ca);
  }
  return {
    ca,
    checkServerIdentity: (_host, cert) => {
      const actual = spkiPinOf(cert.raw);
      return actual === pin ? undefined : new PinMismatchError(url.host, pin, actual);
    },
  };
}
