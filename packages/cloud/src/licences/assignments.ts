import { findSku, type Sku } from '@skybridge/protocol';
import type { Queryable } from '../store/store.ts';
import type { TenantWrite } from '../directory/tenant-lock.ts';
import { SkybridgeError, notFound } from '../http/problem.ts';
import type { ObjectRow } from '../directory/objects.ts';
import { reconcileWholeGroup, retryWaiting } from './reconcile.ts';

export interface SubscriptionUsage {
  skuId: string;
  displayName: string;
  servicePlans: readonly string[];
  seats: number;
  consumed: number;
  available: number;
  assignedDirectly: number;
  assignedThroughGroups: number;
  errors: number;
}

/** The tenant's subscription to a SKU; an error naming the fix when it has none. */
export async function subscribedSku(q: Queryable, tenantId: string, skuId: string): Promise<Sku & { seats: number }> {
  const sku = findSku(skuId);
  const { rows } = sku ? await q.query<{ seats: number }>('SELECT seats FROM subscriptions WHERE tenant_id = $1 AND sku_id = $2', [tenantId, sku.id]) : { rows: [] };
  if (!sku || !rows[0]) throw notFound(`a subscription to ${skuId} (see GET /api/v1/subscriptions for this tenant's SKUs)`);
  return { ...sku, seats: rows[0].seats };
}

/** Seats of a SKU held by live users (a user holding it by several paths takes one), as the store keeps it. */
export async function consumedSeats(q: Queryable, tenantId: string, skuId: string): Promise<number> {
  const { rows } = await q.query<{ consumed: number }>('SELECT consumed FROM subscriptions WHERE tenant_id = $1 AND sku_id = $2', [tenantId, skuId]);
  return rows[0]?.consumed ?? 0;
}

/** Usage of every subscription of the tenant: the licence report's summary. */
export async function subscriptionUsage(q: Queryable, tenantId: string): Promise<SubscriptionUsage[]> {
  const { rows } = await q.query<{ sku_id: string; seats: number; consumed: string | number; direct: string | number; via_groups: string | number; errors: string | number }>(
    `SELECT s.sku_id, s.seats, s.consumed,
            (SELECT count(*) FROM user_licences ul JOIN directory_objects u ON u.id = ul.user_id AND u.deleted_at IS NULL
              WHERE ul.tenant_id = s.tenant_id AND ul.sku_id = s.sku_id AND ul.via_group_id IS NULL) AS direct,
            (SELECT count(DISTINCT ul.user_id) FROM user_licences ul JOIN directory_objects u ON u.id = ul.user_id AND u.deleted_at IS NULL
              WHERE ul.tenant_id = s.tenant_id AND ul.sku_id = s.sku_id AND ul.via_group_id IS NOT NULL) AS via_groups,
            (SELECT count(*) FROM licence_errors e WHERE e.tenant_id = s.tenant_id AND e.sku_id = s.sku_id) AS errors
       FROM subscriptions s WHERE s.tenant_id = $1 ORDER BY s.sku_id`,
    [tenantId],
  );
  return rows.map((r) => {
    const sku = findSku(r.sku_id);
    const consumed = Number(r.consumed);
    return {
      skuId: r.sku_id, displayName: sku?.displayName ?? r.sku_id, servicePlans: sku?.servicePlans ?? [],
      seats: r.seats, consumed, available: Math.max(0, r.seats - consumed),
      assignedDirectly: Number(r.direct), assignedThroughGroups: Number(r.via_groups), errors: Number(r.errors),
    };
  });
}

export interface UserLicence {
  skuId: string;
  /** the product's name, such as Skybridge Standard */
  displayName: string;
  servicePlans: readonly string[];
  /** how the user holds it: directly, through these groups, or both */
  assignedDirectly: boolean;
  viaGroups: string[];
}
export interface LicenceError { skuId: string; groupId: string; code: string; message: string; since: string }

export const licenceErrorMessage = (code: string, skuId: string): string =>
  code === 'usage_location_missing'
    ? `the user has no usage location, which ${skuId} needs: set usageLocation on the user (PATCH /api/v1/users/{id}) and the group's licence is assigned`
    : `every seat of ${skuId} is taken: buy more seats or free some, and the group's licence is assigned as soon as a seat is free`;

export async function userLicences(q: Queryable, tenantId: string, userId: string): Promise<{ licences: UserLicence[]; errors: LicenceError[] }> {
  const { rows } = await q.query<{ sku_id: string; via_group_id: string | null }>(
    'SELECT sku_id, via_group_id FROM user_licences WHERE tenant_id = $1 AND user_id = $2 ORDER BY sku_id, via_group_id NULLS FIRST',
    [tenantId, userId],
  );
  const bySku = new Map<string, UserLicence>();
  for (const r of rows) {
    const sku = findSku(r.sku_id);
    const l = bySku.get(r.sku_id) ?? { skuId: r.sku_id, displayName: sku?.displayName ?? r.sku_id, servicePlans: sku?.servicePlans ?? [], assignedDirectly: false, viaGroups: [] };
    if (r.via_group_id) l.viaGroups.push(r.via_group_id);
    else l.assignedDirectly = true;
    bySku.set(r.sku_id, l);
  }
  const { rows: errs } = await q.query<{ sku_id: string; group_id: string; code: string; since: Date | string }>(
    'SELECT sku_id, group_id, code, since FROM licence_errors WHERE tenant_id = $1 AND user_id = $2 ORDER BY sku_id, group_id',
    [tenantId, userId],
  );
  return {
    licences: [...bySku.values()],
    errors: errs.map((e) => ({ skuId: e.sku_id, groupId: e.group_id, code: e.code, message: licenceErrorMessage(e.code, e.sku_id), since: new Date(e.since).toISOString() })),
  };
}

