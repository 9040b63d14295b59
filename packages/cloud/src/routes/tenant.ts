import { json, tenantRoute, type RouteDef } from '../http/route.ts';
import { notFound } from '../http/problem.ts';
import { directoryReaders } from './directory.ts';

export const tenantRoutes: RouteDef[] = [
  tenantRoute({
    method: 'GET', path: '/api/v1/tenant', roles: [...directoryReaders, 'DirectorySynchronizationAccounts'],
    summary: 'The caller\'s tenant: name, domains, quotas, object count and whether directory synchronization is on.',
    handler: async (ctx) => {
      const { tenantId } = ctx.principal;
      const { rows } = await ctx.cloud.store.query<{ id: string; name: string; initial_domain: string; object_count: number; quotas: object; dir_sync_enabled: boolean; created_at: Date | string }>(
        'SELECT id, name, initial_domain, object_count, quotas, dir_sync_enabled, created_at FROM tenants WHERE id = $1',
        [tenantId],
      );
      const t = rows[0];
      if (!t) throw notFound('the tenant');
      const { rows: domains } = await ctx.cloud.store.query<{ name: string; is_initial: boolean; is_default: boolean; verified: boolean }>(
        'SELECT name, is_initial, is_default, verified FROM domains WHERE tenant_id = $1 ORDER BY name',
        [tenantId],
      );
      return json({
        id: t.id,
        name: t.name,
        initialDomain: t.initial_domain,
        createdDateTime: new Date(t.created_at).toISOString(),
        objectCount: t.object_count,
        quotas: { ...ctx.cloud.config.quotas, ...t.quotas },
        directorySynchronizationEnabled: t.dir_sync_enabled,
        domains: domains.map((d) => ({ name: d.name, isInitial: d.is_initial, isDefault: d.is_default, isVerified: d.verified })),
      });
    },
  }),
];
