/**
 * A bound LDAP session to a domain controller: LDAPS or StartTLS (never a
 * simple bind in clear), certificate validation against the system's CAs, a
 * given CA file or a pinned fingerprint, then a simple bind as the connector
 * account and a read of the rootDSE. Failures become ConnectErrors that name
 * the setting to fix.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect, type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';
import { Client, InvalidCredentialsError, type Control } from 'ldapts';
import type { ActiveDirectoryConfig } from '../config/agent-config.ts';
import { ConnectError } from '../errors.ts';
import { ldapError } from './ldap-errors.ts';
import { internals, searchOnce, searchOnceBytes, searchPages, type RawEntry, type SearchSpec } from './ldap/raw-search.ts';
import { readRootDse, type RootDse } from './root-dse.ts';
// ldapts joins a message's chunks once, not at every read (a large group's ranges)
import './ldap/message-chunks.ts';

export interface ConnectOptions {
  /** Index in activeDirectory.servers to try first (default: each in order). */
  server?: number;
}

const fingerprintOf = (der: Buffer) => createHash('sha256').update(der).digest('hex');
const colonHex = (hex: string) => hex.toUpperCase().match(/../g)!.join(':');

export class AdConnection {
  readonly client: Client;
  readonly url: URL;
  readonly rootDse: RootDse;
  readonly config: ActiveDirectoryConfig;

  private constructor(client: Client, url: URL, rootDse: RootDse, config: ActiveDirectoryConfig) {
    this.client = client;
    this.url = url;
    this.rootDse = rootDse;
    this.config = config;
  }

  /** Connects to the first domain controller of the list that answers. */
  static async open(config: ActiveDirectoryConfig, password: string, options: ConnectOptions = {}): Promise<AdConnection> {
    const order = options.server === undefined ? config.servers.map((_, i) => i) : [options.server];
    let last: unknown;
    for (const i of order) {
      try {
        return await AdConnection.openOne(config, password, i);
      } catch (err) {
        last = err;
        // Only an unreachable DC sends us to the next one; a certificate or credential problem is the same on all.
        if (!(err instanceof ConnectError) || err.code !== 'ad_unreachable') throw err;
      }
    }
    throw last;
  }

  private static async openOne(config: ActiveDirectoryConfig, password: string, index: number): Promise<AdConnection> {
    const { client, url, key, tlsOptions, tlsStarted } = await AdConnection.#client(config, index);
    try {
      await tlsStarted;
    } catch (err) {
      await client.unbind().catch(() => {});
      throw await connectionError(err, config, url, key, tlsOptions);
    }
    try {
      await client.bind(bindName(config.bindAs), password);
    } catch (err) {
      await client.unbind().catch(() => {});
      if (err instanceof InvalidCredentialsError) throw bindError(err, config);
      throw await connectionError(err, config, url, key, tlsOptions);
    }
    let rootDse: RootDse;
    try {
      rootDse = await readRootDse(client);
    } catch (err) {
      await client.unbind().catch(() => {});
      throw ldapError(err, { what: 'reading the rootDSE', subject: url.host });
    }
    return new AdConnection(client, url, rootDse, config);
  }

  async search(spec: SearchSpec, controls: Control[] = []): Promise<{ entries: RawEntry[]; controls: Control[] }> {
    try {
      return await searchOnce(this.client, spec, controls);
    } catch (err) {
      throw ldapError(err, { what: `searching ${spec.base}`, subject: spec.base });
    }
  }

  /** A search whose entries stay the BER the DC sent (ldap/entry-bytes.ts reads them). */
  async searchBytes(spec: SearchSpec, controls: Control[] = []): Promise<{ entries: Buffer[]; controls: Control[] }> {
    try {
      return await searchOnceBytes(this.client, spec, controls);
    } catch (err) {
      throw ldapError(err, { what: `searching ${spec.base}`, subject: spec.base });
    }
  }

  /** A paged search, each page's entries as the BER the DC sent (ldap/entry-bytes.ts reads them). */
  async *pages(spec: SearchSpec, pageSize: number, controls: Control[] = []): AsyncGenerator<Buffer[]> {
    const it = searchPages(this.client, spec, pageSize, controls);
    try {
      for (;;) {
        let next: IteratorResult<Buffer[]>;
        try {
          next = await it.next();
        } catch (err) {
          throw ldapError(err, { what: `reading ${spec.base} page by page`, subject: spec.base });
        }
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await it.return(undefined);
    }
  }

  get host(): string {
    return this.url.host;
  }

  /** A client for `config.servers[i]` with its TLS settings; `tlsStarted` settles once StartTLS (ldap://) is done. */
  static async #client(config: ActiveDirectoryConfig, i: number) {
    const url = new URL(config.servers[i]!);
    const key = `activeDirectory.servers[${i}]`;
    const ldaps = url.protocol === 'ldaps:';
    const port = Number(url.port || (ldaps ? 636 : 389));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const tlsOptions = await tlsOptionsFor(config, host, port, ldaps, key);
    const client = new Client({
      url: `${url.protocol}//${host.includes(':') ? `[${host}]` : host}:${port}`,
      timeout: config.operationTimeoutSeconds * 1000,
      connectTimeout: config.connectTimeoutSeconds * 1000,
      ...(ldaps ? { tlsOptions } : {}),
    });
    const tlsStarted = ldaps ? Promise.resolve() : client.startTLS(tlsOptions);
    tlsStarted.catch(() => {}); // awaited by the caller
    return { client, url, key, tlsOptions, tlsStarted };
  }

