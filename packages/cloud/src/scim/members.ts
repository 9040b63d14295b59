/**
 * A group's members through SCIM, in the database: adding or removing a
 * member writes its link only (O(1) whatever the group's size), reading pages
 * through the membership index, and `members[filter]` removals select the
 * matching links in SQL. A group's members are never loaded whole.
 */
import type { Queryable } from '../store/store.ts';
import type { TenantWrite } from '../directory/tenant-lock.ts';
import { addMembers, removeAllMembers, removeMembers } from '../directory/memberships.ts';
import { decodeCursor, encodeCursor } from '../directory/pagination.ts';
import { isUuid } from '../directory/objects.ts';
import { ScimError } from './errors.ts';
import { linkPredicate, SqlParams } from './filter/to-sql.ts';
import type { Filter } from './filter/parse.ts';
import type { GroupMember } from './resources.ts';
import { isObject, type Json } from './normalize.ts';

/** Members returned with a group when the request does not say: a page, never the whole group. */
export const defaultMembersPerGroup = 1000;
export const defaultMembersPerListedGroup = 100;
export const maxMembersPerRequest = 10_000;

export async function memberPage(q: Queryable, tenantId: string, groupId: string, limit: number, cursor: string | null): Promise<{ page: GroupMember[]; nextCursor: string | null }> {
  const after = decodeCursor(cursor, (v): v is { m: string } => typeof v.m === 'string' && isUuid(v.m));
  const { rows } = await q.query<{ id: string; object_type: string; display_name: string | null }>(
    `SELECT x.id, x.object_type, x.display_name
       FROM memberships m JOIN directory_objects x ON x.id = m.member_id
      WHERE m.group_id = $1 AND m.tenant_id = $2 AND NOT m.removed AND m.member_id > $3::uuid
      ORDER BY m.member_id LIMIT $4`,
    [groupId, tenantId, after?.m ?? '00000000-0000-0000-0000-000000000000', limit + 1],
  );
  const page = rows.slice(0, limit).map((r) => ({ id: r.id, objectType: r.object_type, displayName: r.display_name }));
  return { page, nextCursor: rows.length > limit ? encodeCursor({ m: page.at(-1)!.id }) : null };
}

/** The member ids a PATCH or POST names (`[{ value: id }, …]`), checked to be live objects of the tenant. */
export async function resolveMemberValues(w: TenantWrite, groupId: string, value: Json | undefined, where: string): Promise<string[]> {
  const list = value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
  if (list.length > maxMembersPerRequest) throw new ScimError(400, 'tooMany', `${where} names ${list.length} members; one operation takes at most ${maxMembersPerRequest}: split it into several`);
  const ids: string[] = [];
  for (const [i, v] of list.entries()) {
    const id = isObject(v) ? v.value : v;
    if (typeof id !== 'string' || !isUuid(id)) throw new ScimError(400, 'invalidValue', `${where}[${i}].value must be the id of a user, group or contact of this tenant (got ${JSON.stringify(id ?? null)})`);
    ids.push(id.toLowerCase());
  }
  const unique = [...new Set(ids)];
  if (unique.includes(groupId)) throw new ScimError(400, 'invalidValue', `${where}: a group cannot be a member of itself`);
  if (unique.length === 0) return [];
  const { rows } = await w.tx.query<{ id: string }>(
    'SELECT id FROM directory_objects WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND deleted_at IS NULL',
    [w.tenantId, unique],
  );
  const found = new Set(rows.map((r) => r.id));
  const missing = unique.filter((id) => !found.has(id));
  if (missing.length) throw new ScimError(400, 'invalidValue', `${where}: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''} ${missing.length > 1 ? 'are' : 'is'} not a user, group or contact of this tenant`);
  return unique;
}

/** `value eq "a" or value eq "b"`: the ids, without a query; null when the filter says more than that. */
function idsOfEqualities(f: Filter): string[] | null {
  if (f.op === 'or') {
    const l = idsOfEqualities(f.left);
    const r = idsOfEqualities(f.right);
    return l && r ? [...l, ...r] : null;
  }
  if (f.op === 'eq' && (f.path.sub ?? f.path.attr).toLowerCase() === 'value' && typeof f.value === 'string') return isUuid(f.value) ? [f.value.toLowerCase()] : [];
  return null;
}

export interface MemberChange {
  added: number;
  removed: number;
}

export async function addGroupMembers(w: TenantWrite, groupId: string, value: Json | undefined, where: string): Promise<number> {
  return addMembers(w, groupId, await resolveMemberValues(w, groupId, value, where));
}

export async function replaceGroupMembers(w: TenantWrite, groupId: string, value: Json | undefined, where: string): Promise<MemberChange> {
  const ids = await resolveMemberValues(w, groupId, value, where);
  // Only the difference is written: members that stay keep their links.
  const { rows } = await w.tx.query<{ member_id: string }>(
    `SELECT member_id FROM memberships WHERE tenant_id = $1 AND group_id = $2 AND NOT removed AND NOT (member_id = ANY($3::uuid[]))`,
    [w.tenantId, groupId, ids],
  );
  const removed = await removeMembers(w, groupId, rows.map((r) => r.member_id));
  const added = await addMembers(w, groupId, ids);
  return { added, removed };
}

/** remove members (all), members[filter], or the values given (as some clients send). */
export async function removeGroupMembers(w: TenantWrite, groupId: string, filter: Filter | undefined, value: Json | undefined, where: string): Promise<number> {
  if (!filter && value === undefined) return removeAllMembers(w, groupId);
  if (!filter) {
    const list = Array.isArray(value) ? value : [value ?? null];
    const ids = list.map((v) => (isObject(v) ? v.value : v)).filter((v): v is string => typeof v === 'string' && isUuid(v)).map((v) => v.toLowerCase());
    return removeMembers(w, groupId, ids);
  }
  const direct = idsOfEqualities(filter);
  if (direct) return removeMembers(w, groupId, direct);
  const p = new SqlParams([w.tenantId, groupId]);
  const condition = linkPredicate('members', filter, p, where);
  const { rows } = await w.tx.query<{ member_id: string }>(
    `SELECT m.member_id FROM memberships m JOIN directory_objects x ON x.id = m.member_id
      WHERE m.tenant_id = $1 AND m.group_id = $2 AND NOT m.removed AND ${condition}`,
    p.values as never,
  );
  return removeMembers(w, groupId, rows.map((r) => r.member_id));
}
