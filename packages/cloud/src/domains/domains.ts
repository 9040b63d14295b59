import { randomInt, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import type { Queryable, Store } from '../store/store.ts';
import { SkybridgeError, notFound } from '../http/problem.ts';
import { TenantWrite } from '../directory/tenant-lock.ts';
import { operatorActor, type Actor } from '../audit/audit-log.ts';
import { releaseFreedValues } from '../sync/quarantine.ts';
import type { DnsLookup } from './dns-lookup.ts';
import { normalizeName } from './dns-lookup.ts';

export interface DomainRow {
  tenant_id: string;
  name: string;
  is_initial: boolean;
  is_default: boolean;
  verified: boolean;
  verification_code: string | null;
  authentication: 'managed' | 'federated';
  federation: Federation | null;
  verified_at: Date | string | null;
  created_at: Date | string;
  last_check: { at: string; found: boolean; detail: string } | null;
}

const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** A domain name as an administrator types it: lower-cased, no trailing dot, at least two labels, not an IP address. */
export const domainName = z.string().trim().toLowerCase().transform((v) => v.replace(/\.$/, '')).refine(
  (v) => v.length <= 253 && v.split('.').length >= 2 && v.split('.').every((l) => label.test(l)) && !/^[0-9.]+$/.test(v),
  'must be a DNS domain name such as contoso.com: letters, digits and hyphens in dot-separated labels',
);

const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https:// URL' });
const certificate = z.string().min(1).refine((v) => parseCertificate(v) !== null, 'must be the identity provider\'s signing certificate, PEM or base64 DER');

/** How a federated domain's users sign in: at the domain's own identity provider. */
export const federation = z.discriminatedUnion('protocol', [
  z.strictObject({
    protocol: z.literal('saml'),
    /** the identity provider's entity id (Issuer of its responses) */
    issuerUri: z.string().min(1).max(1024),
    /** where users are sent to sign in (SAML HTTP-Redirect binding) */
    passiveSignInUri: httpsUrl,
    signOutUri: httpsUrl.optional(),
    signingCertificate: certificate,
  }),
  z.strictObject({
    protocol: z.literal('oidc'),
    /** the identity provider's issuer; its discovery document is read from there */
    issuer: httpsUrl,
    /** this tenant's client at the identity provider (authorization code with PKCE) */
    clientId: z.string().min(1).max(256),
    /** its secret: write-only, kept sealed */
    clientSecret: z.string().min(1).max(512).optional(),
    /** the ID token claim carrying the user's immutable id (the sync source anchor); default onprem_immutable_id */
    immutableIdClaim: z.string().min(1).max(64).default('onprem_immutable_id'),
  }),
]);
/** Federation settings as stored: an OIDC client secret sealed, never in clear. */
export type Federation = z.infer<typeof federation> & { clientSecretSealed?: string };

function parseCertificate(v: string): X509Certificate | null {
  try {
    const pem = v.includes('BEGIN CERTIFICATE') ? v : `-----BEGIN CERTIFICATE-----\n${v.replace(/\s+/g, '').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
    return new X509Certificate(pem);
  } catch {
    return null;
  }
}

const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
const newCode = () => `sb${Array.from({ length: 12 }, () => alphabet[randomInt(alphabet.length)]).join('')}`;

/** The record that proves the tenant controls the domain: a TXT record, or an MX record where TXT records cannot be added. */
export function verificationRecords(row: Pick<DomainRow, 'name' | 'verification_code'>) {
  const code = row.verification_code ?? '';
  return [
    { type: 'TXT', name: '@', fqdn: row.name, value: `skybridge-verification=${code}`, ttl: 3600 },
    { type: 'MX', name: '@', fqdn: row.name, value: `${code}.skybridge-verify.invalid`, priority: 32767, ttl: 3600, note: 'only where a TXT record cannot be added; it receives no mail' },
  ];
}

export function presentDomain(row: DomainRow) {
  return {
    name: row.name,
    isInitial: row.is_initial,
    isDefault: row.is_default,
    isVerified: row.verified,
    verifiedDateTime: row.verified_at ? new Date(row.verified_at).toISOString() : null,
    authenticationType: row.authentication,
    federation: row.federation ? presentFederation(row.federation) : null,
    createdDateTime: new Date(row.created_at).toISOString(),
    ...(row.verified || row.is_initial ? {} : { verificationRecords: verificationRecords(row), lastVerificationAttempt: row.last_check }),
  };
}

function presentFederation(f: Federation) {
  if (f.protocol === 'saml') return { ...f, signingCertificate: certificateSummary(f.signingCertificate) };
  const { clientSecretSealed, clientSecret: _never, ...rest } = f;
  return { ...rest, clientSecretSet: Boolean(clientSecretSealed) };
}

function certificateSummary(v: string) {
  const c = parseCertificate(v);
  return c ? { subject: c.subject, notAfter: new Date(c.validTo).toISOString(), sha256: c.fingerprint256 } : null;
}

const domainColumns = 'tenant_id, name, is_initial, is_default, verified, verification_code, authentication, federation, verified_at, created_at, last_check';

export async function listDomains(q: Queryable, tenantId: string): Promise<DomainRow[]> {
  const { rows } = await q.query<DomainRow>(`SELECT ${domainColumns} FROM domains WHERE tenant_id = $1 ORDER BY is_initial DESC, name`, [tenantId]);
  return rows;
}

export async function getDomain(q: Queryable, tenantId: string, name: string, lock = false): Promise<DomainRow> {
  const { rows } = await q.query<DomainRow>(`SELECT ${domainColumns} FROM domains WHERE tenant_id = $1 AND name = $2${lock ? ' FOR UPDATE' : ''}`, [tenantId, name.toLowerCase().replace(/\.$/, '')]);
  if (!rows[0]) throw notFound(`the domain ${name} (add it first: POST /api/v1/domains)`);
  return rows[0];
}

/** The domain's ancestors, nearest first: a.b.contoso.com → b.contoso.com, contoso.com. */
const ancestors = (name: string) => name.split('.').slice(1, -1).map((_, i) => name.split('.').slice(i + 1).join('.'));

/**
 * Adds a domain to the tenant, unverified, with its verification code. A
 * subdomain of a domain the tenant has verified is verified at once; a
 * domain (or a subdomain of one) another tenant has verified cannot be added.
 */
export async function addDomain(store: Store, tenantId: string, actor: Actor, name: string, deployment: { initialDomainSuffix: string; serviceDomain: string }): Promise<DomainRow> {
  for (const reserved of [deployment.initialDomainSuffix, deployment.serviceDomain]) {
    if (name === reserved || name.endsWith(`.${reserved}`)) {
      throw new SkybridgeError('invalid_request', `${name} is under ${reserved}, which belongs to this Skybridge deployment: add a domain your organisation owns`);
    }
  }
  return store.transaction(async (tx) => {
    const w = await TenantWrite.begin(tx, tenantId, undefined, actor);
    const { rows: held } = await tx.query<{ tenant_id: string; name: string }>(
      'SELECT tenant_id, name FROM domains WHERE verified AND name = ANY($1::text[])',
      [[name, ...ancestors(name)]],
    );
    const elsewhere = held.find((h) => h.tenant_id !== tenantId);
    if (elsewhere) {
      throw new SkybridgeError('domain_taken', `${elsewhere.name} is verified by another tenant, so ${name} cannot be added here: remove it from the other tenant first`);
    }
    if (held.some((h) => h.name === name)) throw new SkybridgeError('already_exists', `${name} is already a verified domain of this tenant`);
    const parentVerified = held.length > 0;
    const { rows } = await tx.query<DomainRow>(
      `INSERT INTO domains (tenant_id, name, verified, verified_at, verification_code) VALUES ($1, $2, $3, CASE WHEN $3 THEN now() END, $4)
       ON CONFLICT (tenant_id, name) DO NOTHING RETURNING ${domainColumns}`,
      [tenantId, name, parentVerified, newCode()],
    );
    if (!rows[0]) throw new SkybridgeError('already_exists', `${name} is already a domain of this tenant: verify it with POST /api/v1/domains/${name}/verify`);
    await w.audit({ action: 'domain.add', target: { type: 'domain', id: name, name }, after: presentDomain(rows[0]) });
    await w.finish();
    return rows[0];
  });
}

/** A domain was just verified: synchronized users waiting for it get their UPN back; returns how many. */
async function restoreWaitingUpns(w: TenantWrite, domain: string): Promise<number> {
  const released = await releaseFreedValues(w);
  return released.filter((r) => r.attribute === 'userPrincipalName' && r.value.toLowerCase().endsWith(`@${domain}`)).length;
}

export interface VerifyOutcome { domain: DomainRow; restoredUserPrincipalNames: number }


/**
 * Looks the verification record up in DNS; when it is there, the domain is
 * verified, and synchronized users that waited for it on the initial domain
 * get their own userPrincipalName back.
 */
export async function verifyDomain(store: Store, dns: DnsLookup, tenantId: string, actor: Actor, name: string): Promise<VerifyOutcome> {
  const row = await getDomain(store, tenantId, name);
  if (row.verified) return { domain: row, restoredUserPrincipalNames: 0 };
  const [txt, mx] = await Promise.all([dns.txt(row.name), dns.mx(row.name)]);
  const [want, wantMx] = verificationRecords(row).map((r) => r.value);
  const found = txt.some((t) => t.trim() === want) || mx.some((m) => m.exchange === normalizeName(wantMx!));
  const detail = found ? 'verification record found'
    : `no TXT record "${want}" (found ${txt.length ? txt.map((t) => `"${t}"`).join(', ') : 'no TXT record'}) and no MX record ${wantMx} at ${row.name}`;
  return store.transaction(async (tx) => {
    const w = await TenantWrite.begin(tx, tenantId, undefined, actor);
    const current = await getDomain(tx, tenantId, name, true);
    const check = { at: new Date().toISOString(), found, detail };
    if (!found) {
      await tx.query('UPDATE domains SET last_check = $3 WHERE tenant_id = $1 AND name = $2', [tenantId, current.name, JSON.stringify(check)]);
      return { domain: { ...current, last_check: check }, restoredUserPrincipalNames: 0 };
    }
    const { rows: other } = await tx.query<{ tenant_id: string }>('SELECT tenant_id FROM domains WHERE name = $1 AND verified AND tenant_id <> $2', [current.name, tenantId]);
    if (other[0]) throw new SkybridgeError('domain_taken', `${current.name} is already verified by another tenant: a domain belongs to one tenant only; remove it there first`);
    let updated: DomainRow;
    try {
      const { rows } = await tx.query<DomainRow>(
        `UPDATE domains SET verified = true, verified_at = now(), last_check = $3 WHERE tenant_id = $1 AND name = $2 RETURNING ${domainColumns}`,
        [tenantId, current.name, JSON.stringify(check)],
      );
      updated = rows[0]!;
    } catch (err) {
      // another tenant verified it between the check above and this write (the unique index of verified names)
      if ((err as { code?: string }).code === '23505') throw new SkybridgeError('domain_taken', `${current.name} was just verified by another tenant: a domain belongs to one tenant only`);
      throw err;
    }
    const restored = await restoreWaitingUpns(w, current.name);
    await w.audit({ action: 'domain.verify', target: { type: 'domain', id: current.name, name: current.name }, before: presentDomain(current), after: { ...presentDomain(updated), restoredUserPrincipalNames: restored } });
    await w.finish();
    return { domain: updated, restoredUserPrincipalNames: restored };
  });
}

export const domainChanges = z.strictObject({
  isDefault: z.literal(true).optional(),
  authenticationType: z.enum(['managed', 'federated']).optional(),
  federation: federation.optional(),
});

/** Sets a domain default, or managed, or federated with its identity provider. */
export async function updateDomain(store: Store, tenantId: string, actor: Actor, name: string, changes: z.infer<typeof domainChanges>, sealSecret: (plain: string) => string = () => { throw new Error('no sealing key'); }): Promise<DomainRow> {
  return store.transaction(async (tx) => {
    const w = await TenantWrite.begin(tx, tenantId, undefined, actor);
    const row = await getDomain(tx, tenantId, name, true);
    const auth = changes.authenticationType ?? (changes.federation ? 'federated' : row.authentication);
    if ((changes.isDefault || auth !== row.authentication || changes.federation) && !row.verified) {
      throw new SkybridgeError('domain_not_verified', `${row.name} is not verified yet: verify it first (POST /api/v1/domains/${row.name}/verify)`);
    }
    if (auth === 'federated') {
      if (row.is_initial) throw new SkybridgeError('invalid_request', `${row.name} is the tenant's initial domain, which cannot be federated: it is how administrators always reach the tenant`);
      if (row.is_default || changes.isDefault) throw new SkybridgeError('invalid_request', `${row.name} is ${row.is_default ? '' : 'to be '}the default domain, which cannot be federated: make another domain the default first`);
      if (!changes.federation && !row.federation) throw new SkybridgeError('invalid_request', 'a federated domain needs its identity provider: give federation (protocol saml or oidc, with its settings)');
    } else if (changes.federation) {
      throw new SkybridgeError('invalid_request', 'federation settings are for a federated domain: give authenticationType "federated" with them');
    }
    let next: Federation | null = auth === 'federated' ? (changes.federation ?? row.federation) : null;
    if (next?.protocol === 'oidc' && next.clientSecret) {
      // the secret is sealed before it is stored; the answer and the audit log only say that one is set
      const { clientSecret, ...rest } = next;
      next = { ...rest, clientSecretSealed: sealSecret(clientSecret) };
    } else if (next?.protocol === 'oidc' && changes.federation && row.federation?.protocol === 'oidc' && row.federation.clientSecretSealed) {
      next = { ...next, clientSecretSealed: row.federation.clientSecretSealed };
    }
    if (changes.isDefault) await tx.query('UPDATE domains SET is_default = false WHERE tenant_id = $1 AND is_default', [tenantId]);
    const { rows } = await tx.query<DomainRow>(
      `UPDATE domains SET authentication = $3, federation = $4, is_default = is_default OR $5 WHERE tenant_id = $1 AND name = $2 RETURNING ${domainColumns}`,
      [tenantId, row.name, auth, next ? JSON.stringify(next) : null, changes.isDefault ?? false],
    );
    await w.audit({ action: 'domain.update', target: { type: 'domain', id: row.name, name: row.name }, before: presentDomain(row), after: presentDomain(rows[0]!) });
    await w.finish();
    return rows[0]!;
  });
}