  /**
   * A TLS-protected LDAP client for bind checks against `config.servers[i]`
   * (LDAPS, or StartTLS on ldap://), not yet bound.
   */
  static async bindClient(config: ActiveDirectoryConfig, i: number): Promise<{ client: Client; server: string }> {
    const { client, url, tlsStarted } = await AdConnection.#client(config, i);
    try {
      await tlsStarted;
    } catch (err) {
      await client.unbind().catch(() => {});
      throw err;
    }
    return { client, server: url.host };
  }

  async close(): Promise<void> {
    await this.client.unbind().catch(() => {});
  }

  /** The TLS socket under the session (for diagnostics). */
  get socket(): TLSSocket | undefined {
    return (internals(this.client) as unknown as { socket?: TLSSocket }).socket;
  }
}

/** DOMAIN\name is sent as is (AD accepts it); so are a DN and a UPN. */
const bindName = (bindAs: string) => bindAs;

async function tlsOptionsFor(config: ActiveDirectoryConfig, host: string, port: number, ldaps: boolean, key: string): Promise<ConnectionOptions> {
  const servername = config.tls.serverName ?? (/^[\d.]+$|:/.test(host) ? undefined : host);
  const base: ConnectionOptions = { minVersion: 'TLSv1.2', ...(servername ? { servername } : {}) };
  if (config.tls.caFile) {
    let ca: string;
    try {
      ca = readFileSync(config.tls.caFile, 'utf8');
    } catch (err) {
      throw new ConnectError('config_invalid', `activeDirectory.tls.caFile: cannot read ${config.tls.caFile} (${(err as NodeJS.ErrnoException).code})`, {
        subject: 'activeDirectory.tls.caFile', fix: 'point caFile at a readable PEM file holding the CA that signed the DC\'s certificate',
      });
    }
    return { ...base, ca };
  }
  const wanted = config.tls.fingerprint;
  if (!wanted) return base;
  // Pinned: find the certificate with that fingerprint in the chain the DC presents, then trust it alone.
  const chain = await presentedChain(host, port, ldaps, servername, key, config);
  const match = chain.find((c) => fingerprintOf(c.raw) === wanted);
  if (!match) {
    throw new ConnectError('ad_tls_untrusted', `${key}: ${host}:${port} presents no certificate with the configured fingerprint (it presents ${chain.map((c) => `${c.subject?.CN ?? '?'} ${colonHex(fingerprintOf(c.raw))}`).join('; ')})`, {
      subject: 'activeDirectory.tls.fingerprint', fix: 'check the DC\'s certificate (openssl x509 -noout -fingerprint -sha256) and set activeDirectory.tls.fingerprint to it, or to its CA\'s',
    });
  }
  const leaf = chain[0]!;
  const pinnedLeaf = match === leaf;
  return {
    ...base,
    ca: new X509Certificate(match.raw).toString(),
    allowPartialTrustChain: true,
    // A pinned leaf certificate is trusted for exactly itself, whatever name it carries.
    ...(pinnedLeaf ? { checkServerIdentity: (_h: string, cert: PeerCertificate) => (fingerprintOf(cert.raw) === wanted ? undefined : new Error('certificate changed since it was pinned')) } : {}),
  };
}

/** The certificate chain a DC presents (leaf first), read without trusting it. */
async function presentedChain(host: string, port: number, ldaps: boolean, servername: string | undefined, key: string, config: ActiveDirectoryConfig): Promise<PeerCertificate[]> {
  let socket: TLSSocket;
  if (ldaps) {
    socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ host, port, rejectUnauthorized: false, ...(servername ? { servername } : {}) }, () => resolve(s));
      s.setTimeout(config.connectTimeoutSeconds * 1000, () => s.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      s.once('error', reject);
    }).catch((err: unknown) => { throw unreachable(err, host, port, key); });
  } else {
    const probe = new Client({ url: `ldap://${host.includes(':') ? `[${host}]` : host}:${port}`, connectTimeout: config.connectTimeoutSeconds * 1000, timeout: config.operationTimeoutSeconds * 1000 });
    try {
      await probe.startTLS({ rejectUnauthorized: false, ...(servername ? { servername } : {}) });
    } catch (err) {
      throw unreachable(err, host, port, key);
    }
    socket = (probe as unknown as { socket: TLSSocket }).socket;
  }
  const chain: PeerCertificate[] = [];
  let cert = socket.getPeerCertificate(true) as PeerCertificate & { issuerCertificate?: PeerCertificate };
  const seen = new Set<string>();
  while (cert?.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(cert);
    cert = cert.issuerCertificate as typeof cert;
  }
  socket.destroy();
  return chain;
}

