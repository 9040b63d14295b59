import { z } from 'zod';
import { findSku, type Role } from '@skybridge/protocol';
import { json, noContent, tenantRoute, type RequestContext, type RouteDef } from '../http/route.ts';
import type { Principal } from '../auth/principal.ts';
import { actorOf } from '../audit/audit-log.ts';
import { getObject, isUuid } from '../directory/objects.ts';
import { TenantWrite } from '../directory/tenant-lock.ts';
import { decodeCursor, encodeCursor, pageSize } from '../directory/pagination.ts';
import {
  assignToGroup, assignToUser, groupLicences, licenceErrorMessage, removeFromGroup, removeFromUser, subscribedSku, subscriptionUsage, userLicences,
} from '../licences/assignments.ts';
import { directoryReaders } from './directory.ts';

/** Who assigns licences. */
const licenceAdmins: readonly Role[] = ['GlobalAdministrator', 'UserAdministrator', 'LicenseAdministrator'];
const skuBody = z.strictObject({ skuId: z.string().min(1).max(64) });

async function inTenantWrite<T>(ctx: RequestContext<Principal>, fn: (w: TenantWrite) => Promise<T>): Promise<T> {
  return ctx.cloud.store.transaction(async (tx) => {
    const w = await TenantWrite.begin(tx, ctx.principal.tenantId, ctx.cloud.config.quotas, actorOf(ctx.principal));
    const out = await fn(w);
    await w.finish();
    return out;
  });
}

