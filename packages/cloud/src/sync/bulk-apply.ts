/**
 * The fast path of a sync batch. Most operations of an initial sync or a
 * large delta are independent of everything else: a new object whose
 * immutable id, UPN (on a verified domain) and proxy addresses nobody holds and no other operation
 * of the batch names, with no soft-match candidate; or an update of a
 * synchronized object that keeps its UPN and proxies free. Those are written
 * with one multi-row INSERT and one multi-row UPDATE for the whole batch,
 * instead of a savepoint, a write and a release each.
 *
 * Every other operation (members, deletions, matches, collisions, tombstones,
 * quarantined objects, validation failures, anything named twice in the
 * batch) takes the ordinary per-object path afterwards, in batch order.
 * Running the independent operations first changes nothing they or the
 * others see: by construction no other operation of the batch touches their
 * immutable ids, UPNs or proxy addresses, and group members they create only
 * need to exist before the member operations that follow. If the bulk
 * statements fail anyway, they are rolled back and every operation takes the
 * ordinary path.
 */
import { randomUUID } from 'node:crypto';
import type { SyncObjectResult, SyncOperation } from '@skybridge/protocol';
import type { TenantWrite } from '../directory/tenant-lock.ts';
import { validateObject } from '../directory/validate-object.ts';
import { derivedColumns, sameAttributes } from '../directory/objects.ts';
import { softMatchKeys } from './matching.ts';
import { proxyList } from './quarantine.ts';
import type { BatchLookups } from './apply-operation.ts';

type Outcome = Omit<SyncObjectResult, 'index' | 'immutableId'>;

interface Row {
  index: number;
  id: string;
  type: string;
  immutable_id: string;
  attributes: Record<string, unknown>;
  display_name: string | null;
  upn: string | null;
  mail: string | null;
  dn: string | null;
  sid: string | null;
  account_enabled: boolean;
  seq: number;
}

