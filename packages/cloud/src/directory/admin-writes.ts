import { randomUUID } from 'node:crypto';
import type { ObjectType, Quotas } from '@skybridge/protocol';
import type { Store } from '../store/store.ts';
import { TenantWrite } from './tenant-lock.ts';
import { validateObject } from './validate-object.ts';
import { derivedColumns, getObject, objectColumns, presentObject, sameJson, type ObjectRow } from './objects.ts';
import type { Actor } from '../audit/audit-log.ts';
import { dropUserRoles, ensureAnotherGlobalAdministrator } from '../roles/role-assignments.ts';
import { removeAllLinks } from './memberships.ts';
import { SkybridgeError } from '../http/problem.ts';

/** Fields that are columns of their own rather than attributes. */
export interface CloudFields {
  usageLocation?: string | null | undefined;
  /** the immutable id (SCIM externalId) of a cloud object */
  immutableId?: string | null | undefined;
  /** a hash from hashPassword, never a password */
  passwordHash?: string | null | undefined;
}

function invalid(type: ObjectType, error: { category: string; message: string; attribute?: string | undefined }): SkybridgeError {
  const code = error.category === 'quota' ? 'quota_exceeded' : 'invalid_request';
  return new SkybridgeError(code, `the ${type} is invalid: ${error.message}`, {
    ...(error.attribute ? { errors: [{ pointer: `/${error.attribute}`, message: error.message }] } : {}),
  });
}

export async function checkUpnDomain(w: TenantWrite, upn: string | null, selfId: string | null): Promise<void> {
  if (!upn) return;
  const domain = upn.slice(upn.lastIndexOf('@') + 1).toLowerCase();
  const { rows } = await w.tx.query('SELECT 1 FROM domains WHERE tenant_id = $1 AND lower(name) = $2 AND verified', [w.tenantId, domain]);
  if (rows.length === 0) {
    throw new SkybridgeError('invalid_request', `the domain ${domain} of userPrincipalName ${upn} is not a verified domain of this tenant: add and verify it first, or use the initial domain`, {
      errors: [{ pointer: '/userPrincipalName', message: 'domain not verified in this tenant' }],
    });
  }
  const { rows: taken } = await w.tx.query<{ id: string }>(
    'SELECT id FROM directory_objects WHERE tenant_id = $1 AND lower(upn) = lower($2) AND upn IS NOT NULL AND id IS DISTINCT FROM $3::uuid',
    [w.tenantId, upn, selfId],
  );
  if (taken[0]) {
    throw new SkybridgeError('already_exists', `userPrincipalName ${upn} is already used by object ${taken[0].id}: choose another`, {
      errors: [{ pointer: '/userPrincipalName', message: 'already used' }],
    });
  }
}

async function checkImmutableId(w: TenantWrite, immutableId: string | null | undefined, selfId: string | null): Promise<void> {
  if (!immutableId) return;
  const { rows } = await w.tx.query<{ id: string }>(
    'SELECT id FROM directory_objects WHERE tenant_id = $1 AND immutable_id = $2 AND id IS DISTINCT FROM $3::uuid',
    [w.tenantId, immutableId, selfId],
  );
  if (rows[0]) {
    throw new SkybridgeError('already_exists', `the immutable id (externalId) ${immutableId} is already used by object ${rows[0].id}: choose another`, {
      errors: [{ pointer: '/externalId', message: 'already used' }],
    });
  }
}

/** Inserts a cloud-managed object inside the caller's tenant write. */
export async function insertCloudObject(w: TenantWrite, type: ObjectType, attributes: Record<string, unknown>, fields: CloudFields): Promise<ObjectRow> {
  const checked = validateObject(type, attributes, w.quotas);
  if (!checked.ok) throw invalid(type, checked.error);
  const cols = derivedColumns(type, checked.attributes);
  if (w.objectCount >= w.quotas.maxObjects) {
    throw new SkybridgeError('quota_exceeded', `the tenant holds ${w.objectCount} objects, its quota (maxObjects): delete objects or ask the operator to raise it`);
  }
  await checkUpnDomain(w, cols.upn, null);
  await checkImmutableId(w, fields.immutableId, null);
  const { rows } = await w.tx.query<ObjectRow>(
    `INSERT INTO directory_objects (id, tenant_id, object_type, display_name, upn, mail, attributes, source, usage_location, account_enabled, immutable_id, password_hash, change_seq)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'cloud', $8, $9, $10, $11, $12) RETURNING ${objectColumns}`,
    [randomUUID(), w.tenantId, type, cols.displayName, cols.upn, cols.mail, checked.attributes, fields.usageLocation ?? null, cols.accountEnabled,
      fields.immutableId ?? null, fields.passwordHash ?? null, w.nextSeq()],
  );
  w.adjustObjectCount(1);
  const row = rows[0]!;
  await w.audit({ action: `${type}.create`, target: targetOf(row), after: presentObject(row) });
  return row;
}

const targetOf = (row: ObjectRow) => ({ type: row.object_type, id: row.id, name: row.upn ?? row.display_name });

/**
 * Gives a locked object a new attribute set (and cloud fields) inside the
 * caller's tenant write. An object synced from on-premises takes only
 * cloud-owned fields: its attributes belong to Active Directory.
 */