/** Assigns a SKU to a user directly. */
export async function assignToUser(w: TenantWrite, user: ObjectRow, skuId: string): Promise<boolean> {
  const sku = await subscribedSku(w.tx, w.tenantId, skuId);
  if (!user.usage_location) {
    throw new SkybridgeError('usage_location_required', `the user ${user.upn ?? user.id} has no usage location, which a licence needs: set usageLocation (a two-letter country code) on the user first`, {
      errors: [{ pointer: '/usageLocation', message: 'required before a licence is assigned' }],
    });
  }
  const { rows: held } = await w.tx.query<{ via_group_id: string | null }>('SELECT via_group_id FROM user_licences WHERE user_id = $1 AND sku_id = $2', [user.id, sku.id]);
  if (held.some((h) => h.via_group_id === null)) return false;
  if (held.length === 0) {
    const consumed = await consumedSeats(w.tx, w.tenantId, sku.id);
    if (consumed >= sku.seats) {
      throw new SkybridgeError('no_seats', `every seat of ${sku.id} is taken (${consumed} of ${sku.seats}): buy more seats or remove the licence from another user`, {
        extensions: { seats: sku.seats, consumed },
      });
    }
  }
  await w.tx.query('INSERT INTO user_licences (tenant_id, user_id, sku_id) VALUES ($1, $2, $3)', [w.tenantId, user.id, sku.id]);
  return true;
}

/** Removes a user's direct assignment; one held through a group stays (remove the user from the group, or the licence from the group). */
export async function removeFromUser(w: TenantWrite, user: ObjectRow, skuId: string): Promise<void> {
  const sku = findSku(skuId);
  const { rows } = await w.tx.query<{ via_group_id: string | null }>('SELECT via_group_id FROM user_licences WHERE user_id = $1 AND sku_id = $2', [user.id, sku?.id ?? skuId]);
  if (!sku || !rows.some((r) => r.via_group_id === null)) {
    if (rows.length) {
      throw new SkybridgeError('conflict', `the user ${user.upn ?? user.id} holds ${sku!.id} through the group(s) ${rows.map((r) => r.via_group_id).join(', ')}, not directly: remove the user from the group or the licence from the group`);
    }
    throw notFound(`a licence ${skuId} of the user ${user.id}`);
  }
  await w.tx.query('DELETE FROM user_licences WHERE user_id = $1 AND sku_id = $2 AND via_group_id IS NULL', [user.id, sku.id]);
  if (rows.length === 1) await retryWaiting(w, sku.id);
}

export async function assignToGroup(w: TenantWrite, group: ObjectRow, skuId: string): Promise<boolean> {
  const sku = await subscribedSku(w.tx, w.tenantId, skuId);
  const { rowCount } = await w.tx.query('INSERT INTO group_licences (tenant_id, group_id, sku_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [w.tenantId, group.id, sku.id]);
  if (rowCount === 0) return false;
  await reconcileWholeGroup(w, group.id, sku.id);
  return true;
}

export async function removeFromGroup(w: TenantWrite, group: ObjectRow, skuId: string): Promise<void> {
  const sku = findSku(skuId);
  const { rowCount } = await w.tx.query('DELETE FROM group_licences WHERE group_id = $1 AND sku_id = $2', [group.id, sku?.id ?? skuId]);
  if (!sku || rowCount === 0) throw notFound(`a licence ${skuId} of the group ${group.id}`);
  await w.tx.query('DELETE FROM licence_errors WHERE group_id = $1 AND sku_id = $2', [group.id, sku.id]);
  await w.tx.query('DELETE FROM user_licences WHERE via_group_id = $1 AND sku_id = $2', [group.id, sku.id]);
  await retryWaiting(w, sku.id);
}

export async function groupLicences(q: Queryable, tenantId: string, groupId: string) {
  const { rows } = await q.query<{ sku_id: string; assigned_at: Date | string; holders: string | number; usage_location_missing: string | number; no_seats: string | number }>(
    `SELECT g.sku_id, g.assigned_at,
            (SELECT count(*) FROM user_licences ul WHERE ul.via_group_id = g.group_id AND ul.sku_id = g.sku_id) AS holders,
            (SELECT count(*) FROM licence_errors e WHERE e.group_id = g.group_id AND e.sku_id = g.sku_id AND e.code = 'usage_location_missing') AS usage_location_missing,
            (SELECT count(*) FROM licence_errors e WHERE e.group_id = g.group_id AND e.sku_id = g.sku_id AND e.code = 'no_seats') AS no_seats
       FROM group_licences g WHERE g.tenant_id = $1 AND g.group_id = $2 ORDER BY g.sku_id`,
    [tenantId, groupId],
  );
  return rows.map((r) => ({
    skuId: r.sku_id, servicePlans: findSku(r.sku_id)?.servicePlans ?? [], assignedDateTime: new Date(r.assigned_at).toISOString(),
    assignedUsers: Number(r.holders), errors: { usageLocationMissing: Number(r.usage_location_missing), noSeats: Number(r.no_seats) },
  }));
}

/** Does the user hold a licence with this service plan (the check applications that require one make at sign-in)? */
export async function holdsServicePlan(q: Queryable, tenantId: string, userId: string, plan: string): Promise<boolean> {
  const { rows } = await q.query<{ sku_id: string }>('SELECT DISTINCT sku_id FROM user_licences WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId]);
  return rows.some((r) => findSku(r.sku_id)?.servicePlans.includes(plan as never));
}
