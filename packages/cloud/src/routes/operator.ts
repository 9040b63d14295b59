import { z } from 'zod';
import { findSku, skuCatalogue } from '@skybridge/protocol';
import { json, type RouteDef } from '../http/route.ts';
import { createTenant, createTenantRequest } from '../tenants/create-tenant.ts';
import { SkybridgeError, notFound } from '../http/problem.ts';
import { isUuid } from '../directory/objects.ts';
import { TenantWrite } from '../directory/tenant-lock.ts';
import { operatorActor } from '../audit/audit-log.ts';
import { retryWaiting } from '../licences/reconcile.ts';
import { addOperatorVerifiedDomain, presentDomain } from '../domains/domains.ts';
import type { Queryable } from '../store/store.ts';

async function tenantOf(q: Queryable, id: string): Promise<string> {
  if (isUuid(id)) {
    const { rows } = await q.query<{ id: string }>('SELECT id FROM tenants WHERE id = $1', [id.toLowerCase()]);
    if (rows[0]) return rows[0].id;
  }
  throw notFound(`the tenant ${id}`);
}

export const operatorRoutes: RouteDef[] = [
  {
    method: 'POST', path: '/operator/v1/tenants', access: 'operator',
    summary: 'Creates a tenant with its initial domain, first Global Administrator and API client (deployment operator only).',
    handler: async (ctx) => {
      const { name } = await ctx.body(createTenantRequest, 'the tenant');
      const created = await createTenant(ctx.cloud.store, { name, publicUrl: ctx.cloud.config.publicUrl, initialDomainSuffix: ctx.cloud.config.initialDomainSuffix });
      ctx.cloud.logger.info({ tenantId: created.tenantId, name }, 'tenant created');
      return json(created, 201);
    },
  },
  {
    method: 'PUT', path: '/operator/v1/tenants/:tenantId/subscriptions/:skuId', access: 'operator',
    summary: `Sets a tenant's seats of a SKU of the catalogue (${skuCatalogue.map((s) => s.id).join(', ')}): the purchase, by the deployment operator.`,
    handler: async (ctx) => {
      const sku = findSku(ctx.params.skuId!);
      if (!sku) throw notFound(`a SKU ${ctx.params.skuId} in the catalogue (${skuCatalogue.map((s) => s.id).join(', ')})`);
      const { seats } = await ctx.body(z.strictObject({ seats: z.number().int().min(0).max(10_000_000) }), 'the subscription');
      const tenantId = await tenantOf(ctx.cloud.store, ctx.params.tenantId!);
      await ctx.cloud.store.transaction(async (tx) => {
        const w = await TenantWrite.begin(tx, tenantId, ctx.cloud.config.quotas, operatorActor);
        const before = (await tx.query<{ seats: number }>('SELECT seats FROM subscriptions WHERE tenant_id = $1 AND sku_id = $2', [tenantId, sku.id])).rows[0];
        await tx.query(
          `INSERT INTO subscriptions (tenant_id, sku_id, seats) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, sku_id) DO UPDATE SET seats = excluded.seats, updated_at = now()`,
          [tenantId, sku.id, seats],
        );
        await w.audit({ action: 'subscription.set', target: { type: 'subscription', id: sku.id, name: sku.displayName }, before: before ?? null, after: { seats } });
        await retryWaiting(w, sku.id);
        await w.finish();
      });
      return json({ tenantId, skuId: sku.id, seats, servicePlans: sku.servicePlans });
    },
  },
  {
    method: 'PUT', path: '/operator/v1/tenants/:tenantId/domains/:name', access: 'operator',
    summary: 'Adds a domain to a tenant as verified, without a DNS check: the deployment operator vouches that the tenant owns it.',
    handler: async (ctx) => {
      const tenantId = await tenantOf(ctx.cloud.store, ctx.params.tenantId!);
      const { verified } = await ctx.body(z.strictObject({ verified: z.literal(true) }), 'the domain');
      if (!verified) throw new SkybridgeError('invalid_request', 'give {"verified": true}');
      const out = await addOperatorVerifiedDomain(ctx.cloud.store, tenantId, ctx.params.name!);
      return json({ ...presentDomain(out.domain), restoredUserPrincipalNames: out.restoredUserPrincipalNames });
    },
  },
];
