import { randomUUID } from 'node:crypto';
import { memberNotFoundError, type SyncObjectResult, type SyncOperation } from '@skybridge/protocol';
import type { TenantWrite } from '../directory/tenant-lock.ts';
import { validateObject, type ObjectError } from '../directory/validate-object.ts';
import { derivedColumns, objectColumns, sameAttributes, type ObjectRow } from '../directory/objects.ts';
import { addMembers, removeAllLinks, removeMembers, resolveByImmutableId } from '../directory/memberships.ts';
import { CollisionLookups, holdBackCollisions, proxyList, recordQuarantine } from './quarantine.ts';
import { findSoftMatch, matchSettings, softMatchCandidates, softMatchKeys, type Candidate, type MatchSettings } from './matching.ts';

type Outcome = Omit<SyncObjectResult, 'index' | 'immutableId'>;

class ObjectFailure extends Error {
  readonly error: ObjectError;
  constructor(error: ObjectError) {
    super(error.message);
    this.error = error;
  }
}

type UpnOwner = { id: string; immutable_id: string | null; source: string };

/**
 * The holders of a batch's UPNs ($2: lower-cased keys), one index probe per
 * key. With `lower(upn) = ANY(…)` the planner read the whole table at every
 * batch (15 ms at 30,000 users on PGlite, and growing with the directory):
 * it had no statistics for lower(upn) and guessed that 500 keys matched 92 %
 * of the rows (migration 015 gives it those statistics). OFFSET 0 keeps the
 * lateral subquery a probe per key, whatever the planner's cost model says.
 */
export const upnOwnersSql = `SELECT k.key, o.id, o.immutable_id, o.source FROM unnest($2::text[]) AS k(key)
  CROSS JOIN LATERAL (SELECT id, immutable_id, source FROM directory_objects
                       WHERE tenant_id = $1 AND lower(upn) = k.key AND upn IS NOT NULL OFFSET 0) o`;

/**
 * What a batch looks up for every object, read for the whole batch in two
 * queries instead of two per object. An entry is dropped when an operation
 * of the batch changes it, so a later operation on the same object reads it
 * again.
 */
export class BatchLookups {
  readonly objects = new Map<string, ObjectRow | null>();
  readonly upnOwners = new Map<string, UpnOwner | null>();
  #settings: MatchSettings | undefined;
  /** soft-match candidates for the batch's new objects, read in one query */
  candidates: Candidate[] | undefined;
  /** UPN and proxy address holders, and the batch's quarantined values */
  readonly collisions = new CollisionLookups();

