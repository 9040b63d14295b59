import { actorOf } from '../audit/audit-log.ts';
/**
 * SCIM 2.0 at /scim/v2 (RFC 7644). The tenant comes from the access token;
 * errors are SCIM error bodies (the app turns every error under /scim/v2
 * into one); bodies are application/scim+json.
 */
import { tenantRoute, type Reply, type RequestContext, type RouteDef } from '../http/route.ts';
import type { Principal } from '../auth/principal.ts';
import { readJson } from '../http/validate.ts';
import { scimContentType, ScimError } from '../scim/errors.ts';
import { bulkLimits, runBulk } from '../scim/bulk.ts';
import { parseProjection, type Projection } from '../scim/projection.ts';
import { resourceTypes, schemaResource, schemas, schemaUris, type ResourceKind } from '../scim/schemas.ts';
import { createResource, deleteResource, etagMatches, getResource, listLimits, listResources, patchResource, replaceResource, type ListQuery, type ScimContext } from '../scim/service.ts';
import { etagOf } from '../scim/resources.ts';
import { maxMembersPerRequest } from '../scim/members.ts';
import { directoryReaders, directoryWriters } from './directory.ts';

export const scimBase = '/scim/v2';

const scim = (body: unknown, status = 200, headers: Record<string, string> = {}): Reply => ({ status, body, headers: { 'content-type': scimContentType, ...headers } });

function context(ctx: RequestContext<Principal>): ScimContext {
  return { store: ctx.cloud.store, tenantId: ctx.principal.tenantId, quotas: ctx.cloud.config.quotas, baseUrl: `${ctx.cloud.config.publicUrl}${scimBase}`, actor: actorOf(ctx.principal) };
}

