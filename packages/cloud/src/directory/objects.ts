import type { ObjectType } from '@skybridge/protocol';
import type { Queryable } from '../store/store.ts';
import { notFound } from '../http/problem.ts';

/** A directory object row as stored. */
export interface ObjectRow {
  id: string;
  tenant_id: string;
  object_type: ObjectType;
  immutable_id: string | null;
  display_name: string | null;
  upn: string | null;
  mail: string | null;
  attributes: Record<string, unknown>;
  source: 'cloud' | 'onprem';
  on_prem_dn: string | null;
  on_prem_sid: string | null;
  last_sync_at: Date | string | null;
  usage_location: string | null;
  account_enabled: boolean;
  version: number;
  change_seq: number | string;
  created_at: Date | string;
  updated_at: Date | string;
  deleted_at: Date | string | null;
}

export const objectColumns =
  'id, tenant_id, object_type, immutable_id, display_name, upn, mail, attributes, source, on_prem_dn, on_prem_sid, last_sync_at, usage_location, account_enabled, version, change_seq, created_at, updated_at, deleted_at';

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

/** The admin API's view of an object: its attributes plus the fields the cloud owns. */
export function presentObject(row: ObjectRow): Record<string, unknown> {
  const synced = row.source === 'onprem';
  return {
    id: row.id,
    type: row.object_type,
    ...row.attributes,
    ...(row.object_type === 'user' ? { accountEnabled: row.account_enabled, usageLocation: row.usage_location } : {}),
    onPremisesSyncEnabled: synced,
    onPremisesImmutableId: row.immutable_id,
    onPremisesLastSyncDateTime: iso(row.last_sync_at),
    version: row.version,
    createdDateTime: iso(row.created_at),
    updatedDateTime: iso(row.updated_at),
  };
}

/** The searchable columns derived from an object's attributes. */
export function derivedColumns(type: ObjectType, attributes: Record<string, unknown>) {
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    displayName: str(attributes.displayName),
    upn: type === 'user' ? str(attributes.userPrincipalName) : null,
    mail: str(attributes.mail),
    dn: str(attributes.onPremisesDistinguishedName),
    sid: str(attributes.onPremisesSecurityIdentifier),
    accountEnabled: typeof attributes.accountEnabled === 'boolean' ? attributes.accountEnabled : true,
  };
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (v: string): boolean => uuidPattern.test(v);

/**
 * One live object of a tenant, by id. An id of another tenant, a deleted
 * object and a malformed id all read as "not found": nothing tells a caller
 * that an object exists in a tenant it cannot see.
 */
export async function getObject(q: Queryable, tenantId: string, type: ObjectType, id: string, lock = false): Promise<ObjectRow> {
  if (isUuid(id)) {
    const { rows } = await q.query<ObjectRow>(
      `SELECT ${objectColumns} FROM directory_objects
        WHERE tenant_id = $1 AND id = $2 AND object_type = $3 AND deleted_at IS NULL${lock ? ' FOR UPDATE' : ''}`,
      [tenantId, id.toLowerCase(), type],
    );
    if (rows[0]) return rows[0];
  }
  throw notFound(`the ${type} ${id}`);
}

/** A JSON value with object keys sorted: jsonb returns keys in its own order, so only content counts. */
export function canonicalJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonicalJson);
  if (v && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonicalJson((v as Record<string, unknown>)[k])]));
  return v;
}

/** Equality of JSON values whatever the order of their keys. */
export const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(canonicalJson(a)) === JSON.stringify(canonicalJson(b));

/** Shallow equality of two attribute sets (values are JSON: strings, booleans, arrays of strings). */
export function sameAttributes(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => k in b && sameJson(a[k], b[k]));
}
