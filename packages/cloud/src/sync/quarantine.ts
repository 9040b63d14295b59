/**
 * Duplicate attribute resiliency, as Entra ID does it: a synchronized object
 * whose userPrincipalName or proxy address another live object already holds
 * is not refused. It syncs without the colliding value (a userPrincipalName
 * becomes a placeholder on the tenant's initial domain), the value is recorded
 * as quarantined and reported, and it is given back automatically, at the end
 * of the next sync batch, once the other object has let it go.
 */
import { randomInt } from 'node:crypto';
import { quarantineErrorCodes, type SyncObjectResult } from '@skybridge/protocol';
import type { Queryable } from '../store/store.ts';
import type { TenantWrite } from '../directory/tenant-lock.ts';

export type Quarantined = NonNullable<SyncObjectResult['quarantined']>[number];
type QuarantinedAttribute = Quarantined['attribute'];

type Reason = NonNullable<Quarantined['reason']>;
interface QuarantineRow { object_id: string; attribute: QuarantinedAttribute; value_key: string; placeholder: string | null; reason: Reason }

/**
 * The holders of proxy addresses ($2: lower-cased keys), one index probe per
 * address. With `address = ANY(…)` of a batch's 1,500 addresses the planner
 * preferred reading the whole table (12 ms at 30,000 users on PGlite, and
 * growing with the directory); OFFSET 0 keeps the lateral subquery an index
 * probe per key (4 ms at 30,000 users).
 */
export const proxyHoldersSql = `SELECT k.address, p.object_id FROM unnest($2::text[]) AS k(address)
  CROSS JOIN LATERAL (SELECT object_id FROM object_proxy_addresses p WHERE p.tenant_id = $1 AND p.address = k.address OFFSET 0) p
  ORDER BY p.object_id`;

/**
 * What collision checks look up, per batch: the holders of UPNs and proxy
 * addresses (cached until a write of the batch touches them), the
 * quarantined values of the batch's objects, and the tenant's initial domain.
 */
export class CollisionLookups {
  readonly upnHolders = new Map<string, string | null>();
  readonly proxyHolders = new Map<string, string[]>();
  #rows = new Map<string, QuarantineRow[]>();
  #initialDomain: string | undefined;
  #verifiedDomains: Set<string> | undefined;

  async loadQuarantine(tx: Queryable, tenantId: string, objectIds: string[]): Promise<void> {
    if (!objectIds.length) return;
    const { rows } = await tx.query<QuarantineRow>(
      'SELECT object_id, attribute, value_key, placeholder, reason FROM quarantined_values WHERE tenant_id = $1 AND object_id = ANY($2::uuid[])',
      [tenantId, objectIds],
    );
    for (const r of rows) this.#rows.set(r.object_id, [...(this.#rows.get(r.object_id) ?? []), r]);
  }

