import type { ChangesResponse } from '@skybridge/protocol';
import type { Store } from '../store/store.ts';
import { decodeCursor, encodeCursor } from '../directory/pagination.ts';

type Change = ChangesResponse['changes'][number];

/**
 * The cloud's view of the tenant's synced objects, in change order: objects
 * (tombstones included) and membership links, each at its latest state. One
 * sequence numbers both, and it is handed out under the tenant lock, so a
 * reader that has seen seq n has seen everything before it.
 */
export async function readChanges(store: Store, tenantId: string, rawCursor: string | null, limit: number, options: { objectsOnly?: boolean; withoutAttributes?: boolean } = {}): Promise<ChangesResponse> {
  const cursor = decodeCursor(rawCursor, (v): v is { s: number } => typeof v.s === 'number' && Number.isSafeInteger(v.s) && v.s >= 0);
  const after = cursor?.s ?? 0;
  // One snapshot for both reads: otherwise a change committed between them could be skipped by the cursor.
  const [objects, links] = await store.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const o = await tx.query<{ change_seq: string | number; object_type: 'user' | 'group' | 'contact'; id: string; immutable_id: string | null; deleted: boolean; version: number; attributes: Record<string, unknown> }>(
      `SELECT change_seq, object_type, id, immutable_id, deleted_at IS NOT NULL AS deleted, version, ${options.withoutAttributes ? 'NULL::jsonb AS attributes' : 'attributes'}
         FROM directory_objects
        WHERE tenant_id = $1 AND change_seq > $2 AND source = 'onprem'
        ORDER BY change_seq LIMIT $3`,
      [tenantId, after, limit + 1],
    );
    const l = options.objectsOnly ? { rows: [] } : await tx.query<{ change_seq: string | number; group_id: string; group_immutable_id: string | null; member_id: string; member_immutable_id: string | null; removed: boolean }>(
      `SELECT m.change_seq, m.group_id, g.immutable_id AS group_immutable_id, m.member_id, o.immutable_id AS member_immutable_id, m.removed
         FROM memberships m
         JOIN directory_objects g ON g.id = m.group_id
         JOIN directory_objects o ON o.id = m.member_id
        WHERE m.tenant_id = $1 AND m.change_seq > $2 AND g.source = 'onprem'
        ORDER BY m.change_seq LIMIT $3`,
      [tenantId, after, limit + 1],
    );
    return [o, l] as const;
  });
  const merged: Change[] = [
    ...objects.rows.map((r): Change => ({
      kind: 'object', seq: String(r.change_seq), type: r.object_type, objectId: r.id, immutableId: r.immutable_id,
      deleted: r.deleted, version: r.version, attributes: r.deleted || options.withoutAttributes ? null : r.attributes,
    })),
    ...links.rows.map((r): Change => ({
      kind: 'membership', seq: String(r.change_seq), groupId: r.group_id, groupImmutableId: r.group_immutable_id,
      memberId: r.member_id, memberImmutableId: r.member_immutable_id, removed: r.removed,
    })),
  ].sort((a, b) => Number(a.seq) - Number(b.seq));
  const page = merged.slice(0, limit);
  const last = page.at(-1);
  return {
    changes: page,
    cursor: encodeCursor({ s: last ? Number(last.seq) : after }),
    hasMore: merged.length > limit,
  };
}
