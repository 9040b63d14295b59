import { z } from 'zod';
import { contactAttributes, groupAttributes, userAttributes, type ObjectType, type Role } from '@skybridge/protocol';
import { json, noContent, tenantRoute, type RequestContext, type RouteDef } from '../http/route.ts';
import type { Principal } from '../auth/principal.ts';
import type { Queryable } from '../store/store.ts';
import { SkybridgeError, notFound } from '../http/problem.ts';
import { getObject, isUuid, presentObject } from '../directory/objects.ts';
import { createCloudObject, deleteCloudObject, updateObject } from '../directory/admin-writes.ts';
import { decodeCursor, encodeCursor, pageSize } from '../directory/pagination.ts';
import { parseListQuery, searchObjects } from '../directory/object-search.ts';
import { TenantWrite } from '../directory/tenant-lock.ts';
import { addMembers, removeMembers } from '../directory/memberships.ts';
import { actorOf } from '../audit/audit-log.ts';

/** Who may read the directory, change it, and change cloud-owned fields (licences, usage location). */
export const directoryReaders: readonly Role[] = ['GlobalAdministrator', 'HybridIdentityAdministrator', 'UserAdministrator', 'LicenseAdministrator'];
export const directoryWriters: readonly Role[] = ['GlobalAdministrator', 'UserAdministrator'];
export const cloudFieldWriters: readonly Role[] = ['GlobalAdministrator', 'UserAdministrator', 'LicenseAdministrator'];

const onPremisesFields = { onPremisesDistinguishedName: true, onPremisesSecurityIdentifier: true, onPremisesSamAccountName: true, onPremisesDomainName: true } as const;
const usageLocation = z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166 two-letter country code such as US or FR');

const createSchemas = {
  user: userAttributes.omit(onPremisesFields).extend({ usageLocation: usageLocation.optional() }),
  group: groupAttributes.omit(onPremisesFields),
  contact: contactAttributes.omit(onPremisesFields),
} as const;

/** PATCH bodies: any creatable field, null to remove an optional one. */
function patchSchema<S extends z.ZodObject>(schema: S) {
  const shape = Object.fromEntries(Object.entries(schema.shape).map(([k, s]) => [k, z.union([s as z.ZodType, z.null()]).optional()]));
  return z.strictObject(shape);
}
const patchSchemas = { user: patchSchema(createSchemas.user), group: patchSchema(createSchemas.group), contact: patchSchema(createSchemas.contact) };

const collections: Record<ObjectType, string> = { user: 'users', group: 'groups', contact: 'contacts' };

function splitFields(body: Record<string, unknown>) {
  const { usageLocation: ul, ...attributes } = body;
  return { attributes, fields: ul === undefined ? {} : { usageLocation: ul as string | null } };
}

async function listObjects(ctx: RequestContext<Principal>, type: ObjectType) {
  const limit = pageSize(ctx.query);
  const { rows, nextCursor } = await searchObjects(ctx.cloud.store, ctx.principal.tenantId, type, parseListQuery(ctx.query), limit);
  return json({ items: rows.map(presentObject), nextCursor });
}

function objectRoutes(type: ObjectType): RouteDef[] {
  const base = `/api/v1/${collections[type]}`;
  return [
    tenantRoute({
      method: 'GET', path: base, roles: directoryReaders, summary: `Lists the tenant's ${collections[type]}, a page at a time (limit, cursor); search= finds a prefix of the display name, UPN or mail; filter= synced, cloud, licensed, unlicensed or blocked; orderBy=displayName sorts by name.`,
      handler: (ctx) => listObjects(ctx, type),
    }),
    tenantRoute({
      method: 'POST', path: base, roles: directoryWriters, summary: `Creates a cloud ${type}.`,
      handler: async (ctx) => {
        const body = (await ctx.body(createSchemas[type], `the ${type}`)) as Record<string, unknown>;
        const { attributes, fields } = splitFields(body);
        const row = await createCloudObject(ctx.cloud.store, ctx.principal.tenantId, ctx.cloud.config.quotas, actorOf(ctx.principal), type, attributes, fields);
        return json(presentObject(row), 201, { location: `${base}/${row.id}` });
      },
    }),
    tenantRoute({
      method: 'GET', path: `${base}/:id`, roles: directoryReaders, summary: `Reads one ${type}.`,
      handler: async (ctx) => json(presentObject(await getObject(ctx.cloud.store, ctx.principal.tenantId, type, ctx.params.id!))),
    }),
    tenantRoute({
      method: 'PATCH', path: `${base}/:id`, roles: cloudFieldWriters,
      summary: `Changes a ${type}; a synced ${type} takes only cloud-owned fields (usageLocation).`,
      handler: async (ctx) => {
        const body = (await ctx.body(patchSchemas[type], `the changes to the ${type}`)) as Record<string, unknown>;
        const { attributes, fields } = splitFields(body);
        const onlyCloudFields = Object.keys(attributes).length === 0;
        if (!onlyCloudFields && !ctx.principal.roles.has('GlobalAdministrator') && !ctx.principal.roles.has('UserAdministrator')) {
          // a License Administrator changes usage location only; do not reveal whether the object exists before checking
          await getObject(ctx.cloud.store, ctx.principal.tenantId, type, ctx.params.id!);
          throw new SkybridgeError('forbidden', 'a License Administrator can change only usageLocation: ask a User Administrator for other changes');
        }
        const row = await updateObject(ctx.cloud.store, ctx.principal.tenantId, ctx.cloud.config.quotas, actorOf(ctx.principal), type, ctx.params.id!, attributes, fields);
        return json(presentObject(row));
      },
    }),
    tenantRoute({
      method: 'DELETE', path: `${base}/:id`, roles: directoryWriters, summary: `Deletes a cloud ${type}.`,
      handler: async (ctx) => {
        await deleteCloudObject(ctx.cloud.store, ctx.principal.tenantId, ctx.cloud.config.quotas, actorOf(ctx.principal), type, ctx.params.id!);
        return noContent();
      },
    }),
  ];
}