  quarantineOf(objectId: string | null): QuarantineRow[] {
    return objectId ? (this.#rows.get(objectId) ?? []) : [];
  }

  setQuarantine(objectId: string, rows: QuarantineRow[]): void {
    this.#rows.set(objectId, rows);
  }

  async initialDomain(tx: Queryable, tenantId: string): Promise<string> {
    if (this.#initialDomain === undefined) {
      const { rows } = await tx.query<{ initial_domain: string }>('SELECT initial_domain FROM tenants WHERE id = $1', [tenantId]);
      this.#initialDomain = rows[0]!.initial_domain;
    }
    return this.#initialDomain;
  }

  /** The tenant's verified domains, read once per batch. */
  async verifiedDomains(tx: Queryable, tenantId: string): Promise<Set<string>> {
    if (!this.#verifiedDomains) {
      const { rows } = await tx.query<{ name: string }>('SELECT lower(name) AS name FROM domains WHERE tenant_id = $1 AND verified', [tenantId]);
      this.#verifiedDomains = new Set(rows.map((r) => r.name));
    }
    return this.#verifiedDomains;
  }

  /** Whether a UPN's domain is verified; undefined until verifiedDomains was read. */
  upnDomainVerified(upn: string): boolean | undefined {
    return this.#verifiedDomains?.has(upn.slice(upn.lastIndexOf('@') + 1).toLowerCase());
  }

  /** The live objects other than `self` holding these proxy addresses (lower-cased keys), read once per key. */
  async proxyHoldersOf(tx: Queryable, tenantId: string, keys: string[], self: string | null): Promise<Map<string, string>> {
    const missing = [...new Set(keys.filter((k) => !this.proxyHolders.has(k)))];
    if (missing.length) {
      const { rows } = await tx.query<{ address: string; object_id: string }>(proxyHoldersSql, [tenantId, missing]);
      for (const k of missing) this.proxyHolders.set(k, []);
      for (const r of rows) this.proxyHolders.get(r.address)!.push(r.object_id);
    }
    const out = new Map<string, string>();
    for (const k of keys) {
      const other = this.proxyHolders.get(k)!.find((id) => id !== self);
      if (other) out.set(k, other);
    }
    return out;
  }

  /** A write changed these objects' proxy addresses: read their holders again. */
  forgetProxies(...lists: unknown[]): void {
    for (const list of lists) for (const a of proxyList(list)) this.proxyHolders.delete(a.toLowerCase());
  }
}

export const proxyList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * Takes out of `attributes` every value the object cannot have now: a
 * userPrincipalName another live object holds, or on a domain the tenant has
 * not verified (replaced by a placeholder on the initial domain: the same one
 * as last time while it lasts), and proxy addresses other objects hold.
 * `upnHolder` is the object holding the wanted UPN, if another one does.
 */
export async function holdBackCollisions(
  w: TenantWrite, lookups: CollisionLookups, self: string | null, attributes: Record<string, unknown>, upnHolder: string | null,
): Promise<{ attributes: Record<string, unknown>; held: Quarantined[] }> {
  const held: Quarantined[] = [];
  let out = attributes;
  const upn = typeof attributes.userPrincipalName === 'string' ? attributes.userPrincipalName : null;
  const unverified = upn !== null && !(await lookups.verifiedDomains(w.tx, w.tenantId)).has(upn.slice(upn.lastIndexOf('@') + 1).toLowerCase());
  if (upn && (upnHolder || unverified)) {
    const previous = lookups.quarantineOf(self).find((r) => r.attribute === 'userPrincipalName' && r.value_key === upn.toLowerCase());
    const placeholder = previous?.placeholder ?? (await freePlaceholder(w, lookups, upn, unverified));
    out = { ...out, userPrincipalName: placeholder };
    held.push(unverified
      ? { attribute: 'userPrincipalName', value: upn, placeholder, reason: 'unverified_domain' }
      : { attribute: 'userPrincipalName', value: upn, placeholder, reason: 'collision', heldBy: upnHolder! });
  }
  const proxies = proxyList(attributes.proxyAddresses);
  if (proxies.length) {
    const holders = await lookups.proxyHoldersOf(w.tx, w.tenantId, [...new Set(proxies.map((p) => p.toLowerCase()))], self);
    if (holders.size) {
      out = { ...out, proxyAddresses: proxies.filter((p) => !holders.has(p.toLowerCase())) };
      for (const p of proxies) if (holders.has(p.toLowerCase())) held.push({ attribute: 'proxyAddresses', value: p, reason: 'collision', heldBy: holders.get(p.toLowerCase())! });
    }
  }
  return { attributes: out, held };
}

/**
 * A placeholder on the initial domain nobody holds: `alice@contoso.skybridge.test`
 * for a domain that is not verified (as Microsoft 365 does), when free;
 * otherwise the local part and four digits, `alice1234@…`.
 */
async function freePlaceholder(w: TenantWrite, lookups: CollisionLookups, upn: string, sameLocalPartFirst: boolean): Promise<string> {
  const domain = await lookups.initialDomain(w.tx, w.tenantId);
  const local = upn.slice(0, upn.lastIndexOf('@')).slice(0, 59);
  for (let attempt = sameLocalPartFirst ? -1 : 0; attempt < 20; attempt++) {
    const candidate = attempt < 0 ? `${local}@${domain}` : `${local}${String(randomInt(10_000)).padStart(4, '0')}@${domain}`;
    const { rowCount } = await w.tx.query('SELECT 1 FROM directory_objects WHERE tenant_id = $1 AND lower(upn) = lower($2)', [w.tenantId, candidate]);
    if (rowCount === 0) return candidate;
  }
  throw new Error(`no free placeholder userPrincipalName for ${upn} after 20 attempts`);
}

/** Records what `objectId` has quarantined now, and forgets what it no longer has. One statement when nothing changed. */
export async function recordQuarantine(w: TenantWrite, lookups: CollisionLookups, objectId: string, held: Quarantined[]): Promise<void> {
  const before = lookups.quarantineOf(objectId);
  const rows: QuarantineRow[] = held.map((h) => ({ object_id: objectId, attribute: h.attribute, value_key: h.value.toLowerCase(), placeholder: h.placeholder ?? null, reason: h.reason ?? 'collision' }));
  const key = (r: { attribute: string; value_key: string; reason: string }) => `${r.attribute}\u0000${r.value_key}\u0000${r.reason}`;
  const now = new Set(rows.map(key));
  const gone = before.filter((r) => !now.has(key(r)));
  if (gone.length) {
    await w.tx.query(
      `DELETE FROM quarantined_values WHERE object_id = $1 AND (attribute, value_key) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
      [objectId, gone.map((r) => r.attribute), gone.map((r) => r.value_key)],
    );
  }
  const known = new Set(before.map(key));
  const fresh = rows.filter((r) => !known.has(key(r)));
  if (fresh.length) {
    await w.tx.query(
      `INSERT INTO quarantined_values (tenant_id, object_id, attribute, value, value_key, placeholder, held_by, reason)
       SELECT $1, $2, t.attribute, t.value, lower(t.value), t.placeholder, t.held_by::uuid, t.reason
         FROM jsonb_to_recordset($3::jsonb) AS t(attribute text, value text, placeholder text, held_by text, reason text)
       ON CONFLICT (object_id, attribute, value_key) DO UPDATE SET held_by = excluded.held_by, reason = excluded.reason`,
      [w.tenantId, objectId, JSON.stringify(fresh.map((r) => {
        const h = held.find((x) => x.attribute === r.attribute && x.value.toLowerCase() === r.value_key)!;
        return { attribute: h.attribute, value: h.value, placeholder: h.placeholder ?? null, held_by: h.heldBy ?? null, reason: r.reason };
      }))],
    );
  }
  if (gone.length || fresh.length) lookups.setQuarantine(objectId, rows);
}

export interface Released { objectId: string; immutableId: string | null; attribute: QuarantinedAttribute; value: string }

/**
 * Gives quarantined values back to their objects once nobody else holds them,
 * oldest quarantine first (when two objects wait for one value, the first
 * gets it and the other keeps waiting). One query when there is nothing to
 * give back.
 */
export async function releaseFreedValues(w: TenantWrite): Promise<Released[]> {
  const free = `CASE WHEN q.attribute = 'userPrincipalName'
      THEN NOT EXISTS (SELECT 1 FROM directory_objects d WHERE d.tenant_id = q.tenant_id AND lower(d.upn) = q.value_key AND d.id <> q.object_id)
       AND EXISTS (SELECT 1 FROM domains dm WHERE dm.tenant_id = q.tenant_id AND dm.verified AND lower(dm.name) = substring(q.value_key from '@([^@]*)$'))
      ELSE NOT EXISTS (SELECT 1 FROM object_proxy_addresses p WHERE p.tenant_id = q.tenant_id AND p.address = q.value_key AND p.object_id <> q.object_id) END`;
  const { rows } = await w.tx.query<{ object_id: string; attribute: QuarantinedAttribute; value: string; value_key: string }>(
    `SELECT q.object_id, q.attribute, q.value, q.value_key FROM quarantined_values q
      WHERE q.tenant_id = $1 AND ${free} ORDER BY q.since, q.object_id, q.value_key`,
    [w.tenantId],
  );
  const released: Released[] = [];
  for (const r of rows) {
    // an earlier release of this loop may have handed the value to another waiting object
    const still = await w.tx.query(`SELECT 1 FROM quarantined_values q WHERE q.object_id = $1 AND q.attribute = $2 AND q.value_key = $3 AND ${free}`, [r.object_id, r.attribute, r.value_key]);
    if (still.rowCount === 0) continue;
    const { rows: updated } = await w.tx.query<{ immutable_id: string | null }>(
      r.attribute === 'userPrincipalName'
        ? `UPDATE directory_objects SET upn = $2, attributes = jsonb_set(attributes, '{userPrincipalName}', to_jsonb($2::text)),
                  change_seq = $3, version = version + 1, updated_at = now()
            WHERE id = $1 AND deleted_at IS NULL RETURNING immutable_id`
        : `UPDATE directory_objects SET attributes = jsonb_set(attributes, '{proxyAddresses}',
                  CASE WHEN jsonb_typeof(attributes->'proxyAddresses') = 'array' THEN attributes->'proxyAddresses' ELSE '[]'::jsonb END || to_jsonb($2::text)),
                  change_seq = $3, version = version + 1, updated_at = now()
            WHERE id = $1 AND deleted_at IS NULL RETURNING immutable_id`,
      [r.object_id, r.value, w.nextSeq()],
    );
    await w.tx.query('DELETE FROM quarantined_values WHERE object_id = $1 AND attribute = $2 AND value_key = $3', [r.object_id, r.attribute, r.value_key]);
    if (updated[0]) released.push({ objectId: r.object_id, immutableId: updated[0].immutable_id, attribute: r.attribute, value: r.value });
  }
  if (released.length) {
    // the tenant's sync error list shows a quarantine only while the object still has one
    await w.tx.query(
      `DELETE FROM sync_errors e WHERE e.tenant_id = $1 AND e.code = ANY($3::text[]) AND e.immutable_id = ANY($2::text[])
          AND NOT EXISTS (SELECT 1 FROM quarantined_values q JOIN directory_objects o ON o.id = q.object_id WHERE o.tenant_id = $1 AND o.immutable_id = e.immutable_id)`,
      [w.tenantId, released.flatMap((r) => (r.immutableId ? [r.immutableId] : [])), [...quarantineErrorCodes]],
    );
  }
  return released;
}
