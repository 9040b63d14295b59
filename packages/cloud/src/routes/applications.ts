import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { isServicePlan, servicePlans, type Role } from '@skybridge/protocol';
import { json, noContent, tenantRoute, type RouteDef } from '../http/route.ts';
import type { Queryable } from '../store/store.ts';
import { notFound } from '../http/problem.ts';
import { actorOf, recordAudit } from '../audit/audit-log.ts';
import { hashSecret, randomSecret } from '../auth/secrets.ts';
import { getObject } from '../directory/objects.ts';
import { holdsServicePlan } from '../licences/assignments.ts';
import { directoryReaders } from './directory.ts';

/** Who registers applications. */
const appAdmins: readonly Role[] = ['GlobalAdministrator', 'HybridIdentityAdministrator'];
const plan = z.string().refine(isServicePlan, `must be a service plan: ${Object.keys(servicePlans).join(', ')}`);
const redirectUri = z.url({ protocol: /^https?$/ }).refine((u) => u.startsWith('https://') || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(u), 'must be https (plain http only on loopback)');
const appFields = {
  displayName: z.string().trim().min(1).max(256),
  redirectUris: z.array(redirectUri).min(1).max(20),
  /** sign-in to the app is refused to users without a licence holding each of these plans */
  requiredServicePlans: z.array(plan).max(10).default([]),
};
const createApp = z.strictObject(appFields);
const patchApp = z.strictObject({ displayName: appFields.displayName.optional(), redirectUris: appFields.redirectUris.optional(), requiredServicePlans: z.array(plan).max(10).optional() });

interface AppRow { client_id: string; display_name: string; metadata: { redirect_uris: string[] }; required_service_plans: string[]; created_at: Date | string }
const present = (r: AppRow) => ({
  clientId: r.client_id, displayName: r.display_name, redirectUris: r.metadata.redirect_uris, requiredServicePlans: r.required_service_plans,
  createdDateTime: new Date(r.created_at).toISOString(),
});

async function findApp(q: Queryable, tenantId: string, clientId: string, lock = false): Promise<AppRow> {
  const { rows } = await q.query<AppRow>(
    `SELECT client_id, display_name, metadata, required_service_plans, created_at FROM oidc_clients WHERE tenant_id = $1 AND client_id = $2 AND kind = 'app'${lock ? ' FOR UPDATE' : ''}`,
    [tenantId, clientId],
  );
  if (!rows[0]) throw notFound(`the application ${clientId}`);
  return rows[0];
}

/**
 * Whether a user may sign in to an application: the sign-in flow asks this
 * after the user is authenticated. A licence gates an app that requires a
 * service plan.
 */
export async function applicationAccess(q: Queryable, tenantId: string, clientId: string, userId: string) {
  const app = await findApp(q, tenantId, clientId);
  const user = await getObject(q, tenantId, 'user', userId);
  const missing: string[] = [];
  for (const p of app.required_service_plans) if (!(await holdsServicePlan(q, tenantId, user.id, p))) missing.push(p);
  return {
    allowed: missing.length === 0 && user.account_enabled,
    missingServicePlans: missing,
    message: !user.account_enabled ? 'the account is disabled'
      : missing.length ? `${app.display_name} needs a licence that includes ${missing.join(', ')}: ask your administrator to assign one to you` : 'allowed',
  };
}

