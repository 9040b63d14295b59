import type { Role } from '@skybridge/protocol';
import { json, tenantRoute, type RouteDef } from '../http/route.ts';
import { actorOf, recordAudit } from '../audit/audit-log.ts';
import { rotateSigningKeys } from '../auth/signing-keys.ts';
import { directoryReaders } from './directory.ts';

const keyAdmins: readonly Role[] = ['GlobalAdministrator'];

export const signingKeyRoutes: RouteDef[] = [
  tenantRoute({
    method: 'GET', path: '/api/v1/signing-keys', roles: directoryReaders,
    summary: 'The tenant\'s token-signing keys: which sign now, which are still published for tokens already issued, which are retired.',
    handler: async (ctx) => {
      const { rows } = await ctx.cloud.store.query<{ kid: string; alg: string; created_at: Date | string; retired_at: Date | string | null }>(
        `SELECT kid, private_jwk->>'alg' AS alg, created_at, retired_at FROM signing_keys WHERE tenant_id = $1 ORDER BY created_at DESC, kid`,
        [ctx.principal.tenantId],
      );
      const newest = rows.find((r) => !r.retired_at)?.created_at;
      return json({
        items: rows.map((r) => ({
          kid: r.kid, alg: r.alg, createdDateTime: new Date(r.created_at).toISOString(),
          status: r.retired_at ? 'retired' : newest && new Date(r.created_at).getTime() === new Date(newest).getTime() ? 'signing' : 'published',
          retiredDateTime: r.retired_at ? new Date(r.retired_at).toISOString() : null,
        })),
      });
    },
  }),
  tenantRoute({
    method: 'POST', path: '/api/v1/signing-keys/rotate', roles: keyAdmins,
    summary: 'Rotates the token-signing keys: a new pair signs, the previous pair stays published for tokens it signed, the one before is retired.',
    handler: async (ctx) => {
      const { tenantId } = ctx.principal;
      const result = await ctx.cloud.store.transaction(async (tx) => {
        await tx.query('SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE', [tenantId]);
        const r = await rotateSigningKeys(tx, tenantId);
        await recordAudit(tx, tenantId, actorOf(ctx.principal), { action: 'signingKeys.rotate', target: { type: 'signingKeys' }, after: r });
        return r;
      });
      ctx.cloud.oidc.invalidate(tenantId);
      ctx.cloud.tokens.forget(tenantId);
      return json(result);
    },
  }),
];
