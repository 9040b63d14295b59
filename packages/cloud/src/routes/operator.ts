import { json, type RouteDef } from '../http/route.ts';
import { createTenant, createTenantRequest } from '../tenants/create-tenant.ts';

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
];