export const applicationRoutes: RouteDef[] = [
  tenantRoute({
    method: 'GET', path: '/api/v1/applications', roles: directoryReaders, summary: 'Lists the applications registered to sign users in through the tenant.',
    handler: async (ctx) => {
      const { rows } = await ctx.cloud.store.query<AppRow>(
        `SELECT client_id, display_name, metadata, required_service_plans, created_at FROM oidc_clients WHERE tenant_id = $1 AND kind = 'app' ORDER BY created_at, client_id`,
        [ctx.principal.tenantId],
      );
      return json({ items: rows.map(present) });
    },
  }),
  tenantRoute({
    method: 'POST', path: '/api/v1/applications', roles: appAdmins,
    summary: 'Registers an application (OpenID Connect, authorization code with PKCE); returns its client secret once. requiredServicePlans gates sign-in by licence.',
    requestBody: createApp,
    handler: async (ctx) => {
      const body = await ctx.body(createApp, 'the application');
      const clientId = `app-${randomUUID()}`;
      const clientSecret = randomSecret('sbs_');
      const row = await ctx.cloud.store.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO oidc_clients (client_id, tenant_id, kind, display_name, metadata, required_service_plans) VALUES ($1, $2, 'app', $3, $4, $5)`,
          [clientId, ctx.principal.tenantId, body.displayName, {
            client_id: clientId, client_secret: hashSecret(clientSecret), grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
            redirect_uris: body.redirectUris, token_endpoint_auth_method: 'client_secret_basic',
          }, body.requiredServicePlans],
        );
        const app = await findApp(tx, ctx.principal.tenantId, clientId);
        await recordAudit(tx, ctx.principal.tenantId, actorOf(ctx.principal), { action: 'application.create', target: { type: 'application', id: clientId, name: body.displayName }, after: present(app) });
        return app;
      });
      return json({ ...present(row), clientSecret }, 201, { location: `/api/v1/applications/${clientId}` });
    },
  }),
  tenantRoute({
    method: 'GET', path: '/api/v1/applications/:clientId', roles: directoryReaders, summary: 'Reads one application.',
    handler: async (ctx) => json(present(await findApp(ctx.cloud.store, ctx.principal.tenantId, ctx.params.clientId!))),
  }),
  tenantRoute({
    method: 'PATCH', path: '/api/v1/applications/:clientId', roles: appAdmins, summary: 'Changes an application\'s name, redirect URIs or required service plans.',
    requestBody: patchApp,
    handler: async (ctx) => {
      const body = await ctx.body(patchApp, 'the application changes');
      const row = await ctx.cloud.store.transaction(async (tx) => {
        const before = await findApp(tx, ctx.principal.tenantId, ctx.params.clientId!, true);
        await tx.query(
          `UPDATE oidc_clients SET display_name = coalesce($3, display_name), required_service_plans = coalesce($4, required_service_plans),
                  metadata = CASE WHEN $5::jsonb IS NULL THEN metadata ELSE jsonb_set(metadata, '{redirect_uris}', $5::jsonb) END
            WHERE tenant_id = $1 AND client_id = $2`,
          [ctx.principal.tenantId, before.client_id, body.displayName ?? null, body.requiredServicePlans ?? null, body.redirectUris ? JSON.stringify(body.redirectUris) : null],
        );
        const after = await findApp(tx, ctx.principal.tenantId, before.client_id);
        await recordAudit(tx, ctx.principal.tenantId, actorOf(ctx.principal), { action: 'application.update', target: { type: 'application', id: before.client_id, name: after.display_name }, before: present(before), after: present(after) });
        return after;
      });
      return json(present(row));
    },
  }),
  tenantRoute({
    method: 'DELETE', path: '/api/v1/applications/:clientId', roles: appAdmins, summary: 'Removes an application: its users can no longer sign in to it.',
    handler: async (ctx) => {
      await ctx.cloud.store.transaction(async (tx) => {
        const app = await findApp(tx, ctx.principal.tenantId, ctx.params.clientId!, true);
        await tx.query(`DELETE FROM oidc_clients WHERE tenant_id = $1 AND client_id = $2 AND kind = 'app'`, [ctx.principal.tenantId, app.client_id]);
        await recordAudit(tx, ctx.principal.tenantId, actorOf(ctx.principal), { action: 'application.delete', target: { type: 'application', id: app.client_id, name: app.display_name }, before: present(app) });
      });
      return noContent();
    },
  }),
  tenantRoute({
    method: 'GET', path: '/api/v1/applications/:clientId/access/:userId', roles: directoryReaders,
    summary: 'Whether a user may sign in to the application, and the licence missing when not (the check the sign-in flow makes).',
    handler: async (ctx) => json(await applicationAccess(ctx.cloud.store, ctx.principal.tenantId, ctx.params.clientId!, ctx.params.userId!)),
  }),
];
