/**
 * Group-based licensing: every user member of a group that holds a licence
 * holds it too, while a member, if a seat is free and the user has a usage
 * location; otherwise the assignment is recorded as an error for that user
 * (as in Entra ID) and tried again when something changes. As in Entra ID,
 * only direct user members count: a nested group's members do not.
 *
 * Everything here is set-based SQL over the pairs (user, group, SKU) a write
 * touched, so a change of one member of a 1,000,000-member group costs one
 * pair, not the group.
 */
import type { TenantWrite } from '../directory/tenant-lock.ts';

/** A query yielding candidate pairs as (user_id, group_id, sku_id); $1 is the tenant. */
type Pairs = { sql: string; params: (string | number)[] };

/** After a write: the pairs whose membership or user changed within the write's sequence numbers. */
export async function reconcileGroupLicences(w: TenantWrite, range: { fromSeq: number; toSeq: number }): Promise<void> {
  const { rows } = await w.tx.query('SELECT 1 FROM group_licences WHERE tenant_id = $1 LIMIT 1', [w.tenantId]);
  if (rows.length === 0) return;
  await reconcilePairs(w, {
    sql: `SELECT m.member_id AS user_id, m.group_id, g.sku_id FROM memberships m JOIN group_licences g ON g.group_id = m.group_id
           WHERE m.tenant_id = $1 AND m.change_seq BETWEEN $2 AND $3
          UNION
          SELECT m.member_id, m.group_id, g.sku_id FROM directory_objects u
            JOIN memberships m ON m.member_id = u.id AND NOT m.removed JOIN group_licences g ON g.group_id = m.group_id
           WHERE u.tenant_id = $1 AND u.change_seq BETWEEN $2 AND $3 AND u.object_type = 'user'`,
    params: [range.fromSeq, range.toSeq],
  });
}

/** A licence was just assigned to a group: every current member. */
export function reconcileWholeGroup(w: TenantWrite, groupId: string, skuId: string): Promise<void> {
  return reconcilePairs(w, {
    sql: `SELECT m.member_id AS user_id, m.group_id, $3::text AS sku_id FROM memberships m
           WHERE m.tenant_id = $1 AND m.group_id = $2 AND NOT m.removed`,
    params: [groupId, skuId],
  });
}

/** Seats were freed or added: the users waiting for one get it, oldest error first. */
export function retryWaiting(w: TenantWrite, skuId: string): Promise<void> {
  return reconcilePairs(w, {
    sql: `SELECT e.user_id, e.group_id, e.sku_id FROM licence_errors e WHERE e.tenant_id = $1 AND e.sku_id = $2 AND e.code = 'no_seats'`,
    params: [skuId],
  }, false);
}

async function reconcilePairs(w: TenantWrite, pairs: Pairs, retryAfterRemoval = true): Promise<void> {
  const params = [w.tenantId, ...pairs.params];
  const member = (c: string) => `EXISTS (SELECT 1 FROM memberships m JOIN directory_objects u ON u.id = m.member_id
                      WHERE m.group_id = ${c}.group_id AND m.member_id = ${c}.user_id AND NOT m.removed
                        AND u.deleted_at IS NULL AND u.object_type = 'user')`;
  // 1. pairs no longer wanted (left the group, deleted, not a user): their assignment and error go
  const { rows: removed } = await w.tx.query<{ sku_id: string }>(
    `WITH c AS (${pairs.sql})
     DELETE FROM user_licences ul USING c
      WHERE ul.user_id = c.user_id AND ul.sku_id = c.sku_id AND ul.via_group_id = c.group_id AND NOT ${member('c')}
     RETURNING ul.sku_id`,
    params,
  );
  await w.tx.query(
    `WITH c AS (${pairs.sql})
     DELETE FROM licence_errors e USING c
      WHERE e.user_id = c.user_id AND e.sku_id = c.sku_id AND e.group_id = c.group_id AND NOT ${member('c')}`,
    params,
  );
  // 2. pairs wanted and not held: a seat each (one per user and SKU, whatever the paths), or an error
  await w.tx.query(
    `WITH c AS (${pairs.sql}),
     want AS (
       SELECT DISTINCT c.user_id, c.group_id, c.sku_id, u.usage_location IS NOT NULL AS located,
              EXISTS (SELECT 1 FROM user_licences h WHERE h.user_id = c.user_id AND h.sku_id = c.sku_id) AS holds
         FROM c JOIN directory_objects u ON u.id = c.user_id
        WHERE ${member('c')}
          AND NOT EXISTS (SELECT 1 FROM user_licences x WHERE x.user_id = c.user_id AND x.sku_id = c.sku_id AND x.via_group_id = c.group_id)
     ),
     avail AS (SELECT s.sku_id, s.seats - s.consumed AS free FROM subscriptions s WHERE s.tenant_id = $1),
     ranked AS (
       SELECT want.*, dense_rank() OVER (PARTITION BY want.sku_id, (want.located AND NOT want.holds) ORDER BY want.user_id) AS seat_rank FROM want
     ),
     decided AS (
       SELECT r.user_id, r.group_id, r.sku_id,
              CASE WHEN r.holds THEN NULL
                   WHEN NOT r.located THEN 'usage_location_missing'
                   WHEN r.seat_rank <= coalesce(a.free, 0) THEN NULL
                   ELSE 'no_seats' END AS error
         FROM ranked r LEFT JOIN avail a ON a.sku_id = r.sku_id
     ),
     granted AS (
       INSERT INTO user_licences (tenant_id, user_id, sku_id, via_group_id)
       SELECT $1, user_id, sku_id, group_id FROM decided WHERE error IS NULL
       ON CONFLICT DO NOTHING RETURNING user_id
     ),
     cleared AS (
       DELETE FROM licence_errors e USING decided d
        WHERE d.error IS NULL AND e.user_id = d.user_id AND e.sku_id = d.sku_id AND e.group_id = d.group_id RETURNING e.user_id
     )
     INSERT INTO licence_errors (tenant_id, user_id, sku_id, group_id, code)
     SELECT $1, user_id, sku_id, group_id, error FROM decided WHERE error IS NOT NULL
     ON CONFLICT (user_id, sku_id, group_id) DO UPDATE SET code = excluded.code`,
    params,
  );
  // 3. seats this write freed go to the users waiting for them
  if (retryAfterRemoval) for (const sku of new Set(removed.map((r) => r.sku_id))) await retryWaiting(w, sku);
}