async function liveObject(q: Queryable, tenantId: string, id: string): Promise<{ id: string; object_type: ObjectType }> {
  if (isUuid(id)) {
    const { rows } = await q.query<{ id: string; object_type: ObjectType }>(
      'SELECT id, object_type FROM directory_objects WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL',
      [tenantId, id.toLowerCase()],
    );
    if (rows[0]) return rows[0];
  }
  throw notFound(`the object ${id}`);
}

const memberBody = z.strictObject({ memberId: z.string().min(1).max(64) });

async function changeMembership(ctx: RequestContext<Principal>, memberId: string, add: boolean) {
  await ctx.cloud.store.transaction(async (tx) => {
    const w = await TenantWrite.begin(tx, ctx.principal.tenantId, ctx.cloud.config.quotas, actorOf(ctx.principal));
    const group = await getObject(tx, ctx.principal.tenantId, 'group', ctx.params.id!, true);
    if (group.source === 'onprem') {
      throw new SkybridgeError('read_only_synced_object', `the group ${group.id} is synchronized from on-premises Active Directory: change its members there`);
    }
    const member = await liveObject(tx, ctx.principal.tenantId, memberId);
    if (member.id === group.id) throw new SkybridgeError('invalid_request', 'a group cannot be a member of itself');
    const n = add ? await addMembers(w, group.id, [member.id]) : await removeMembers(w, group.id, [member.id]);
    if (n > 0) {
      await tx.query('UPDATE directory_objects SET version = version + 1, updated_at = now() WHERE id = $1', [group.id]);
      await w.audit({ action: 'group.members.update', target: { type: 'group', id: group.id, name: group.display_name }, after: { [add ? 'added' : 'removed']: [member.id] } });
    }
    await w.finish();
  });
}

const memberRoutes: RouteDef[] = [
  tenantRoute({
    method: 'GET', path: '/api/v1/groups/:id/members', roles: directoryReaders,
    summary: 'Lists a group\'s direct members, a page at a time; never loads the whole group.',
    handler: async (ctx) => {
      const group = await getObject(ctx.cloud.store, ctx.principal.tenantId, 'group', ctx.params.id!);
      const limit = pageSize(ctx.query);
      const cursor = decodeCursor(ctx.query.get('cursor'), (v): v is { id: string } => typeof v.id === 'string' && isUuid(v.id));
      const { rows } = await ctx.cloud.store.query<{ id: string; object_type: string; display_name: string | null; upn: string | null; mail: string | null }>(
        `SELECT o.id, o.object_type, o.display_name, o.upn, o.mail
           FROM memberships m JOIN directory_objects o ON o.id = m.member_id
          WHERE m.group_id = $1 AND m.tenant_id = $2 AND NOT m.removed AND m.member_id > $3::uuid
          ORDER BY m.member_id LIMIT $4`,
        [group.id, ctx.principal.tenantId, cursor?.id ?? '00000000-0000-0000-0000-000000000000', limit + 1],
      );
      const page = rows.slice(0, limit);
      return json({
        items: page.map((r) => ({ id: r.id, type: r.object_type, displayName: r.display_name, userPrincipalName: r.upn, mail: r.mail })),
        nextCursor: rows.length > limit ? encodeCursor({ id: page.at(-1)!.id }) : null,
      });
    },
  }),
  tenantRoute({
    method: 'POST', path: '/api/v1/groups/:id/members', roles: directoryWriters, summary: 'Adds a member (user, group or contact) to a cloud group.',
    handler: async (ctx) => {
      const { memberId } = await ctx.body(memberBody, 'the member');
      await changeMembership(ctx, memberId, true);
      return noContent();
    },
  }),
  tenantRoute({
    method: 'DELETE', path: '/api/v1/groups/:id/members/:memberId', roles: directoryWriters, summary: 'Removes a member from a cloud group.',
    handler: async (ctx) => {
      await changeMembership(ctx, ctx.params.memberId!, false);
      return noContent();
    },
  }),
];

export const directoryRoutes: RouteDef[] = [...objectRoutes('user'), ...objectRoutes('group'), ...objectRoutes('contact'), ...memberRoutes];