/** Applies the batch's independent operations in bulk; returns their outcomes by operation index. */
export async function applyIndependent(w: TenantWrite, ops: readonly SyncOperation[], lookups: BatchLookups): Promise<Map<number, Outcome>> {
  const out = new Map<number, Outcome>();
  if (ops.length < 2) return out;
  // how often the batch names each immutable id, UPN and proxy address
  const named = new Map<string, number>();
  const count = (key: string) => named.set(key, (named.get(key) ?? 0) + 1);
  for (const op of ops) {
    count(`id:${op.immutableId}`);
    if (op.op !== 'upsert') continue;
    const upn = op.attributes.userPrincipalName;
    if (typeof upn === 'string') count(`upn:${upn.toLowerCase()}`);
    for (const p of proxyList(op.attributes.proxyAddresses)) count(`proxy:${p.toLowerCase()}`);
  }
  const once = (key: string) => named.get(key) === 1;
  const softKeys = new Set((lookups.candidates ?? []).flatMap((c) => [c.mail?.toLowerCase(), c.upn?.toLowerCase()].filter((x): x is string => !!x)));

  const creates: Row[] = [];
  const updates: Row[] = [];
  for (const [index, op] of ops.entries()) {
    if (op.op !== 'upsert' || op.members || !once(`id:${op.immutableId}`)) continue;
    const checked = validateObject(op.type, op.attributes, w.quotas);
    if (!checked.ok) continue;
    const attributes = checked.attributes;
    const cols = derivedColumns(op.type, attributes);
    const existing = lookups.objects.get(op.immutableId);
    if (existing === undefined) continue;
    if (existing && (existing.deleted_at !== null || existing.source !== 'onprem' || existing.object_type !== op.type || lookups.collisions.quarantineOf(existing.id).length)) continue;
    // the UPN: named once in the batch, and held by nobody else
    if (cols.upn) {
      if (!once(`upn:${cols.upn.toLowerCase()}`) || !lookups.collisions.upnDomainVerified(cols.upn)) continue;
      const holder = lookups.upnOwners.get(cols.upn.toLowerCase());
      if (holder === undefined || (holder && holder.id !== existing?.id)) continue;
    }
    // proxy addresses: each named once, held by nobody else
    const proxies = [...new Set(proxyList(attributes.proxyAddresses).map((p) => p.toLowerCase()))];
    if (proxies.some((p) => !once(`proxy:${p}`) || !lookups.collisions.proxyHolders.has(p) || lookups.collisions.proxyHolders.get(p)!.some((id) => id !== existing?.id))) continue;
    if (!existing) {
      const keys = softMatchKeys(op.type, attributes);
      if ((keys.smtp && softKeys.has(keys.smtp.toLowerCase())) || (keys.upn && softKeys.has(keys.upn.toLowerCase()))) continue;
    } else if (sameAttributes(existing.attributes, attributes)) {
      out.set(index, { status: 'unchanged', objectId: existing.id, version: existing.version });
      continue;
    }
    const row: Row = {
      index, id: existing?.id ?? randomUUID(), type: op.type, immutable_id: op.immutableId, attributes,
      display_name: cols.displayName, upn: cols.upn, mail: cols.mail, dn: cols.dn, sid: cols.sid, account_enabled: cols.accountEnabled, seq: 0,
    };
    (existing ? updates : creates).push(row);
  }
  // the object quota: creations past it take the ordinary path, which refuses them one by one
  if (w.objectCount + creates.length > w.quotas.maxObjects) creates.length = 0;
  if (!creates.length && !updates.length) return out;

  for (const r of [...creates, ...updates].sort((a, b) => a.index - b.index)) r.seq = w.nextSeq();
  const versions = new Map<string, number>();
  await w.tx.query('SAVEPOINT bulk');
  try {
    if (creates.length) {
      await w.tx.query(
        `INSERT INTO directory_objects (id, tenant_id, object_type, immutable_id, display_name, upn, mail, attributes, source,
                                        on_prem_dn, on_prem_sid, last_sync_at, account_enabled, change_seq)
         SELECT t.id, $1, t.type, t.immutable_id, t.display_name, t.upn, t.mail, t.attributes, 'onprem', t.dn, t.sid, now(), t.account_enabled, t.seq
           FROM jsonb_to_recordset($2::jsonb) AS t(id uuid, type text, immutable_id text, display_name text, upn text, mail text, attributes jsonb,
                                                    dn text, sid text, account_enabled boolean, seq bigint)`,
        [w.tenantId, JSON.stringify(creates)],
      );
    }
    if (updates.length) {
      const { rows } = await w.tx.query<{ id: string; version: number }>(
        `UPDATE directory_objects o
            SET attributes = t.attributes, display_name = t.display_name, upn = t.upn, mail = t.mail, on_prem_dn = t.dn, on_prem_sid = t.sid,
                account_enabled = t.account_enabled, change_seq = t.seq, version = o.version + 1, updated_at = now(), last_sync_at = now()
           FROM jsonb_to_recordset($2::jsonb) AS t(id uuid, display_name text, upn text, mail text, attributes jsonb, dn text, sid text, account_enabled boolean, seq bigint)
          WHERE o.tenant_id = $1 AND o.id = t.id
          RETURNING o.id, o.version`,
        [w.tenantId, JSON.stringify(updates)],
      );
      for (const r of rows) versions.set(r.id, r.version);
    }
    await w.tx.query('RELEASE SAVEPOINT bulk');
  } catch {
    // something the checks did not foresee: every operation takes the ordinary path, which reports it per object
    // (the sequence numbers taken stay unused: the change feed only needs them to grow)
    await w.tx.query('ROLLBACK TO SAVEPOINT bulk');
    return new Map();
  }
  w.adjustObjectCount(creates.length);
  for (const r of creates) out.set(r.index, { status: 'created', objectId: r.id, version: 1 });
  for (const r of updates) out.set(r.index, { status: 'updated', objectId: r.id, version: versions.get(r.id)! });
  // later operations of the batch read these objects, UPNs and addresses again
  for (const r of [...creates, ...updates]) {
    const before = lookups.objects.get(r.immutable_id);
    lookups.forget(r.immutable_id, before?.upn, r.upn);
    lookups.collisions.forgetProxies(before?.attributes.proxyAddresses, r.attributes.proxyAddresses);
  }
  return out;
}
