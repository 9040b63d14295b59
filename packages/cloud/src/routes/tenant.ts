import { z } from 'zod';
import { json, tenantRoute, type RequestContext, type RouteDef } from '../http/route.ts';
import type { Principal } from '../auth/principal.ts';
import { notFound } from '../http/problem.ts';
import { directoryReaders } from './directory.ts';
import { TenantWrite } from '../directory/tenant-lock.ts';
import { actorOf } from '../audit/audit-log.ts';

/**
 * Turning directory synchronization off: the synchronized objects become
 * cloud-managed and stay (with their immutable ids, so that turning it on
 * again and a full sync take them back), the lease ends, and no agent gets
 * one until it is turned on again.
 */
async function turnDirectorySyncOff(w: TenantWrite): Promise<void> {
  const { rows } = await w.tx.query<{ n: string | number }>(`SELECT count(*) AS n FROM directory_objects WHERE tenant_id = $1 AND source = 'onprem' AND deleted_at IS NULL`, [w.tenantId]);
  const n = Number(rows[0]!.n);
  const first = w.reserveSeq(n);
  await w.tx.query(
    `UPDATE directory_objects o SET source = 'cloud', version = o.version + 1, updated_at = now(), change_seq = $2 + s.ord - 1
       FROM (SELECT id, row_number() OVER (ORDER BY id) AS ord FROM directory_objects WHERE tenant_id = $1 AND source = 'onprem' AND deleted_at IS NULL) s
      WHERE o.id = s.id`,
    [w.tenantId, first],
  );
  await w.tx.query('UPDATE tenants SET dir_sync_enabled = false, dir_sync_blocked = true WHERE id = $1', [w.tenantId]);
  await w.tx.query('UPDATE sync_leases SET expires_at = now(), epoch = epoch + 1 WHERE tenant_id = $1', [w.tenantId]);
}

const tenantChanges = z.strictObject({
  /** never match a synced object onto a cloud object by UPN or primary SMTP address */
  blockSoftMatch: z.boolean().optional(),
  /** never let synchronization take over a cloud-managed object that carries the same immutable id */
  blockHardMatchTakeover: z.boolean().optional(),
  /** off: every synchronized object becomes cloud-managed and stays, and agents get no lease; on again: a full sync takes them back (hard match) */
  directorySynchronizationEnabled: z.boolean().optional(),
  /** synchronized users of managed domains sign in with their AD password, checked by the tenant's agents */
  passThroughAuthentication: z.boolean().optional(),
});

async function readTenant(ctx: RequestContext<Principal>) {
  const { tenantId } = ctx.principal;
  const { rows } = await ctx.cloud.store.query<{ id: string; name: string; initial_domain: string; object_count: number; quotas: object; dir_sync_enabled: boolean; created_at: Date | string; block_soft_match: boolean; block_hard_match_takeover: boolean; pass_through_auth: boolean }>(
    'SELECT id, name, initial_domain, object_count, quotas, dir_sync_enabled, created_at, block_soft_match, block_hard_match_takeover, pass_through_auth FROM tenants WHERE id = $1',
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
    blockSoftMatch: t.block_soft_match,
    blockHardMatchTakeover: t.block_hard_match_takeover,
    passThroughAuthentication: t.pass_through_auth,
    domains: domains.map((d) => ({ name: d.name, isInitial: d.is_initial, isDefault: d.is_default, isVerified: d.verified })),
  });
}

export const tenantRoutes: RouteDef[] = [
  tenantRoute({
    method: 'GET', path: '/api/v1/tenant', roles: [...directoryReaders, 'DirectorySynchronizationAccounts'],
    summary: 'The caller\'s tenant: name, domains, quotas, object count and whether directory synchronization is on.',
    handler: readTenant,
  }),
  tenantRoute({
    method: 'PATCH', path: '/api/v1/tenant', roles: ['GlobalAdministrator', 'HybridIdentityAdministrator'],
    summary: 'Changes the tenant\'s switches: directorySynchronizationEnabled, blockSoftMatch, blockHardMatchTakeover, passThroughAuthentication.',
    requestBody: tenantChanges,
    handler: async (ctx) => {
      const changes = await ctx.body(tenantChanges, 'the tenant changes');
      await ctx.cloud.store.transaction(async (tx) => {
        const w = await TenantWrite.begin(tx, ctx.principal.tenantId, ctx.cloud.config.quotas, actorOf(ctx.principal));
        const switches = async () => (await tx.query<{ dir_sync_enabled: boolean; block_soft_match: boolean; block_hard_match_takeover: boolean; pass_through_auth: boolean }>(
          'SELECT dir_sync_enabled, block_soft_match, block_hard_match_takeover, pass_through_auth FROM tenants WHERE id = $1', [ctx.principal.tenantId])).rows.map((r) => ({
          directorySynchronizationEnabled: r.dir_sync_enabled, blockSoftMatch: r.block_soft_match, blockHardMatchTakeover: r.block_hard_match_takeover, passThroughAuthentication: r.pass_through_auth,
        }))[0];
        const before = await switches();
        await tx.query(
          `UPDATE tenants SET block_soft_match = coalesce($2, block_soft_match), block_hard_match_takeover = coalesce($3, block_hard_match_takeover),
                  pass_through_auth = coalesce($4, pass_through_auth) WHERE id = $1`,
          [ctx.principal.tenantId, changes.blockSoftMatch ?? null, changes.blockHardMatchTakeover ?? null, changes.passThroughAuthentication ?? null],
        );
        if (changes.directorySynchronizationEnabled === false) await turnDirectorySyncOff(w);
        if (changes.directorySynchronizationEnabled === true) {
          await tx.query('UPDATE tenants SET dir_sync_enabled = true, dir_sync_blocked = false WHERE id = $1', [ctx.principal.tenantId]);
        }
        await w.audit({ action: 'tenant.update', target: { type: 'tenant', id: ctx.principal.tenantId }, before, after: await switches() });
        await w.finish();
      });
      return readTenant(ctx);
    },
  }),
];
