import { z } from 'zod';
import type { Role } from '@skybridge/protocol';
import { json, tenantRoute, type RouteDef } from '../http/route.ts';
import { auditActions } from '../audit/audit-log.ts';
import { listFilters, newestFirst } from '../directory/pagination.ts';

/** Who reads the audit log. */
const auditReaders: readonly Role[] = ['GlobalAdministrator', 'HybridIdentityAdministrator', 'UserAdministrator', 'LicenseAdministrator'];
const filters = z.strictObject({
  action: z.enum(auditActions).optional(),
  targetId: z.string().max(200).optional(),
  actorId: z.string().max(200).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
});

export const auditRoutes: RouteDef[] = [
  tenantRoute({
    method: 'GET', path: '/api/v1/audit-logs', roles: auditReaders,
    summary: 'The audit log, newest first: who did what, when, to what, with the state before and after; filter by action, targetId, actorId, since, until.',
    handler: async (ctx) => {
      const f = listFilters(ctx.query, filters, 'the audit log filter (action, targetId, actorId, since, until)');
      const paging = newestFirst(ctx.query);
      const { rows } = await ctx.cloud.store.query<{ id: string | number; at: Date | string; actor_type: string; actor_id: string; actor_name: string | null; action: string; target_type: string; target_id: string | null; target_name: string | null; before: unknown; after: unknown }>(
        `SELECT id, at, actor_type, actor_id, actor_name, action, target_type, target_id, target_name, before, after FROM audit_log
          WHERE tenant_id = $1 AND ($2::bigint IS NULL OR id < $2) AND ($3::text IS NULL OR action = $3) AND ($4::text IS NULL OR target_id = $4)
            AND ($5::text IS NULL OR actor_id = $5) AND ($6::timestamptz IS NULL OR at >= $6) AND ($7::timestamptz IS NULL OR at < $7)
          ORDER BY id DESC LIMIT $8`,
        [ctx.principal.tenantId, paging.below, f.action ?? null, f.targetId ?? null, f.actorId ?? null, f.since ?? null, f.until ?? null, paging.limit + 1],
      );
      const { page, nextCursor } = paging.finish(rows);
      return json({
        items: page.map((r) => ({
          id: String(r.id), activityDateTime: new Date(r.at).toISOString(), action: r.action,
          initiatedBy: { type: r.actor_type, id: r.actor_id, displayName: r.actor_name },
          target: { type: r.target_type, id: r.target_id, displayName: r.target_name },
          before: r.before, after: r.after,
        })),
        nextCursor,
      });
    },
  }),
];
