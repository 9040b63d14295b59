import type { TenantWrite } from './tenant-lock.ts';

/**
 * Group membership changes. Each changed link gets its own change sequence
 * number, so that the change feed can carry membership deltas of any size.
 * Adding or removing n members costs O(n) row writes, whatever the group's
 * size: a group's members are never loaded to change one of them.
 */
export async function addMembers(w: TenantWrite, groupId: string, memberIds: readonly string[]): Promise<number> {
  if (memberIds.length === 0) return 0;
  const first = w.reserveSeq(memberIds.length);
  const { rowCount } = await w.tx.query(
    `INSERT INTO memberships (tenant_id, group_id, member_id, removed, change_seq)
     SELECT $1, $2, t.member_id, false, $3 + t.ord - 1
       FROM unnest($4::uuid[]) WITH ORDINALITY AS t(member_id, ord)
     ON CONFLICT (group_id, member_id) DO UPDATE SET removed = false, change_seq = EXCLUDED.change_seq
       WHERE memberships.removed`,
    [w.tenantId, groupId, first, memberIds],
  );
  return rowCount;
}

export async function removeMembers(w: TenantWrite, groupId: string, memberIds: readonly string[]): Promise<number> {
  if (memberIds.length === 0) return 0;
  const first = w.reserveSeq(memberIds.length);
  const { rowCount } = await w.tx.query(
    `UPDATE memberships m SET removed = true, change_seq = $3 + t.ord - 1
       FROM unnest($4::uuid[]) WITH ORDINALITY AS t(member_id, ord)
      WHERE m.group_id = $2 AND m.tenant_id = $1 AND m.member_id = t.member_id AND NOT m.removed`,
    [w.tenantId, groupId, first, memberIds],
  );
  return rowCount;
}

/**
 * Ends every live link matching `where` (over memberships, with $1 the
 * tenant and $2 the object), each with its own sequence number. O(links),
 * in two statements.
 */
async function removeLinksWhere(w: TenantWrite, where: string, objectId: string): Promise<number> {
  const { rows } = await w.tx.query<{ n: number | string }>(`SELECT count(*) AS n FROM memberships WHERE tenant_id = $1 AND ${where} AND NOT removed`, [w.tenantId, objectId]);
  const n = Number(rows[0]?.n ?? 0);
  if (n === 0) return 0;
  const first = w.reserveSeq(n);
  await w.tx.query(
    `UPDATE memberships m SET removed = true, change_seq = $3 + s.ord - 1
       FROM (SELECT group_id, member_id, row_number() OVER (ORDER BY group_id, member_id) AS ord
               FROM memberships WHERE tenant_id = $1 AND ${where} AND NOT removed) s
      WHERE m.group_id = s.group_id AND m.member_id = s.member_id`,
    [w.tenantId, objectId, first],
  );
  return n;
}

/** Ends every membership of a deleted object, as group and as member. */
export function removeAllLinks(w: TenantWrite, objectId: string): Promise<number> {
  return removeLinksWhere(w, '(group_id = $2 OR member_id = $2)', objectId);
}

/** Ends every membership of a group (its members, not its own memberships). */
export function removeAllMembers(w: TenantWrite, groupId: string): Promise<number> {
  return removeLinksWhere(w, 'group_id = $2', groupId);
}

/** Resolves member ids (of live objects of the tenant) and reports the ones that do not resolve. */
export async function resolveByImmutableId(w: TenantWrite, immutableIds: readonly string[]): Promise<{ ids: Map<string, string>; missing: string[] }> {
  const ids = new Map<string, string>();
  if (immutableIds.length > 0) {
    const { rows } = await w.tx.query<{ id: string; immutable_id: string }>(
      `SELECT id, immutable_id FROM directory_objects
        WHERE tenant_id = $1 AND immutable_id = ANY($2::text[]) AND deleted_at IS NULL`,
      [w.tenantId, immutableIds],
    );
    for (const r of rows) ids.set(r.immutable_id, r.id);
  }
  return { ids, missing: immutableIds.filter((i) => !ids.has(i)) };
}

