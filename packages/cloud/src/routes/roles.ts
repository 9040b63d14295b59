import { z } from 'zod';
import { isRole, roleDisplayNames, roles, type Role } from '@skybridge/protocol';
import { json, noContent, tenantRoute, type RouteDef } from '../http/route.ts';
import { actorOf } from '../audit/audit-log.ts';
import { TenantWrite } from '../directory/tenant-lock.ts';
import { assignRole, badRole, isPrincipalType, listAssignments, removeRole, roleCounts, roleDescriptions, rolesOfUser } from '../roles/role-assignments.ts';
import { directoryReaders } from './directory.ts';
import { notFound } from '../http/problem.ts';
import { getObject } from '../directory/objects.ts';

/** Only a Global Administrator gives or takes roles. */
const roleAdmins: readonly Role[] = ['GlobalAdministrator'];
const roleOf = (v: string): Role => {
  if (!isRole(v)) throw badRole(v);
  return v;
};
const assignment = z.strictObject({ principalType: z.enum(['user', 'client']), principalId: z.string().min(1).max(200) });

export const roleRoutes: RouteDef[] = [
  tenantRoute({
    method: 'GET', path: '/api/v1/roles', roles: directoryReaders, summary: 'The admin roles, what each may do, and how many principals hold each.',
    handler: async (ctx) => {
      const counts = await roleCounts(ctx.cloud.store, ctx.principal.tenantId);
      return json({ items: roles.map((r) => ({ id: r, displayName: roleDisplayNames[r], description: roleDescriptions[r], memberCount: counts.get(r) ?? 0 })) });
    },
  }),
  tenantRoute({
    method: 'GET', path: '/api/v1/users/:id/roles', roles: directoryReaders, summary: 'The admin roles a user holds.',
    handler: async (ctx) => {
      const user = await getObject(ctx.cloud.store, ctx.principal.tenantId, 'user', ctx.params.id!);
      return json({ items: await rolesOfUser(ctx.cloud.store, ctx.principal.tenantId, user.id) });
    },
  }),
  tenantRoute({
    method: 'GET', path: '/api/v1/roles/:role/members', roles: directoryReaders, summary: 'Who holds a role: users and API clients.',
    handler: async (ctx) => json({ role: roleOf(ctx.params.role!), items: await listAssignments(ctx.cloud.store, ctx.principal.tenantId, roleOf(ctx.params.role!)) }),
  }),
  tenantRoute({
    method: 'POST', path: '/api/v1/roles/:role/members', roles: roleAdmins, summary: 'Gives a role to a user or an API client (Global Administrator only).',
    requestBody: assignment,
    handler: async (ctx) => {
      const role = roleOf(ctx.params.role!);
      const body = await ctx.body(assignment, 'the role assignment');
      const added = await ctx.cloud.store.transaction(async (tx) => {
        const w = await TenantWrite.begin(tx, ctx.principal.tenantId, ctx.cloud.config.quotas, actorOf(ctx.principal));
        const done = await assignRole(w, role, body.principalType, body.principalId);
        await w.finish();
        return done;
      });
      return json({ role, items: await listAssignments(ctx.cloud.store, ctx.principal.tenantId, role) }, added ? 201 : 200);
    },
  }),
  tenantRoute({
    method: 'DELETE', path: '/api/v1/roles/:role/members/:principalType/:principalId', roles: roleAdmins,
    summary: 'Takes a role away (Global Administrator only); the last user holding Global Administrator keeps it.',
    handler: async (ctx) => {
      const role = roleOf(ctx.params.role!);
      const type = ctx.params.principalType!;
      if (!isPrincipalType(type)) throw notFound(`a principal type ${type}: use user or client`);
      await ctx.cloud.store.transaction(async (tx) => {
        const w = await TenantWrite.begin(tx, ctx.principal.tenantId, ctx.cloud.config.quotas, actorOf(ctx.principal));
        await removeRole(w, role, type, ctx.params.principalId!);
        await w.finish();
      });
      return noContent();
    },
  }),
];
