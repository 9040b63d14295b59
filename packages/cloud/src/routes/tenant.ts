import { z } from 'zod';
import { roleDisplayNames, roles } from '@skybridge/protocol';
import { json, tenantRoute, type RequestContext, type RouteDef } from '../http/route.ts';
import type { Principal } from '../auth/principal.ts';
import { notFound } from '../http/problem.ts';
import { directoryReaders } from './directory.ts';
import { TenantWrite } from '../directory/tenant-lock.ts';
import { actorOf } from '../audit/audit-log.ts';
import type { Queryable } from '../store/store.ts';

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
  /** the tenant's agents send users' password hashes and the cloud checks sign-ins against them; off clears every synchronized hash */
  passwordHashSync: z.boolean().optional(),
  /** synchronized users whose on-premises account says "must change password at next logon" cannot sign in with the synchronized password until they change it on-premises */
  forcePasswordChangeOnLogOn: z.boolean().optional(),
});

/** The tenant's switches, by API name and column. */
const switchColumns = {
  directorySynchronizationEnabled: 'dir_sync_enabled',
  blockSoftMatch: 'block_soft_match',
  blockHardMatchTakeover: 'block_hard_match_takeover',
  passThroughAuthentication: 'pass_through_auth',
  passwordHashSync: 'password_hash_sync',
  forcePasswordChangeOnLogOn: 'force_password_change_on_logon',
} as const;
type Switches = Record<keyof typeof switchColumns, boolean>;

async function readSwitches(q: Queryable, tenantId: string): Promise<Switches> {
  const { rows } = await q.query<Record<string, boolean>>(`SELECT ${Object.values(switchColumns).join(', ')} FROM tenants WHERE id = $1`, [tenantId]);
  const row = rows[0];
  if (!row) throw notFound('the tenant');
  return Object.fromEntries(Object.entries(switchColumns).map(([name, column]) => [name, row[column]])) as Switches;
}

async function readTenant(ctx: RequestContext<Principal>) {
  const { tenantId } = ctx.principal;
  const { rows } = await ctx.cloud.store.query<{ id: string; name: string; initial_domain: string; object_count: number; quotas: object; created_at: Date | string }>(
    'SELECT id, name, initial_domain, object_count, quotas, created_at FROM tenants WHERE id = $1',
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
    ...(await readSwitches(ctx.cloud.store, tenantId)),
    domains: domains.map((d) => ({ name: d.name, isInitial: d.is_initial, isDefault: d.is_default, isVerified: d.verified })),
  });
}

export const tenantRoutes: RouteDef[] = [
  tenantRoute({
    method: 'GET', path: '/api/v1/me', roles,
    summary: 'Who is calling: the signed-in user (admin center) or the API client, its roles, and its tenant.',
    handler: async (ctx) => {
      const p = ctx.principal;
      const { rows } = await ctx.cloud.store.query<{ name: string; initial_domain: string; display_name: string | null; upn: string | null; client_name: string | null }>(
        `SELECT t.name, t.initial_domain, u.display_name, u.upn, c.display_name AS client_name
           FROM tenants t
           LEFT JOIN directory_objects u ON u.id = $2::uuid AND u.tenant_id = t.id
           LEFT JOIN oidc_clients c ON c.client_id = $3 AND c.tenant_id = t.id
          WHERE t.id = $1`,
        [p.tenantId, p.userId, p.clientId],
      );
      const r = rows[0]!;
      return json({
        tenant: { id: p.tenantId, name: r.name, initialDomain: r.initial_domain },
        principal: p.kind === 'user'
          ? { type: 'user', id: p.userId, displayName: r.display_name, userPrincipalName: r.upn }
          : { type: p.kind, id: p.kind === 'agent' ? p.agentId : p.clientId, displayName: r.client_name },
        roles: roles.filter((role) => p.roles.has(role)).map((role) => ({ id: role, displayName: roleDisplayNames[role] })),
      });
    },
  }),
  tenantRoute({
    method: 'GET', path: '/api/v1/tenant', roles: [...directoryReaders, 'DirectorySynchronizationAccounts'],
    summary: 'The caller\'s tenant: name, domains, quotas, object count and whether directory synchronization is on.',
    handler: readTenant,
  }),
  tenantRoute({
    method: 'PATCH', path: '/api/v1/tenant', roles: ['GlobalAdministrator', 'HybridIdentityAdministrator'],
    summary: 'Changes the tenant\'s switches: directorySynchronizationEnabled, blockSoftMatch, blockHardMatchTakeover, passThroughAuthentication, passwordHashSync (off clears every synchronized password hash), forcePasswordChangeOnLogOn.',
    requestBody: tenantChanges,
    handler: async (ctx) => {
      const changes = await ctx.body(tenantChanges, 'the tenant changes');
      await ctx.cloud.store.transaction(async (tx) => {
        const w = await TenantWrite.begin(tx, ctx.principal.tenantId, ctx.cloud.config.quotas, actorOf(ctx.principal));
        const before = await readSwitches(tx, ctx.principal.tenantId);
        await tx.query(
          `UPDATE tenants SET block_soft_match = coalesce($2, block_soft_match), block_hard_match_takeover = coalesce($3, block_hard_match_takeover),
                  pass_through_auth = coalesce($4, pass_through_auth), password_hash_sync = coalesce($5, password_hash_sync),
                  force_password_change_on_logon = coalesce($6, force_password_change_on_logon) WHERE id = $1`,
          [ctx.principal.tenantId, changes.blockSoftMatch ?? null, changes.blockHardMatchTakeover ?? null, changes.passThroughAuthentication ?? null, changes.passwordHashSync ?? null, changes.forcePasswordChangeOnLogOn ?? null],
        );
        if (changes.passwordHashSync === false) {
          await tx.query('UPDATE directory_objects SET synced_password_hash = NULL, synced_password_at = NULL WHERE tenant_id = $1 AND synced_password_hash IS NOT NULL', [ctx.principal.tenantId]);
        }
        if (changes.directorySynchronizationEnabled === false) await turnDirectorySyncOff(w);
        if (changes.directorySynchronizationEnabled === true) {
          await tx.query('UPDATE tenants SET dir_sync_enabled = true, dir_sync_blocked = false WHERE id = $1', [ctx.principal.tenantId]);
        }
        await w.audit({ action: 'tenant.update', target: { type: 'tenant', id: ctx.principal.tenantId }, before, after: await readSwitches(tx, ctx.principal.tenantId) });
        await w.finish();
      });
      return readTenant(ctx);
    },
  }),
];