/** Removes a domain nothing uses: not the initial or default domain, no user name, mail or proxy address on it, no user waiting for it. */
export async function removeDomain(store: Store, tenantId: string, actor: Actor, name: string): Promise<void> {
  await store.transaction(async (tx) => {
    const w = await TenantWrite.begin(tx, tenantId, undefined, actor);
    const row = await getDomain(tx, tenantId, name, true);
    if (row.is_initial) throw new SkybridgeError('domain_in_use', `${row.name} is the tenant's initial domain, which cannot be removed`);
    if (row.is_default) throw new SkybridgeError('domain_in_use', `${row.name} is the default domain: make another domain the default first`);
    const suffix = `%@${row.name.replace(/[\\%_]/g, (c) => `\\${c}`)}`;
    const { rows } = await tx.query<{ what: string; n: string | number; sample: string | null }>(
      `SELECT 'userPrincipalName' AS what, count(*) AS n, min(upn) AS sample FROM directory_objects WHERE tenant_id = $1 AND deleted_at IS NULL AND lower(upn) LIKE $2
       UNION ALL SELECT 'mail', count(*), min(mail) FROM directory_objects WHERE tenant_id = $1 AND deleted_at IS NULL AND lower(mail) LIKE $2
       UNION ALL SELECT 'proxy address', count(*), min(address) FROM object_proxy_addresses WHERE tenant_id = $1 AND address LIKE $2
       UNION ALL SELECT 'synchronized user waiting for the domain', count(*), min(value) FROM quarantined_values WHERE tenant_id = $1 AND attribute = 'userPrincipalName' AND value_key LIKE $2`,
      [tenantId, suffix],
    );
    const uses = rows.filter((r) => Number(r.n) > 0);
    if (uses.length) {
      throw new SkybridgeError('domain_in_use', `${row.name} is still used: ${uses.map((u) => `${u.n} ${u.what}${Number(u.n) > 1 ? 's' : ''} (such as ${u.sample})`).join(', ')}: move them to another domain first`, {
        extensions: { uses: Object.fromEntries(uses.map((u) => [u.what, Number(u.n)])) },
      });
    }
    await tx.query('DELETE FROM domains WHERE tenant_id = $1 AND name = $2', [tenantId, row.name]);
    await w.audit({ action: 'domain.remove', target: { type: 'domain', id: row.name, name: row.name }, before: presentDomain(row) });
    await w.finish();
  });
}