  /** The tenant's matching switches, read once per batch. */
  async settings(w: TenantWrite): Promise<MatchSettings> {
    return (this.#settings ??= await matchSettings(w.tx, w.tenantId));
  }

  static async load(w: TenantWrite, ops: readonly SyncOperation[]): Promise<BatchLookups> {
    const lookups = new BatchLookups();
    const ids = [...new Set(ops.map((o) => o.immutableId))];
    const { rows } = await w.tx.query<ObjectRow>(
      `SELECT ${objectColumns} FROM directory_objects WHERE tenant_id = $1 AND immutable_id = ANY($2::text[]) ORDER BY id FOR UPDATE`,
      [w.tenantId, ids],
    );
    for (const id of ids) lookups.objects.set(id, null);
    for (const r of rows) lookups.objects.set(r.immutable_id!, r);
    await lookups.collisions.loadQuarantine(w.tx, w.tenantId, rows.map((r) => r.id));
    const proxies = new Set(ops.flatMap((o) => (o.op === 'upsert' ? proxyList(o.attributes.proxyAddresses).map((p) => p.toLowerCase()) : [])));
    if (proxies.size) await lookups.collisions.proxyHoldersOf(w.tx, w.tenantId, [...proxies], null);
    const upns = [...new Set(ops.flatMap((o) => (o.op === 'upsert' && o.type === 'user' && typeof o.attributes.userPrincipalName === 'string' ? [o.attributes.userPrincipalName.toLowerCase()] : [])))];
    if (upns.length > 0) {
      await lookups.collisions.verifiedDomains(w.tx, w.tenantId);
      const owners = await w.tx.query<UpnOwner & { key: string }>(upnOwnersSql, [w.tenantId, upns]);
      for (const u of upns) lookups.upnOwners.set(u, null);
      for (const o of owners.rows) lookups.upnOwners.set(o.key, { id: o.id, immutable_id: o.immutable_id, source: o.source });
    }
    // Soft-match candidates for the objects the cloud does not know by immutable id, in one query
    const mails: string[] = [];
    const matchUpns: string[] = [];
    for (const o of ops) {
      if (o.op !== 'upsert' || lookups.objects.get(o.immutableId)) continue;
      const keys = softMatchKeys(o.type, o.attributes);
      if (keys.smtp) mails.push(keys.smtp);
      if (keys.upn) matchUpns.push(keys.upn);
    }
    lookups.candidates = await softMatchCandidates(w.tx, w.tenantId, mails, matchUpns);
    return lookups;
  }

  forget(immutableId: string, ...upns: (string | null | undefined)[]): void {
    this.objects.delete(immutableId);
    for (const u of upns) if (u) this.upnOwners.delete(u.toLowerCase());
  }
}

/**
 * Applies one operation of a sync batch inside the batch's transaction. Each
 * operation runs under its own savepoint: a bad object is rolled back and
 * reported in its result, and never fails the objects around it.
 */
export async function applyOperation(w: TenantWrite, op: SyncOperation, lookups: BatchLookups = new BatchLookups(), options: { partialMembers?: boolean } = {}): Promise<Outcome> {
  await w.tx.query('SAVEPOINT op');
  try {
    const outcome = op.op === 'upsert' ? await upsert(w, op, lookups, options.partialMembers ?? false) : await remove(w, op, lookups);
    await w.tx.query('RELEASE SAVEPOINT op');
    return outcome;
  } catch (err) {
    await w.tx.query('ROLLBACK TO SAVEPOINT op');
    if (err instanceof ObjectFailure) return { status: 'error', error: err.error };
    const pgCode = (err as { code?: string }).code;
    if (pgCode === '23505') {
      return { status: 'error', error: { category: 'duplicate_attribute', code: 'duplicate_value', message: `a value of this object must be unique in the tenant and is already used: ${(err as Error).message}` } };
    }
    throw err;
  }
}

async function findByImmutableId(w: TenantWrite, immutableId: string, lookups: BatchLookups): Promise<ObjectRow | undefined> {
  const known = lookups.objects.get(immutableId);
  if (known !== undefined) return known ?? undefined;
  const { rows } = await w.tx.query<ObjectRow>(
    `SELECT ${objectColumns} FROM directory_objects WHERE tenant_id = $1 AND immutable_id = $2 FOR UPDATE`,
    [w.tenantId, immutableId],
  );
  return rows[0];
}

async function upsert(w: TenantWrite, op: Extract<SyncOperation, { op: 'upsert' }>, lookups: BatchLookups, partialMembers: boolean): Promise<Outcome> {
  const checked = validateObject(op.type, op.attributes, w.quotas);
  if (!checked.ok) throw new ObjectFailure(checked.error);
  let attributes = checked.attributes;
  let cols = derivedColumns(op.type, attributes);
  if (op.members && op.type !== 'group') {
    throw new ObjectFailure({ category: 'data_validation', code: 'members_on_non_group', message: `a ${op.type} has no members: send members only with groups` });
  }
  let existing = await findByImmutableId(w, op.immutableId, lookups);
  if (existing && existing.object_type !== op.type) {
    throw new ObjectFailure({ category: 'data_validation', code: 'type_mismatch', message: `the immutable id ${op.immutableId} already belongs to a ${existing.object_type}, not a ${op.type}: an object's type never changes; check the source anchor` });
  }
  let match: 'hard' | 'soft' | undefined;
  if (existing && existing.deleted_at === null && existing.source === 'cloud') {
    // hard match onto a cloud-managed object (sync was turned off, or it was created with this id)
    if ((await lookups.settings(w)).blockHardMatchTakeover) {
      throw new ObjectFailure({ category: 'other', code: 'hard_match_blocked', message: `the cloud ${op.type} ${existing.id} has the immutable id ${op.immutableId} but is managed in the cloud, and this tenant blocks hard-match takeover: turn blockHardMatchTakeover off to let synchronization take it over` });
    }
    match = 'hard';
  }
  if (!existing) {
    const soft = await findSoftMatch(w.tx, w.tenantId, op.type, attributes, await lookups.settings(w), lookups.candidates);
    if (soft.kind === 'refused') throw new ObjectFailure({ category: 'duplicate_attribute', code: soft.code, message: soft.message });
    if (soft.kind === 'match') {
      // lock it, and make sure it is still a candidate (no immutable id, cloud-managed)
      const { rowCount } = await w.tx.query(`UPDATE directory_objects SET immutable_id = $2 WHERE id = $1 AND immutable_id IS NULL AND source = 'cloud' AND deleted_at IS NULL`, [soft.row.id, op.immutableId]);
      if (rowCount !== 1) throw new ObjectFailure({ category: 'other', code: 'soft_match_changed', message: `the cloud ${op.type} ${soft.row.id} changed while it was being matched: sync again` });
      lookups.candidates = lookups.candidates?.filter((c) => c.id !== soft.row.id);
      existing = { ...soft.row, immutable_id: op.immutableId };
      match = 'soft';
    }
  }
  // duplicate attribute resiliency: values another object holds are held back, and the object still syncs
  const wantedUpn = cols.upn;
  const upnHolder = wantedUpn ? await upnHolderOf(w, wantedUpn, existing?.id ?? null, lookups) : null;
  const collisions = await holdBackCollisions(w, lookups.collisions, existing?.id ?? null, attributes, upnHolder);
  if (collisions.held.length) {
    attributes = collisions.attributes;
    cols = derivedColumns(op.type, attributes);
  }
  // from here on this operation changes the object, its UPN and its proxy addresses: later operations read them again
  lookups.forget(op.immutableId, existing?.upn, wantedUpn, cols.upn);
  lookups.collisions.forgetProxies(existing?.attributes.proxyAddresses, attributes.proxyAddresses);

  let objectId: string;
  let status: Outcome['status'];
  let version: number;
  if (!existing || existing.deleted_at !== null) {
    if (w.objectCount >= w.quotas.maxObjects) {
      throw new ObjectFailure({ category: 'quota', code: 'object_quota_exceeded', message: `the tenant holds ${w.objectCount} objects, its quota: delete objects or ask the operator to raise maxObjects` });
    }
    const seq = w.nextSeq();
    if (!existing) {
      objectId = randomUUID();
      await w.tx.query(
        `INSERT INTO directory_objects (id, tenant_id, object_type, immutable_id, display_name, upn, mail, attributes, source,
                                        on_prem_dn, on_prem_sid, last_sync_at, account_enabled, change_seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'onprem', $9, $10, now(), $11, $12)`,
        [objectId, w.tenantId, op.type, op.immutableId, cols.displayName, cols.upn, cols.mail, attributes, cols.dn, cols.sid, cols.accountEnabled, seq],
      );
      version = 1;
    } else {
      objectId = existing.id; // restore a tombstone: the same object comes back with its id
      version = await updateRow(w, objectId, attributes, cols, seq, true);
    }
    w.adjustObjectCount(1);
    status = 'created';
  } else {
    objectId = existing.id;
    const changed = !sameAttributes(existing.attributes, attributes) || existing.source !== 'onprem';
    status = 'unchanged';
    version = existing.version;
    if (changed) {
      version = await updateRow(w, objectId, attributes, cols, w.nextSeq(), false);
      status = 'updated';
    }
  }

  let missingMembers: string[] = [];
  if (op.members && (op.members.add?.length || op.members.remove?.length)) {
    const add = [...new Set(op.members.add ?? [])];
    const rem = [...new Set(op.members.remove ?? [])];
    if (op.members.add?.includes(op.immutableId)) {
      throw new ObjectFailure({ category: 'data_validation', code: 'self_membership', attribute: 'members', message: 'a group cannot be a member of itself' });
    }
    const { ids, missing } = await resolveByImmutableId(w, [...add, ...rem]);
    // members to add that the cloud does not hold: the others go in, and the result names these (one lost member
    // never holds back a group's other member changes); a removal of a member the cloud does not hold is done already
    const adding = new Set(add);
    missingMembers = missing.filter((m) => adding.has(m));
    if (missingMembers.length && !partialMembers) {
      // an agent that does not read missingMembers: the change is refused whole
      throw new ObjectFailure({ ...memberNotFoundError(missingMembers), message: `${missingMembers.length} member(s) to add are not in the cloud (first: ${missingMembers[0]}): sync the members before the group` });
    }
    const added = await addMembers(w, objectId, add.flatMap((i) => (ids.has(i) ? [ids.get(i)!] : [])));
    const removed = await removeMembers(w, objectId, rem.flatMap((i) => (ids.has(i) ? [ids.get(i)!] : [])));
    if ((added || removed) && status === 'unchanged') {
      const { rows } = await w.tx.query<{ version: number }>('UPDATE directory_objects SET version = version + 1, updated_at = now(), last_sync_at = now() WHERE id = $1 RETURNING version', [objectId]);
      version = rows[0]!.version;
      status = 'updated';
    }
  }
  await recordQuarantine(w, lookups.collisions, objectId, collisions.held);
  return {
    status, objectId, version, ...(match ? { match } : {}), ...(collisions.held.length ? { quarantined: collisions.held } : {}),
    ...(missingMembers.length ? { missingMembers } : {}),
  };
}

/** Writes an object's synchronized state; returns its new version. */
async function updateRow(w: TenantWrite, id: string, attributes: Record<string, unknown>, cols: ReturnType<typeof derivedColumns>, seq: number, restore: boolean): Promise<number> {
  const { rows } = await w.tx.query<{ version: number }>(
    `UPDATE directory_objects
        SET attributes = $2, display_name = $3, upn = $4, mail = $5, on_prem_dn = $6, on_prem_sid = $7,
            account_enabled = $8, change_seq = $9, source = 'onprem', version = version + 1,
            updated_at = now(), last_sync_at = now()${restore ? ', deleted_at = NULL' : ''}
      WHERE id = $1 RETURNING version`,
    [id, attributes, cols.displayName, cols.upn, cols.mail, cols.dn, cols.sid, cols.accountEnabled, seq],
  );
  return rows[0]!.version;
}

/** The other object holding this UPN, if any. */
async function upnHolderOf(w: TenantWrite, upn: string, selfId: string | null, lookups: BatchLookups): Promise<string | null> {
  const known = lookups.upnOwners.get(upn.toLowerCase());
  if (known !== undefined) return known && known.id !== selfId ? known.id : null;
  const { rows } = await w.tx.query<{ id: string }>(
    `SELECT id FROM directory_objects WHERE tenant_id = $1 AND lower(upn) = lower($2) AND upn IS NOT NULL AND id IS DISTINCT FROM $3::uuid`,
    [w.tenantId, upn, selfId],
  );
  return rows[0]?.id ?? null;
}

async function remove(w: TenantWrite, op: Extract<SyncOperation, { op: 'delete' }>, lookups: BatchLookups): Promise<Outcome> {
  const existing = await findByImmutableId(w, op.immutableId, lookups);
  lookups.forget(op.immutableId, existing?.upn);
  lookups.collisions.forgetProxies(existing?.attributes.proxyAddresses);
  if (!existing || existing.deleted_at !== null) return { status: 'unchanged', ...(existing ? { objectId: existing.id } : {}) };
  if (existing.object_type !== op.type) {
    throw new ObjectFailure({ category: 'data_validation', code: 'type_mismatch', message: `the immutable id ${op.immutableId} belongs to a ${existing.object_type}, not a ${op.type}` });
  }
  if (existing.source !== 'onprem') {
    throw new ObjectFailure({ category: 'other', code: 'cloud_managed_object', message: `the ${existing.object_type} ${existing.id} is managed in the cloud, not by directory synchronization: delete it in the admin center` });
  }
  await removeAllLinks(w, existing.id);
  await w.tx.query(
    `UPDATE directory_objects SET deleted_at = now(), upn = NULL, change_seq = $2, version = version + 1, updated_at = now(), last_sync_at = now() WHERE id = $1`,
    [existing.id, w.nextSeq()],
  );
  w.adjustObjectCount(-1);
  return { status: 'deleted', objectId: existing.id };
}