export async function rewriteObject(w: TenantWrite, row: ObjectRow, attributes: Record<string, unknown>, fields: CloudFields): Promise<ObjectRow> {
  const type = row.object_type;
  const changedNames = [...new Set([...Object.keys(attributes), ...Object.keys(row.attributes)])]
    .filter((k) => !sameJson(attributes[k], row.attributes[k]));
  if (row.source === 'onprem' && (changedNames.length > 0 || 'immutableId' in fields || 'passwordHash' in fields)) {
    const names = [...changedNames, ...('immutableId' in fields ? ['externalId'] : []), ...('passwordHash' in fields ? ['password'] : [])];
    throw new SkybridgeError('read_only_synced_object', `the ${type} ${row.id} is synchronized from on-premises Active Directory, so ${names.join(', ')} can only be changed there; in the cloud only usageLocation can be changed`, {
      extensions: { readOnlyFields: names },
    });
  }
  let next = row.attributes;
  if (changedNames.length > 0) {
    const checked = validateObject(type, attributes, w.quotas);
    if (!checked.ok) throw invalid(type, checked.error);
    next = checked.attributes;
  }
  const cols = derivedColumns(type, next);
  if (type === 'user' && row.account_enabled && row.source === 'cloud' && !cols.accountEnabled) {
    const { rows: ga } = await w.tx.query(`SELECT 1 FROM role_assignments WHERE tenant_id = $1 AND role = 'GlobalAdministrator' AND principal_type = 'user' AND principal_id = $2`, [w.tenantId, row.id]);
    if (ga.length) await ensureAnotherGlobalAdministrator(w.tx, w.tenantId, row.id);
  }
  if (cols.upn && cols.upn !== row.upn) await checkUpnDomain(w, cols.upn, row.id);
  if ('immutableId' in fields && fields.immutableId !== row.immutable_id) await checkImmutableId(w, fields.immutableId, row.id);
  const { rows } = await w.tx.query<ObjectRow>(
    `UPDATE directory_objects
        SET attributes = $2, display_name = $3, upn = $4, mail = $5, account_enabled = $6,
            usage_location = CASE WHEN $7::boolean THEN $8 ELSE usage_location END,
            immutable_id = CASE WHEN $9::boolean THEN $10 ELSE immutable_id END,
            password_hash = CASE WHEN $11::boolean THEN $12 ELSE password_hash END,
            change_seq = $13, version = version + 1, updated_at = now()
      WHERE id = $1 RETURNING ${objectColumns}`,
    [row.id, next, cols.displayName, cols.upn, cols.mail, row.source === 'onprem' ? row.account_enabled : cols.accountEnabled,
      'usageLocation' in fields, fields.usageLocation ?? null, 'immutableId' in fields, fields.immutableId ?? null,
      'passwordHash' in fields, fields.passwordHash ?? null, w.nextSeq()],
  );
  const updated = rows[0]!;
  await w.audit({ action: `${type}.update`, target: targetOf(updated), before: presentObject(row), after: { ...presentObject(updated), ...('passwordHash' in fields ? { passwordChanged: true } : {}) } });
  return updated;
}

/** Deletes a locked cloud-managed object (a tombstone stays for the change feed). */
export async function removeCloudObject(w: TenantWrite, row: ObjectRow): Promise<void> {
  if (row.source === 'onprem') {
    throw new SkybridgeError('read_only_synced_object', `the ${row.object_type} ${row.id} is synchronized from on-premises Active Directory: delete it there, or move it out of the sync scope`);
  }
  if (row.object_type === 'user') await dropUserRoles(w.tx, w.tenantId, row.id);
  await removeAllLinks(w, row.id);
  await w.audit({ action: `${row.object_type}.delete`, target: targetOf(row), before: presentObject(row) });
  await w.tx.query('UPDATE directory_objects SET deleted_at = now(), upn = NULL, immutable_id = NULL, change_seq = $2, version = version + 1, updated_at = now() WHERE id = $1', [row.id, w.nextSeq()]);
  w.adjustObjectCount(-1);
}

/** Creates a cloud-managed object. */
export async function createCloudObject(
  store: Store, tenantId: string, quotas: Quotas, actor: Actor, type: ObjectType, attributes: Record<string, unknown>, fields: CloudFields,
): Promise<ObjectRow> {
  return store.transaction(async (tx) => {
    const w = await TenantWrite.begin(tx, tenantId, quotas, actor);
    const row = await insertCloudObject(w, type, attributes, fields);
    await w.finish();
    return row;
  });
}

/**
 * Changes an object. Attributes given as null are removed. An object synced
 * from on-premises takes only cloud-owned fields.
 */
export async function updateObject(
  store: Store, tenantId: string, quotas: Quotas, actor: Actor, type: ObjectType, id: string,
  changes: Record<string, unknown>, fields: CloudFields,
): Promise<ObjectRow> {
  return store.transaction(async (tx) => {
    const w = await TenantWrite.begin(tx, tenantId, quotas, actor);
    const row = await getObject(tx, tenantId, type, id, true);
    const attributes = { ...row.attributes };
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete attributes[k];
      else attributes[k] = v;
    }
    const updated = await rewriteObject(w, row, attributes, fields);
    await w.finish();
    return updated;
  });
}

/** Deletes a cloud-managed object (a tombstone stays for the change feed). */
export async function deleteCloudObject(store: Store, tenantId: string, quotas: Quotas, actor: Actor, type: ObjectType, id: string): Promise<void> {
  await store.transaction(async (tx) => {
    const w = await TenantWrite.begin(tx, tenantId, quotas, actor);
    const row = await getObject(tx, tenantId, type, id, true);
    await removeCloudObject(w, row);
    await w.finish();
  });
}
