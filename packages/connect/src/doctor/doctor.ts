/**
 * `skybridge connect doctor`: every prerequisite of a working agent, checked
 * live, each with what to do when it fails. Nothing is written anywhere:
 * AD is only read (the write right for stamping is read from
 * allowedAttributesEffective, not tried), the cloud is only asked.
 */
import { readFileSync, existsSync } from 'node:fs';
import { paths } from '@skybridge/protocol';
import type { LoadedConfig } from '../config/load-config.ts';
import { AdConnection } from '../ad/connection.ts';
import { DirSyncControl } from '../ad/controls/dirsync-control.ts';
import { dirsyncFlags, dirsyncRightFix, matchNothing } from '../ad/importer.ts';
import { stampRightFix } from '../ad/consistency-guid.ts';
import { httpExchange } from '../cloud/http.ts';
import { loadCredentials } from '../cloud/credentials-file.ts';
import { CloudClient } from '../cloud/cloud-client.ts';
import { ConnectError } from '../errors.ts';
import { dnsDomainOf } from '../ad/dn.ts';
import { lockoutThresholdOf } from '../ad/domain-policy.ts';
import { DrsClient } from '../drsr/drs-client.ts';
import { ATTRIBUTE_OID } from '../drsr/drsuapi/prefix-table.ts';
import { hashSourceHost, ntlmAccount } from '../phs/from-config.ts';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

/** Clock skew the cloud's tokens tolerate before sign-ins and agent tokens fail. */
const maxSkewSeconds = 300;

const failure = (name: string, err: unknown): Check => {
  const e = err as Error & { fix?: string };
  return { name, status: 'fail', detail: e.message.split('. Fix: ')[0]!, ...(e.fix ? { fix: e.fix } : {}) };
};

