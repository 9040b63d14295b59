import { z } from 'zod';
import { json, tenantRoute, type RouteDef } from '../http/route.ts';
import { listFilters, newestFirst } from '../directory/pagination.ts';
import { directoryReaders } from './directory.ts';

const filters = z.strictObject({
  userId: z.uuid().optional(),
  clientId: z.string().max(200).optional(),
  result: z.enum(['success', 'failure']).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
});

export const signInRoutes: RouteDef[] = [
  tenantRoute({
    method: 'GET', path: '/api/v1/sign-ins', roles: directoryReaders,
    summary: 'The sign-in log, newest first: who, when, to which app, how (method), the result with its reason, from where, through which agent; filter by userId, clientId, result, since.',
    handler: async (ctx) => {
      const f = listFilters(ctx.query, filters, 'the sign-in log filter (userId, clientId, result, since)');
      const paging = newestFirst(ctx.query);
      const { rows } = await ctx.cloud.store.query<{ id: string | number; at: Date | string; user_id: string | null; user_principal_name: string | null; client_id: string | null; app_name: string | null; method: string; result: string; error_code: string | null; source_ip: string | null; user_agent: string | null; agent_id: string | null }>(
        `SELECT id, at, user_id, coalesce(user_principal_name, (SELECT upn FROM directory_objects WHERE id = e.user_id)) AS user_principal_name,
                client_id, app_name, method, result, error_code, source_ip, user_agent, agent_id
           FROM sign_in_events e
          WHERE tenant_id = $1 AND ($2::bigint IS NULL OR id < $2) AND ($3::uuid IS NULL OR user_id = $3) AND ($4::text IS NULL OR client_id = $4)
            AND ($5::text IS NULL OR result = $5) AND ($6::timestamptz IS NULL OR at >= $6)
          ORDER BY id DESC LIMIT $7`,
        [ctx.principal.tenantId, paging.below, f.userId ?? null, f.clientId ?? null, f.result ?? null, f.since ?? null, paging.limit + 1],
      );
      const { page, nextCursor } = paging.finish(rows);
      return json({
        items: page.map((r) => ({
          id: String(r.id), createdDateTime: new Date(r.at).toISOString(), userId: r.user_id, userPrincipalName: r.user_principal_name,
          appId: r.client_id, appDisplayName: r.app_name, method: r.method, result: r.result, failureReason: r.error_code,
          ipAddress: r.source_ip, userAgent: r.user_agent, agentId: r.agent_id,
        })),
        nextCursor,
      });
    },
  }),
];