function integer(raw: string | null | undefined, name: string): number | undefined {
  if (raw === null || raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new ScimError(400, 'invalidValue', `${name} must be a whole number (got ${JSON.stringify(raw)})`);
  return n;
}

function readOptions(kind: ResourceKind, q: { attributes?: string | string[] | null | undefined; excludedAttributes?: string | string[] | null | undefined; membersCount?: string | null | undefined; membersCursor?: string | null | undefined }) {
  const projection: Projection = parseProjection(kind, q.attributes, q.excludedAttributes);
  const membersCount = integer(q.membersCount, 'membersCount');
  if (membersCount !== undefined && (membersCount < 0 || membersCount > maxMembersPerRequest)) throw new ScimError(400, 'invalidValue', `membersCount must be from 0 to ${maxMembersPerRequest}`);
  return { projection, membersCount, membersCursor: q.membersCursor ?? null };
}

const fromQuery = (ctx: RequestContext<Principal>) => ({
  attributes: ctx.query.get('attributes'), excludedAttributes: ctx.query.get('excludedAttributes'),
  membersCount: ctx.query.get('membersCount'), membersCursor: ctx.query.get('membersCursor'),
});

async function body(ctx: RequestContext<Principal>, limit = ctx.cloud.config.bodyLimit): Promise<unknown> {
  return readJson(ctx.req, limit);
}

function resourceRoutes(kind: ResourceKind): RouteDef[] {
  const path = `${scimBase}${resourceTypes[kind].endpoint}`;
  const list = async (ctx: RequestContext<Principal>, query: ListQuery, options: ReturnType<typeof readOptions>) => scim(await listResources(context(ctx), kind, query, options));
  return [
    tenantRoute({
      method: 'GET', path, roles: directoryReaders, summary: `SCIM: lists or filters ${kind}s (filter, sortBy, sortOrder, startIndex, count, cursor, attributes, excludedAttributes).`,
      handler: (ctx) => list(ctx, {
        filter: ctx.query.get('filter') ?? undefined, sortBy: ctx.query.get('sortBy') ?? undefined, sortOrder: ctx.query.get('sortOrder') ?? undefined,
        startIndex: integer(ctx.query.get('startIndex'), 'startIndex'), count: integer(ctx.query.get('count'), 'count'), cursor: ctx.query.get('cursor') ?? undefined,
      }, readOptions(kind, fromQuery(ctx))),
    }),
    tenantRoute({
      method: 'POST', path: `${path}/.search`, roles: directoryReaders, summary: `SCIM: searches ${kind}s with a SearchRequest body.`,
      handler: async (ctx) => {
        const b = await body(ctx);
        if (!b || typeof b !== 'object' || Array.isArray(b)) throw new ScimError(400, 'invalidSyntax', 'the search request must be a JSON object');
        const r = b as Record<string, unknown>;
        if (!Array.isArray(r.schemas) || !r.schemas.includes(schemaUris.searchRequest)) throw new ScimError(400, 'invalidSyntax', `schemas must be ["${schemaUris.searchRequest}"]`);
        const str = (k: string) => {
          const v = r[k];
          if (v !== undefined && typeof v !== 'string') throw new ScimError(400, 'invalidValue', `${k} must be a string`);
          return v as string | undefined;
        };
        const num = (k: string) => {
          const v = r[k];
          if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v))) throw new ScimError(400, 'invalidValue', `${k} must be a whole number`);
          return v as number | undefined;
        };
        const listOf = (k: string) => {
          const v = r[k];
          if (v === undefined) return undefined;
          if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ScimError(400, 'invalidValue', `${k} must be an array of attribute names`);
          return v as string[];
        };
        return list(ctx, { filter: str('filter'), sortBy: str('sortBy'), sortOrder: str('sortOrder'), startIndex: num('startIndex'), count: num('count'), cursor: str('cursor') },
          readOptions(kind, { attributes: listOf('attributes'), excludedAttributes: listOf('excludedAttributes') }));
      },
    }),
    tenantRoute({
      method: 'POST', path, roles: directoryWriters, summary: `SCIM: creates a cloud ${kind}.`,
      handler: async (ctx) => {
        const r = await createResource(context(ctx), kind, await body(ctx), readOptions(kind, fromQuery(ctx)));
        return scim(r.resource, 201, { location: String(r.resource.meta && (r.resource.meta as { location: string }).location), etag: etagOf(r.row) });
      },
    }),
    tenantRoute({
      method: 'GET', path: `${path}/:id`, roles: directoryReaders, summary: `SCIM: reads a ${kind}${kind === 'Group' ? ' (members a page at a time: membersCount, membersCursor)' : ''}.`,
      handler: async (ctx) => {
        const r = await getResource(context(ctx), kind, ctx.params.id!, readOptions(kind, fromQuery(ctx)));
        const ifNoneMatch = ctx.req.headers.get('if-none-match');
        if (ifNoneMatch && etagMatches(ifNoneMatch, r.row)) return { status: 304, headers: { etag: etagOf(r.row) } };
        return scim(r.resource, 200, { etag: etagOf(r.row) });
      },
    }),
    tenantRoute({
      method: 'PUT', path: `${path}/:id`, roles: directoryWriters, summary: `SCIM: replaces a ${kind} (If-Match honoured).`,
      handler: async (ctx) => {
        const r = await replaceResource(context(ctx), kind, ctx.params.id!, await body(ctx), ctx.req.headers.get('if-match'), readOptions(kind, fromQuery(ctx)));
        return scim(r.resource, 200, { etag: etagOf(r.row) });
      },
    }),
    tenantRoute({
      method: 'PATCH', path: `${path}/:id`, roles: directoryWriters,
      summary: `SCIM: changes a ${kind} (add, remove, replace; If-Match honoured)${kind === 'Group' ? '; answers 204, or 200 with the group when attributes are asked for' : ''}.`,
      handler: async (ctx) => {
        const q = fromQuery(ctx);
        // A group's PATCH answers 204 unless the caller asks for attributes: a one-member change to a huge group reads nothing more.
        const returnResource = kind === 'User' || q.attributes !== null;
        const r = await patchResource(context(ctx), kind, ctx.params.id!, await body(ctx), ctx.req.headers.get('if-match'), { ...readOptions(kind, q), returnResource });
        return r.resource ? scim(r.resource, 200, { etag: etagOf(r.row) }) : { status: 204, headers: { etag: etagOf(r.row) } };
      },
    }),
    tenantRoute({
      method: 'DELETE', path: `${path}/:id`, roles: directoryWriters, summary: `SCIM: deletes a cloud ${kind} (If-Match honoured).`,
      handler: async (ctx) => {
        await deleteResource(context(ctx), kind, ctx.params.id!, ctx.req.headers.get('if-match'));
        return { status: 204 };
      },
    }),
  ];
}

