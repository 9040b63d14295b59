import { z } from 'zod';
import type { ObjectType } from '@skybridge/protocol';
import type { Queryable, SqlValue } from '../store/store.ts';
import { decodeCursor, encodeCursor } from './pagination.ts';
import { isUuid, objectColumns, type ObjectRow } from './objects.ts';
import { parseWith } from '../http/validate.ts';

/**
 * What the admin center's lists ask for: a prefix search over display name,
 * user principal name and mail, a filter (synced from on-premises, cloud
 * only, licensed, blocked), ordered by display name. Every query walks an
 * index (migration 012 and the prefix indexes of 002) and reads one page
 * plus one row, whatever the directory's size.
 */
export const listQuery = z.strictObject({
  search: z.string().trim().max(256, 'search is at most 256 characters').optional(),
  filter: z.enum(['synced', 'cloud', 'licensed', 'unlicensed', 'blocked'], { error: 'filter must be one of synced, cloud, licensed, unlicensed, blocked' }).optional(),
  orderBy: z.enum(['id', 'displayName'], { error: 'orderBy must be id or displayName' }).optional(),
  limit: z.string().optional(),
  cursor: z.string().optional(),
});
export type ListQuery = z.infer<typeof listQuery>;

export function parseListQuery(query: URLSearchParams): ListQuery {
  return parseWith(listQuery, Object.fromEntries(query.entries()), 'the list query (search, filter, orderBy, limit, cursor)');
}

/** `%`, `_` and `\` are literal in a search, not LIKE wildcards. */
const likePrefix = (s: string) => `${s.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const filters: Record<NonNullable<ListQuery['filter']>, string> = {
  synced: `o.source = 'onprem'`,
  cloud: `o.source = 'cloud'`,
  licensed: 'EXISTS (SELECT 1 FROM user_licences l WHERE l.user_id = o.id)',
  unlicensed: 'NOT EXISTS (SELECT 1 FROM user_licences l WHERE l.user_id = o.id)',
  blocked: 'NOT o.account_enabled',
};

type NameCursor = { n: string; id: string };
type IdCursor = { id: string };
/** the object columns, qualified by the query's alias */
const columns = objectColumns.split(', ').map((c) => `o.${c}`).join(', ');

/** One page of a tenant's objects of one type, and the cursor of the next. */
export async function searchObjects(q: Queryable, tenantId: string, type: ObjectType, query: ListQuery, limit: number): Promise<{ rows: ObjectRow[]; nextCursor: string | null }> {
  const params: SqlValue[] = [tenantId, type];
  const where = ['o.tenant_id = $1', 'o.object_type = $2', 'o.deleted_at IS NULL'];
  if (query.search) {
    params.push(likePrefix(query.search));
    const p = `$${params.length}`;
    where.push(`(lower(o.display_name) LIKE ${p} OR lower(o.upn) LIKE ${p} OR lower(o.mail) LIKE ${p})`);
  }
  if (query.filter) where.push(filters[query.filter]);
  const byName = query.orderBy === 'displayName';
  const nameKey = `lower(coalesce(o.display_name, ''))`;
  if (byName) {
    const c = decodeCursor(query.cursor ?? null, (v): v is NameCursor => typeof v.n === 'string' && typeof v.id === 'string' && isUuid(v.id));
    if (c) {
      params.push(c.n, c.id);
      where.push(`(${nameKey}, o.id) > ($${params.length - 1}, $${params.length}::uuid)`);
    }
  } else {
    const c = decodeCursor(query.cursor ?? null, (v): v is IdCursor => typeof v.id === 'string' && isUuid(v.id));
    if (c) {
      params.push(c.id);
      where.push(`o.id > $${params.length}::uuid`);
    }
  }
  params.push(limit + 1);
  const { rows } = await q.query<ObjectRow & { sort_key: string }>(
    `SELECT ${columns}, ${nameKey} AS sort_key FROM directory_objects o WHERE ${where.join(' AND ')}
      ORDER BY ${byName ? `${nameKey}, o.id` : 'o.id'} LIMIT $${params.length}`,
    params,
  );
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const nextCursor = rows.length > limit && last
    ? encodeCursor(byName ? { n: last.sort_key, id: last.id } : { id: last.id })
    : null;
  return { rows: page, nextCursor };
}