export const licenceRoutes: RouteDef[] = [
  tenantRoute({
    method: 'GET', path: '/api/v1/subscriptions', roles: directoryReaders,
    summary: 'The licence report: each subscribed SKU with its service plans, seats, seats used, direct and group-based assignments, and assignment errors.',
    handler: async (ctx) => json({ items: await subscriptionUsage(ctx.cloud.store, ctx.principal.tenantId) }),
  }),
  tenantRoute({
    method: 'GET', path: '/api/v1/subscriptions/:skuId/assignments', roles: directoryReaders,
    summary: 'Who holds a SKU and how (directly, through which groups), and who could not get it through a group and why; a page at a time.',
    handler: async (ctx) => {
      const sku = await subscribedSku(ctx.cloud.store, ctx.principal.tenantId, ctx.params.skuId!);
      const limit = pageSize(ctx.query);
      const cursor = decodeCursor(ctx.query.get('cursor'), (v): v is { id: string } => typeof v.id === 'string' && isUuid(v.id));
      const { rows } = await ctx.cloud.store.query<{ user_id: string; upn: string | null; direct: boolean; groups: string[] | null; errors: { groupId: string; code: string }[] | null }>(
        `WITH users AS (
           SELECT user_id FROM user_licences WHERE tenant_id = $1 AND sku_id = $2 AND user_id > $3::uuid
           UNION SELECT user_id FROM licence_errors WHERE tenant_id = $1 AND sku_id = $2 AND user_id > $3::uuid
           ORDER BY 1 LIMIT $4)
         SELECT u.user_id, o.upn,
                EXISTS (SELECT 1 FROM user_licences l WHERE l.user_id = u.user_id AND l.sku_id = $2 AND l.via_group_id IS NULL) AS direct,
                (SELECT array_agg(l.via_group_id::text ORDER BY l.via_group_id) FROM user_licences l WHERE l.user_id = u.user_id AND l.sku_id = $2 AND l.via_group_id IS NOT NULL) AS groups,
                (SELECT jsonb_agg(jsonb_build_object('groupId', e.group_id, 'code', e.code) ORDER BY e.group_id) FROM licence_errors e WHERE e.user_id = u.user_id AND e.sku_id = $2) AS errors
           FROM users u JOIN directory_objects o ON o.id = u.user_id AND o.deleted_at IS NULL ORDER BY u.user_id`,
        [ctx.principal.tenantId, sku.id, cursor?.id ?? '00000000-0000-0000-0000-000000000000', limit + 1],
      );
      const page = rows.slice(0, limit);
      return json({
        skuId: sku.id,
        items: page.map((r) => ({
          userId: r.user_id, userPrincipalName: r.upn, assignedDirectly: r.direct, viaGroups: r.groups ?? [],
          errors: (r.errors ?? []).map((e) => ({ ...e, message: licenceErrorMessage(e.code, sku.id) })),
        })),
        nextCursor: rows.length > limit ? encodeCursor({ id: page.at(-1)!.user_id }) : null,
      });
    },
  }),
  tenantRoute({
    method: 'GET', path: '/api/v1/users/:id/licenses', roles: directoryReaders,
    summary: 'A user\'s licences (direct and through groups, with their service plans) and group-based assignments that failed, with the fix.',
    handler: async (ctx) => {
      const user = await getObject(ctx.cloud.store, ctx.principal.tenantId, 'user', ctx.params.id!);
      return json({ userId: user.id, usageLocation: user.usage_location, ...(await userLicences(ctx.cloud.store, ctx.principal.tenantId, user.id)) });
    },
  }),
  tenantRoute({
    method: 'POST', path: '/api/v1/users/:id/licenses', roles: licenceAdmins,
    summary: 'Assigns a licence to a user directly (synchronized users too); the user needs a usage location and the SKU a free seat.',
    requestBody: skuBody,
    handler: async (ctx) => {
      const { skuId } = await ctx.body(skuBody, 'the licence');
      return inTenantWrite(ctx, async (w) => {
        const user = await getObject(w.tx, w.tenantId, 'user', ctx.params.id!, true);
        const added = await assignToUser(w, user, skuId);
        if (added) await w.audit({ action: 'licence.assign', target: { type: 'user', id: user.id, name: user.upn }, after: { skuId: findSku(skuId)!.id } });
        return json({ userId: user.id, ...(await userLicences(w.tx, w.tenantId, user.id)) }, added ? 201 : 200);
      });
    },
  }),
  tenantRoute({
    method: 'DELETE', path: '/api/v1/users/:id/licenses/:skuId', roles: licenceAdmins,
    summary: 'Removes a user\'s direct licence (never the user); a licence held through a group stays until the user leaves the group.',
    handler: async (ctx) => inTenantWrite(ctx, async (w) => {
      const user = await getObject(w.tx, w.tenantId, 'user', ctx.params.id!, true);
      await removeFromUser(w, user, ctx.params.skuId!);
      await w.audit({ action: 'licence.remove', target: { type: 'user', id: user.id, name: user.upn }, before: { skuId: findSku(ctx.params.skuId!)!.id } });
      return noContent();
    }),
  }),
  tenantRoute({
    method: 'GET', path: '/api/v1/groups/:id/licenses', roles: directoryReaders,
    summary: 'A group\'s licences, how many members hold each, and how many could not get it (no usage location, no seat).',
    handler: async (ctx) => {
      const group = await getObject(ctx.cloud.store, ctx.principal.tenantId, 'group', ctx.params.id!);
      return json({ groupId: group.id, items: await groupLicences(ctx.cloud.store, ctx.principal.tenantId, group.id) });
    },
  }),
  tenantRoute({
    method: 'POST', path: '/api/v1/groups/:id/licenses', roles: licenceAdmins,
    summary: 'Assigns a licence to a group (synchronized groups too): its user members hold it while they are members; failures are recorded per user.',
    requestBody: skuBody,
    handler: async (ctx) => {
      const { skuId } = await ctx.body(skuBody, 'the licence');
      return inTenantWrite(ctx, async (w) => {
        const group = await getObject(w.tx, w.tenantId, 'group', ctx.params.id!, true);
        const added = await assignToGroup(w, group, skuId);
        if (added) await w.audit({ action: 'groupLicence.assign', target: { type: 'group', id: group.id, name: group.display_name }, after: { skuId: findSku(skuId)!.id } });
        return json({ groupId: group.id, items: await groupLicences(w.tx, w.tenantId, group.id) }, added ? 201 : 200);
      });
    },
  }),
  tenantRoute({
    method: 'DELETE', path: '/api/v1/groups/:id/licenses/:skuId', roles: licenceAdmins,
    summary: 'Removes a group\'s licence: members who held it only through this group lose it (never their account).',
    handler: async (ctx) => inTenantWrite(ctx, async (w) => {
      const group = await getObject(w.tx, w.tenantId, 'group', ctx.params.id!, true);
      await removeFromGroup(w, group, ctx.params.skuId!);
      await w.audit({ action: 'groupLicence.remove', target: { type: 'group', id: group.id, name: group.display_name }, before: { skuId: findSku(ctx.params.skuId!)!.id } });
      return noContent();
    }),
  }),
];