export function serviceProviderConfig(baseUrl: string): Record<string, unknown> {
  return {
    schemas: [schemaUris.serviceProviderConfig],
    documentationUri: 'https://github.com/skybridge/skybridge/blob/main/docs/scim.md',
    patch: { supported: true },
    bulk: { supported: true, maxOperations: bulkLimits.maxOperations, maxPayloadSize: bulkLimits.maxPayloadSize },
    filter: { supported: true, maxResults: listLimits.maxResults },
    changePassword: { supported: true },
    sort: { supported: true },
    etag: { supported: true },
    // RFC 9865: both index and cursor pagination
    pagination: { cursor: true, index: true, defaultPaginationMethod: 'index', defaultPageSize: listLimits.defaultCount, maxPageSize: listLimits.maxResults, cursorTimeout: 0 },
    authenticationSchemes: [{
      type: 'oauthbearertoken', name: 'OAuth Bearer Token', primary: true,
      description: 'An access token of the tenant (client credentials at /{tenant}/v2.0/token, resource {publicUrl}/api)',
      specUri: 'https://www.rfc-editor.org/info/rfc6750',
    }],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

function resourceTypeResource(kind: ResourceKind, baseUrl: string): Record<string, unknown> {
  const t = resourceTypes[kind];
  return {
    schemas: [schemaUris.resourceType], id: t.name, name: t.name, endpoint: t.endpoint,
    description: kind === 'User' ? 'User Account' : 'Group', schema: t.schema,
    schemaExtensions: t.extensions.map((e) => ({ schema: e, required: false })),
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${t.name}` },
  };
}

const listOf = (resources: unknown[]) => ({ schemas: [schemaUris.listResponse], totalResults: resources.length, itemsPerPage: resources.length, startIndex: 1, Resources: resources });
const baseOf = (ctx: RequestContext<Principal>) => `${ctx.cloud.config.publicUrl}${scimBase}`;

const discoveryRoutes: RouteDef[] = [
  tenantRoute({ method: 'GET', path: `${scimBase}/ServiceProviderConfig`, roles: directoryReaders, summary: 'SCIM: what this service provider supports.', handler: async (ctx) => scim(serviceProviderConfig(baseOf(ctx))) }),
  tenantRoute({ method: 'GET', path: `${scimBase}/ResourceTypes`, roles: directoryReaders, summary: 'SCIM: the resource types (User, Group).', handler: async (ctx) => scim(listOf((['User', 'Group'] as const).map((k) => resourceTypeResource(k, baseOf(ctx))))) }),
  tenantRoute({
    method: 'GET', path: `${scimBase}/ResourceTypes/:name`, roles: directoryReaders, summary: 'SCIM: one resource type.',
    handler: async (ctx) => {
      const kind = (['User', 'Group'] as const).find((k) => k.toLowerCase() === ctx.params.name!.toLowerCase());
      if (!kind) throw new ScimError(404, undefined, `there is no resource type ${ctx.params.name} (there are User and Group)`);
      return scim(resourceTypeResource(kind, baseOf(ctx)));
    },
  }),
  tenantRoute({ method: 'GET', path: `${scimBase}/Schemas`, roles: directoryReaders, summary: 'SCIM: the schemas and their attributes.', handler: async (ctx) => scim(listOf(schemas.map((s) => schemaResource(s, baseOf(ctx))))) }),
  tenantRoute({
    method: 'GET', path: `${scimBase}/Schemas/:id`, roles: directoryReaders, summary: 'SCIM: one schema.',
    handler: async (ctx) => {
      // (the router hands parameters over decoded already; a malformed %-escape stays as sent, and names no schema)
      const id = ctx.params.id!.toLowerCase();
      const s = schemas.find((x) => x.id.toLowerCase() === id);
      if (!s) throw new ScimError(404, undefined, `there is no schema ${ctx.params.id}`);
      return scim(schemaResource(s, baseOf(ctx)));
    },
  }),
  tenantRoute({
    method: 'POST', path: `${scimBase}/Bulk`, roles: directoryWriters, summary: `SCIM: up to ${bulkLimits.maxOperations} operations in one request (bulkId references, failOnErrors).`,
    handler: async (ctx) => scim(await runBulk(context(ctx), await body(ctx, bulkLimits.maxPayloadSize))),
  }),
];

export const scimRoutes: RouteDef[] = [...discoveryRoutes, ...resourceRoutes('User'), ...resourceRoutes('Group')];