export async function runDoctor(loaded: LoadedConfig): Promise<Check[]> {
  const checks: Check[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  checks.push(major >= 24
    ? { name: 'Node.js', status: 'pass', detail: `${process.version}` }
    : { name: 'Node.js', status: 'fail', detail: `${process.version} is older than 24 (LTS)`, fix: 'run the agent with Node.js 24: ./skybridge installs it (scripts/bootstrap.sh)' });
  checks.push({ name: 'configuration', status: 'pass', detail: loaded.path });

  const ad = loaded.config.activeDirectory;
  let conn: AdConnection | null = null;
  /** the UPN suffixes users of this forest can have: the domain's DNS name and the forest's alternative ones */
  let upnSuffixes: string[] = [];
  try {
    conn = await AdConnection.open(ad, loaded.secrets.adPassword);
    const tls = conn.socket?.getProtocol() ?? null;
    checks.push({ name: 'domain controller', status: 'pass', detail: `${conn.host} over ${conn.url.protocol === 'ldaps:' ? 'LDAPS' : 'StartTLS'}${tls ? ` (${tls})` : ''}, bound as ${ad.bindAs}, domain ${conn.rootDse.defaultNamingContext}` });
  } catch (err) {
    checks.push(failure('domain controller', err));
  }
  if (conn) {
    try {
      checks.push(await dirsyncRight(conn, loaded));
      if (loaded.config.sync.stampConsistencyGuid) checks.push(await stampRight(conn, loaded));
      if (loaded.config.passwordHashSync.enabled) checks.push(await replicationRight(conn.rootDse.defaultNamingContext, loaded));
      upnSuffixes = await forestUpnSuffixes(conn).catch(() => []);
      checks.push(await lockoutCheck(conn));
    } finally {
      await conn.close();
    }
  } else {
    checks.push({ name: 'connector account rights', status: 'skip', detail: 'the domain controller was not reached' });
  }

  const cloud = loaded.config.cloud;
  if (!cloud) {
    checks.push({ name: 'cloud', status: 'fail', detail: 'the configuration has no cloud section', fix: 'add cloud: { url: https://… } and run skybridge connect register' });
    return checks;
  }
  const trust = cloud.caFile && existsSync(cloud.caFile) ? { ca: readFileSync(cloud.caFile, 'utf8') } : {};
  const credentials = existsSync(cloud.credentialsFile!) ? loadCredentials(cloud.credentialsFile!) : null;
  try {
    const res = await httpExchange(`${cloud.url.replace(/\/$/, '')}${paths.health}`, { trust: credentials ? { pin: credentials.cloudCertificatePin } : trust, timeoutMs: 10_000 });
    if (res.status !== 200) throw new Error(`${paths.health} answered HTTP ${res.status}`);
    checks.push({ name: 'cloud', status: 'pass', detail: `${cloud.url} answers (${(JSON.parse(res.text) as { store?: string }).store ?? 'ok'})` });
    const date = res.headers.date;
    const skew = typeof date === 'string' ? Math.round((Date.parse(date) - Date.now()) / 1000) : NaN;
    checks.push(!Number.isFinite(skew)
      ? { name: 'clock', status: 'warn', detail: 'the cloud sent no Date header to compare with' }
      : Math.abs(skew) <= maxSkewSeconds
        ? { name: 'clock', status: 'pass', detail: `${Math.abs(skew)} s from the cloud's clock` }
        : { name: 'clock', status: 'fail', detail: `this machine's clock is ${Math.abs(skew)} s ${skew > 0 ? 'behind' : 'ahead of'} the cloud's (at most ${maxSkewSeconds} s)`, fix: 'synchronize the clock (chrony or systemd-timesyncd with your domain controllers or NTP servers)' });
  } catch (err) {
    checks.push(failure('cloud', Object.assign(err as Error, { fix: 'check cloud.url, the network path to it (proxy, firewall) and, before registration, cloud.caFile' })));
  }
  if (!credentials) {
    checks.push({ name: 'registration', status: 'fail', detail: `no agent credentials at ${cloud.credentialsFile}`, fix: 'get a registration token in the admin center and run skybridge connect register --token …' });
  } else {
    try {
      const client = new CloudClient(credentials, trust);
      await client.requestToken();
      checks.push({ name: 'registration', status: 'pass', detail: `agent ${credentials.agentId} of tenant ${credentials.tenantId}` });
      if (upnSuffixes.length) checks.push(domainsCheck(upnSuffixes, await client.tenantDomains()));
    } catch (err) {
      checks.push(failure('registration', Object.assign(err as Error, { fix: 'the agent was removed or its key no longer matches: register it again with a new token' })));
    }
  }
  if (!checks.some((c) => c.name === 'domains verified')) {
    checks.push({ name: 'domains verified', status: 'skip', detail: upnSuffixes.length ? 'the cloud was not reached as this agent' : 'the domain controller was not reached' });
  }
  return checks;
}

/**
 * Pass-through sign-ins and the domain's account lockout: the cloud lowers
 * its smart lockout below the domain's threshold (reported with each
 * heartbeat), so a guesser is stopped before AD locks the user out. A
 * domain that locks after one failure leaves nothing below it.
 */
async function lockoutCheck(conn: AdConnection): Promise<Check> {
  const name = 'smart lockout below the domain\'s';
  try {
    const threshold = await lockoutThresholdOf(conn);
    if (!threshold) return { name, status: 'pass', detail: 'the domain never locks accounts; the cloud\'s smart lockout alone protects pass-through sign-ins' };
    if (threshold <= 1) return { name, status: 'warn', detail: `the domain locks an account after ${threshold} failed sign-in: with pass-through, every wrong password typed in the cloud locks the account on-premises`, fix: 'raise the domain\'s account lockout threshold (Default Domain Policy), or use password hash synchronization' };
    return { name, status: 'pass', detail: `the domain locks after ${threshold} failures; the cloud keeps its smart lockout for pass-through below that (at most ${threshold - 1} from one address)` };
  } catch (err) {
    return failure(name, err);
  }
}

/** The DNS name of the domain and the forest's alternative UPN suffixes (uPNSuffixes on CN=Partitions). */
async function forestUpnSuffixes(conn: AdConnection): Promise<string[]> {
  const dns = dnsDomainOf(conn.rootDse.defaultNamingContext).toLowerCase();
  const { entries } = await conn.search({ base: `CN=Partitions,${conn.rootDse.configurationNamingContext}`, scope: 'base', filter: '(objectClass=*)', attributes: ['uPNSuffixes'] });
  const extra = entries[0]?.attributes.get('upnsuffixes')?.values.map((v) => v.toString('utf8').toLowerCase()) ?? [];
  return [...new Set([dns, ...extra])];
}

/** Users keep their UPN in the cloud only on verified domains; on others they go to the initial domain until verified. */
function domainsCheck(suffixes: string[], domains: { name: string; isVerified: boolean }[]): Check {
  const verified = new Set(domains.filter((d) => d.isVerified).map((d) => d.name.toLowerCase()));
  const missing = suffixes.filter((s) => !verified.has(s) && ![...verified].some((v) => s.endsWith(`.${v}`)));
  return missing.length === 0
    ? { name: 'domains verified', status: 'pass', detail: `every UPN suffix of the forest is verified in the tenant (${suffixes.join(', ')})` }
    : { name: 'domains verified', status: 'warn', detail: `not verified in the tenant: ${missing.join(', ')}; users with these UPN suffixes sync onto the tenant's initial domain until they are`, fix: `add and verify ${missing.join(', ')} in the admin center (Settings > Domains, a TXT record in public DNS)` };
}

/** DirSync needs "Replicating Directory Changes" (unless object-security mode): one DirSync search that matches nothing. */
/**
 * Password hash sync reads secrets over MS-DRSR: the endpoint mapper, an
 * NTLM-sealed RPC connection and DRSBind, then one object replicated with
 * its secrets (the domain's root object, which has none: the DC checks
 * "Replicating Directory Changes All" all the same, and nothing secret is read).
 */
async function replicationRight(domainDn: string, loaded: LoadedConfig): Promise<Check> {
  const name = 'password hash sync (MS-DRSR)';
  const host = hashSourceHost(loaded);
  try {
    const drs = await DrsClient.connect({ host, credentials: ntlmAccount(loaded.config.activeDirectory.bindAs, loaded.secrets.adPassword), timeoutMs: loaded.config.activeDirectory.connectTimeoutSeconds * 1000 * 3 });
    try {
      await drs.readObject({ dn: domainDn }, [ATTRIBUTE_OID.objectSid, ATTRIBUTE_OID.unicodePwd], domainDn);
    } finally {
      await drs.close();
    }
    return { name, status: 'pass', detail: `${host}: directory replication over NTLM-sealed RPC, "Replicating Directory Changes All" granted` };
  } catch (err) {
    return failure(name, err);
  }
}

async function dirsyncRight(conn: AdConnection, loaded: LoadedConfig): Promise<Check> {
  const ad = loaded.config.activeDirectory;
  if (ad.changeTracking === 'usn') return { name: 'connector account rights', status: 'pass', detail: 'uSNChanged polling (changeTracking: usn) needs read access only' };
  try {
    const control = new DirSyncControl({ flags: dirsyncFlags(ad) });
    await conn.search({ base: conn.rootDse.defaultNamingContext, scope: 'sub', filter: matchNothing, attributes: ['objectGUID'] }, [control]);
    return { name: 'connector account rights', status: 'pass', detail: `DirSync allowed${ad.dirsyncObjectSecurity ? ' (object-security mode)' : ' ("Replicating Directory Changes")'}` };
  } catch (err) {
    if (!(err instanceof ConnectError) || (err.code !== 'ad_missing_rights' && err.code !== 'ad_protocol_error')) throw err;
    const fix = dirsyncRightFix;
    return ad.changeTracking === 'dirsync'
      ? { name: 'connector account rights', status: 'fail', detail: `DirSync refused on ${conn.rootDse.defaultNamingContext}: no "Replicating Directory Changes"`, fix }
      : { name: 'connector account rights', status: 'warn', detail: 'DirSync refused: the agent falls back to uSNChanged polling (slower deltas, deletions found by full imports only)', fix };
  }
}

/** Stamping writes mS-DS-ConsistencyGuid: read whether the account may, on one user, from allowedAttributesEffective. */
async function stampRight(conn: AdConnection, loaded: LoadedConfig): Promise<Check> {
  const base = loaded.config.activeDirectory.containers[0] ?? conn.rootDse.defaultNamingContext;
  const { entries } = await conn.search({ base, scope: 'sub', filter: '(&(objectCategory=person)(objectClass=user)(!(isCriticalSystemObject=TRUE)))', attributes: ['allowedAttributesEffective'], sizeLimit: 1 });
  const user = entries[0];
  if (!user) return { name: 'stamping right', status: 'skip', detail: `no user under ${base} to check on` };
  const allowed = user.attributes.get('allowedattributeseffective')?.values.map((v) => v.toString('utf8').toLowerCase()) ?? [];
  return allowed.includes('ms-ds-consistencyguid')
    ? { name: 'stamping right', status: 'pass', detail: `may write mS-DS-ConsistencyGuid (checked on ${user.dn})` }
    : { name: 'stamping right', status: 'fail', detail: `may not write mS-DS-ConsistencyGuid (checked on ${user.dn})`, fix: stampRightFix };
}