function unreachable(err: unknown, host: string, port: number, key: string): ConnectError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const why = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ECONNRESET' ? 'the connection was closed before TLS started' : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'the name does not resolve' : code === 'ETIMEDOUT' || /timeout/i.test((err as Error).message) ? 'no answer in time' : (err as Error).message;
  return new ConnectError('ad_unreachable', `${key}: cannot reach the domain controller at ${host}:${port} (${why})`, {
    subject: key, cause: err,
    fix: `check the host and port in ${key}, that the DC runs, and that a firewall lets this machine reach it (LDAPS is TCP 636, LDAP with StartTLS TCP 389)`,
  });
}

const tlsTrustCodes = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_UNTRUSTED', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE']);

async function connectionError(err: unknown, config: ActiveDirectoryConfig, url: URL, key: string, tls: ConnectionOptions): Promise<ConnectError> {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (url.protocol === 'ldaps:' ? 636 : 389));
  if (tlsTrustCodes.has(code)) {
    let presented = '';
    try {
      const chain = await presentedChain(host, port, url.protocol === 'ldaps:', tls.servername, key, config);
      presented = ` It presents ${chain.map((c) => `"${c.subject?.CN ?? '?'}" (SHA-256 ${colonHex(fingerprintOf(c.raw))})`).join(', issued by ')}.`;
    } catch { /* the description is a courtesy */ }
    const nameProblem = code === 'ERR_TLS_CERT_ALTNAME_INVALID';
    return new ConnectError('ad_tls_untrusted', `${key}: the certificate of ${url.host} is not trusted (${code}: ${(err as Error).message}).${presented}`, {
      subject: nameProblem ? 'activeDirectory.tls.serverName' : 'activeDirectory.tls', cause: err,
      fix: nameProblem
        ? 'connect by the name the certificate carries, or set activeDirectory.tls.serverName to it'
        : 'set activeDirectory.tls.caFile to the PEM of the CA that issued the DC\'s certificate, or activeDirectory.tls.fingerprint to the fingerprint above after checking it on the DC',
    });
  }
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EAI_AGAIN|ECONNRESET|Connection timeout|disconnected before secure TLS/i.test(`${code} ${(err as Error).message}`)) return unreachable(err, host, port, key);
  if (/TLSNotSupported|unsupported extended operation|Protocol error/i.test(`${(err as Error).name} ${(err as Error).message}`) && url.protocol === 'ldap:') {
    return new ConnectError('ad_tls_failed', `${key}: ${url.host} does not offer StartTLS (${(err as Error).message})`, {
      subject: key, cause: err, fix: 'use ldaps:// (port 636), or give the DC a certificate so it can offer StartTLS',
    });
  }
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /SSL|TLS/.test((err as Error).message)) {
    return new ConnectError('ad_tls_failed', `${key}: TLS with ${url.host} failed (${code || (err as Error).message})`, {
      subject: key, cause: err, fix: 'check that the port speaks the protocol of the URL (ldaps:// on 636, ldap:// with StartTLS on 389) and that the DC offers TLS 1.2 or later',
    });
  }
  return ldapError(err, { what: `connecting to ${url.host}`, subject: key });
}

/** AD puts the reason of a failed bind in "data XXX" (MS-ADTS / winerror). */
const bindReasons: Record<string, string> = {
  '525': 'no such account',
  '52e': 'the password is wrong, or there is no such account',
  '530': 'logon is not permitted at this time',
  '531': 'logon is not permitted from this workstation',
  '532': 'the password has expired',
  '533': 'the account is disabled',
  '701': 'the account has expired',
  '773': 'the password must be changed before first use',
  '775': 'the account is locked out',
};

function bindError(err: Error, config: ActiveDirectoryConfig): ConnectError {
  const data = /data ([0-9a-f]{3,4})/i.exec(err.message)?.[1]?.toLowerCase();
  const reason = (data && bindReasons[data]) ?? 'invalid credentials';
  return new ConnectError('ad_bind_failed', `activeDirectory.bindAs: Active Directory refused the connector account ${config.bindAs}: ${reason}`, {
    subject: 'activeDirectory.bindAs', cause: err,
    fix: data === '533' || data === '701' || data === '775' || data === '532' || data === '773'
      ? `ask a domain administrator to enable, unlock or renew ${config.bindAs} (it should have a non-expiring password)`
      : `check activeDirectory.bindAs (a DN, user@domain or DOMAIN\\user) and the password in ${config.passwordFile}`,
  });
}