/**
 * The deployment operator vouches for a domain: it is added verified without
 * a DNS check. For deployments that run for one organisation, whose operator
 * owns the domain (and for the demo and the tests, whose domains are not in
 * public DNS). It still belongs to one tenant only.
 */
export async function addOperatorVerifiedDomain(store: Store, tenantId: string, rawName: string): Promise<{ domain: DomainRow; restoredUserPrincipalNames: number }> {
  const parsed = domainName.safeParse(rawName);
  if (!parsed.success) throw new SkybridgeError('invalid_request', `the domain "${rawName}" ${parsed.error.issues[0]!.message}`);
  const name = parsed.data;
  return store.transaction(async (tx) => {
    const w = await TenantWrite.begin(tx, tenantId, undefined, operatorActor);
    const { rows: other } = await tx.query<{ tenant_id: string }>('SELECT tenant_id FROM domains WHERE name = $1 AND verified AND tenant_id <> $2', [name, tenantId]);
    if (other[0]) throw new SkybridgeError('domain_taken', `${name} is verified by another tenant: a domain belongs to one tenant only`);
    const { rows } = await tx.query<DomainRow>(
      `INSERT INTO domains (tenant_id, name, verified, verified_at, verification_code) VALUES ($1, $2, true, now(), $3)
       ON CONFLICT (tenant_id, name) DO UPDATE SET verified = true, verified_at = coalesce(domains.verified_at, now())
       RETURNING ${domainColumns}`,
      [tenantId, name, newCode()],
    );
    const restored = await restoreWaitingUpns(w, name);
    await w.audit({ action: 'domain.verify', target: { type: 'domain', id: name, name }, after: { ...presentDomain(rows[0]!), verifiedBy: 'deployment operator', restoredUserPrincipalNames: restored } });
    await w.finish();
    return { domain: rows[0]!, restoredUserPrincipalNames: restored };
  });
}
