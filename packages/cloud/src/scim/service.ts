/**
 * SCIM operations on the tenant's directory: create, read, list and search,
 * replace, patch, delete. Each write is one transaction under the tenant's
 * write lock, as every directory write is; ETags are the object's version.
 */
import { createHash } from 'node:crypto';
import type { Quotas } from '@skybridge/protocol';
import type { Store, Queryable } from '../store/store.ts';
import type { Actor } from '../audit/audit-log.ts';
import { TenantWrite } from '../directory/tenant-lock.ts';
import { getObject, isUuid, objectColumns, sameJson, type ObjectRow } from '../directory/objects.ts';
import { insertCloudObject, removeCloudObject, rewriteObject, type CloudFields } from '../directory/admin-writes.ts';
import { decodeCursor, encodeCursor } from '../directory/pagination.ts';
import { hashPassword } from '../auth/secrets.ts';
import { SkybridgeError } from '../http/problem.ts';
import { ScimError } from './errors.ts';
import { parseAttrPath, parseFilter } from './filter/parse.ts';
import { filterToSql, sortExpression, SqlParams } from './filter/to-sql.ts';
import { normalizeResource, type Json, type JsonObject } from './normalize.ts';
import { applyOperation, isMembersOperation, patchRequest, targetOperations } from './patch.ts';
import { applyProjection, projects, type Projection } from './projection.ts';
import { etagOf, groupFromScim, groupToScim, onPremisesKeys, userFromScim, userToScim, type DirectoryForm, type GroupMember } from './resources.ts';
import { addGroupMembers, defaultMembersPerGroup, defaultMembersPerListedGroup, maxMembersPerRequest, memberPage, removeGroupMembers, replaceGroupMembers } from './members.ts';
import { schemaUris, type ResourceKind } from './schemas.ts';

export interface ScimContext {
  store: Store;
  tenantId: string;
  quotas: Quotas;
  /** https://host/scim/v2 */
  baseUrl: string;
  /** who is acting, for the audit log */
  actor: Actor;
}

export const listLimits = { defaultCount: 100, maxResults: 1000 } as const;
/** A user's groups returned with it, at most. */
export const maxGroupsPerUser = 1000;

const typeOf = (kind: ResourceKind) => (kind === 'User' ? 'user' : 'group') as 'user' | 'group';

export interface ReadOptions {
  projection: Projection;
  membersCount?: number | undefined;
  membersCursor?: string | null | undefined;
}

export interface ResourceResult {
  row: ObjectRow;
  resource: JsonObject;
}

/** Matches an If-Match or If-None-Match header against the row's ETag (weak comparison, `*` matches any). */
export function etagMatches(header: string, row: Pick<ObjectRow, 'version'>): boolean {
  const mine = String(row.version);
  return header.split(',').map((t) => t.trim()).some((t) => t === '*' || t.replace(/^W\//, '').replace(/^"|"$/g, '') === mine);
}

function checkIfMatch(row: ObjectRow, ifMatch: string | null | undefined): void {
  if (ifMatch && !etagMatches(ifMatch, row)) {
    throw new SkybridgeError('precondition_failed', `the ${row.object_type} ${row.id} has changed: its version is ${etagOf(row)}, the request expected ${ifMatch}; read it again and retry`);
  }
}

async function groupsOfUsers(q: Queryable, tenantId: string, userIds: string[]): Promise<Map<string, { id: string; displayName: string | null }[]>> {
  const out = new Map<string, { id: string; displayName: string | null }[]>();
  if (userIds.length === 0) return out;
  const { rows } = await q.query<{ member_id: string; id: string; display_name: string | null }>(
    `SELECT u.id AS member_id, g.id, g.display_name
       FROM unnest($2::uuid[]) AS u(id)
       CROSS JOIN LATERAL (
         SELECT x.id, x.display_name FROM memberships m JOIN directory_objects x ON x.id = m.group_id
          WHERE m.member_id = u.id AND m.tenant_id = $1 AND NOT m.removed ORDER BY m.group_id LIMIT ${maxGroupsPerUser}) g`,
    [tenantId, userIds],
  );
  for (const r of rows) {
    const list = out.get(r.member_id) ?? [];
    list.push({ id: r.id, displayName: r.display_name });
    out.set(r.member_id, list);
  }
  return out;
}

async function membersOfGroups(q: Queryable, tenantId: string, groupIds: string[], limit: number): Promise<Map<string, { page: GroupMember[]; nextCursor: string | null }>> {
  const out = new Map<string, { page: GroupMember[]; nextCursor: string | null }>();
  if (groupIds.length === 0) return out;
  const { rows } = await q.query<{ group_id: string; id: string; object_type: string; display_name: string | null }>(
    `SELECT g.id AS group_id, x.id, x.object_type, x.display_name
       FROM unnest($2::uuid[]) AS g(id)
       CROSS JOIN LATERAL (
         SELECT o.id, o.object_type, o.display_name FROM memberships m JOIN directory_objects o ON o.id = m.member_id
          WHERE m.group_id = g.id AND m.tenant_id = $1 AND NOT m.removed ORDER BY m.member_id LIMIT $3) x`,
    [tenantId, groupIds, limit + 1],
  );
  for (const id of groupIds) out.set(id, { page: [], nextCursor: null });
  for (const r of rows) {
    const entry = out.get(r.group_id)!;
    if (entry.page.length < limit) entry.page.push({ id: r.id, objectType: r.object_type, displayName: r.display_name });
    else entry.nextCursor = encodeCursor({ m: entry.page.at(-1)!.id });
  }
  return out;
}

async function managerOf(q: Queryable, tenantId: string, row: ObjectRow): Promise<{ id: string; displayName: string | null } | null> {
  const id = row.attributes.managerId;
  if (typeof id !== 'string') return null;
  const { rows } = await q.query<{ id: string; display_name: string | null }>('SELECT id, display_name FROM directory_objects WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL', [tenantId, id]);
  return rows[0] ? { id: rows[0].id, displayName: rows[0].display_name } : null;
}

/** The SCIM representation of rows, with the costly parts (groups, members) read only when projected, in one query per page. */
async function present(ctx: ScimContext, q: Queryable, kind: ResourceKind, rows: ObjectRow[], options: ReadOptions, single: boolean): Promise<JsonObject[]> {
  if (kind === 'User') {
    const groups = projects(kind, options.projection, 'groups') ? await groupsOfUsers(q, ctx.tenantId, rows.map((r) => r.id)) : null;
    const out: JsonObject[] = [];
    for (const row of rows) {
      const manager = single ? await managerOf(q, ctx.tenantId, row) : null;
      out.push(applyProjection(kind, userToScim(row, ctx.baseUrl, { ...(groups ? { groups: groups.get(row.id) ?? [] } : {}), manager }), options.projection));
    }
    return out;
  }
  const wantMembers = projects(kind, options.projection, 'members');
  const limit = Math.min(options.membersCount ?? (single ? defaultMembersPerGroup : defaultMembersPerListedGroup), maxMembersPerRequest);
  let members: Map<string, { page: GroupMember[]; nextCursor: string | null }> | null = null;
  if (wantMembers && single && options.membersCursor) members = new Map([[rows[0]!.id, await memberPage(q, ctx.tenantId, rows[0]!.id, limit, options.membersCursor)]]);
  else if (wantMembers && limit > 0) members = await membersOfGroups(q, ctx.tenantId, rows.map((r) => r.id), limit);
  return rows.map((row) => applyProjection(kind, groupToScim(row, ctx.baseUrl, members?.get(row.id)), options.projection));
}

export async function getResource(ctx: ScimContext, kind: ResourceKind, id: string, options: ReadOptions): Promise<ResourceResult> {
  const row = await getObject(ctx.store, ctx.tenantId, typeOf(kind), id);
  const [resource] = await present(ctx, ctx.store, kind, [row], options, true);
  return { row, resource: resource! };
}

export interface ListQuery {
  filter?: string | undefined;
  sortBy?: string | undefined;
  sortOrder?: string | undefined;
  startIndex?: number | undefined;
  count?: number | undefined;
  /** RFC 9865 cursor pagination: '' for the first page */
  cursor?: string | undefined;
}

/** The WHERE conditions (on `o`) selecting a tenant's live resources that match `filter`. */
export function filterCondition(tenantId: string, kind: ResourceKind, filter: string | undefined): { where: string[]; params: SqlParams } {
  const params = new SqlParams([tenantId, typeOf(kind)]);
  const where = ['o.tenant_id = $1', 'o.object_type = $2', 'o.deleted_at IS NULL'];
  if (filter !== undefined) where.push(filterToSql(kind, parseFilter(filter), params));
  return { where, params };
}

/** Lists (or searches) a resource type: the filter and sorting run in SQL, a page at a time. */
export async function listResources(ctx: ScimContext, kind: ResourceKind, query: ListQuery, options: ReadOptions): Promise<JsonObject> {
  const { where, params: p } = filterCondition(ctx.tenantId, kind, query.filter);
  const descending = query.sortOrder !== undefined && /^desc/i.test(query.sortOrder);
  if (query.sortOrder !== undefined && !/^(asc|desc)ending$/i.test(query.sortOrder)) throw new ScimError(400, 'invalidValue', `sortOrder must be ascending or descending (got ${query.sortOrder})`);
  const sort = query.sortBy ? sortExpression(kind, parseAttrPath(query.sortBy)) : null;
  const count = Math.max(0, Math.min(query.count ?? listLimits.defaultCount, listLimits.maxResults));
  const countParams = [...p.values];
  const { rows: totals } = await ctx.store.query<{ n: string | number }>(`SELECT count(*) AS n FROM directory_objects o WHERE ${where.join(' AND ')}`, countParams as never);
  const totalResults = Number(totals[0]!.n);
  const dir = descending ? 'DESC' : 'ASC';
  const order = sort ? `${sort.sql} ${dir}, o.id ${dir}` : `o.id ${dir}`;
  const fingerprint = createHash('sha256').update(JSON.stringify([kind, query.filter ?? '', query.sortBy ?? '', dir])).digest('base64url').slice(0, 12);
  let offset = 0;
  const cursorMode = query.cursor !== undefined;
  if (cursorMode) {
    if (query.startIndex !== undefined) throw new ScimError(400, 'invalidValue', 'use either cursor or startIndex, not both');
    const after = query.cursor ? decodeCursor(query.cursor, (v): v is { k: string; id: string; q: string } => typeof v.id === 'string' && isUuid(v.id) && typeof v.k === 'string' && typeof v.q === 'string') : null;
    if (after && after.q !== fingerprint) throw new ScimError(400, 'invalidValue', 'the cursor belongs to another query (filter, sortBy or sortOrder changed): start again without a cursor');
    if (after) where.push(`(${sort ? sort.sql : "''"}, o.id) ${descending ? '<' : '>'} (${p.add(after.k)}, ${p.add(after.id)}::uuid)`);
  } else {
    offset = Math.max(1, query.startIndex ?? 1) - 1;
  }
  let rows: (ObjectRow & { sort_key?: string })[] = [];
  if (count > 0) {
    const result = await ctx.store.query<ObjectRow & { sort_key?: string }>(
      `SELECT ${objectColumns.split(', ').map((c) => `o.${c}`).join(', ')}${sort ? `, ${sort.sql} AS sort_key` : ''}
         FROM directory_objects o WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${count + 1} OFFSET ${offset}`,
      p.values as never,
    );
    rows = result.rows;
  }
  const page = rows.slice(0, count);
  const resources = await present(ctx, ctx.store, kind, page, options, false);
  const more = rows.length > count;
  return {
    schemas: [schemaUris.listResponse],
    totalResults,
    itemsPerPage: page.length,
    ...(cursorMode ? {} : { startIndex: offset + 1 }),
    ...(cursorMode && more ? { nextCursor: encodeCursor({ k: page.at(-1)!.sort_key ?? '', id: page.at(-1)!.id, q: fingerprint }) } : {}),
    Resources: resources,
  };
}

function validateExternalId(form: DirectoryForm): void {
  const v = form.immutableId;
  if (v !== null && (v.length > 256 || /[\u0000-\u001f]/.test(v))) throw new ScimError(400, 'invalidValue', 'externalId must be at most 256 characters without control characters');
}

async function checkManager(w: TenantWrite, form: DirectoryForm, selfId: string | null): Promise<void> {
  const id = form.attributes.managerId;
  if (id === undefined) return;
  if (typeof id !== 'string' || !isUuid(id) || id === selfId) throw new ScimError(400, 'invalidValue', `manager.value must be the id of another user of this tenant (got ${JSON.stringify(id)})`);
  const { rows } = await w.tx.query(`SELECT 1 FROM directory_objects WHERE tenant_id = $1 AND id = $2 AND object_type = 'user' AND deleted_at IS NULL`, [w.tenantId, id.toLowerCase()]);
  if (rows.length === 0) throw new ScimError(400, 'invalidValue', `manager.value ${id} is not a user of this tenant`);
  form.attributes.managerId = id.toLowerCase();
}

function formOf(kind: ResourceKind, body: unknown): { form: DirectoryForm; members: Json | undefined } {
  const normalized = normalizeResource(kind, body);
  if (kind === 'User' && typeof normalized.core.userName !== 'string') throw new ScimError(400, 'invalidValue', 'userName is required (the user principal name, such as alice@contoso.com)');
  if (kind === 'Group' && typeof normalized.core.displayName !== 'string') throw new ScimError(400, 'invalidValue', 'displayName is required');
  const form = kind === 'User' ? userFromScim(normalized) : groupFromScim(normalized);
  validateExternalId(form);
  return { form, members: normalized.core.members };
}

async function passwordFields(form: DirectoryForm): Promise<Pick<CloudFields, 'passwordHash'>> {
  if (form.password === undefined) return {};
  if (form.password.length < 8 || form.password.length > 256) throw new ScimError(400, 'invalidValue', 'password must be 8 to 256 characters long');
  return { passwordHash: await hashPassword(form.password) };
}

export async function createResource(ctx: ScimContext, kind: ResourceKind, body: unknown, options: ReadOptions): Promise<ResourceResult> {
  const { form, members } = formOf(kind, body);
  const password = await passwordFields(form);
  const row = await ctx.store.transaction(async (tx) => {
    const w = await TenantWrite.begin(tx, ctx.tenantId, ctx.quotas, ctx.actor);
    await checkManager(w, form, null);
    const created = await insertCloudObject(w, typeOf(kind), form.attributes, { usageLocation: form.usageLocation ?? null, immutableId: form.immutableId, ...password });
    if (kind === 'Group' && members !== undefined) await addGroupMembers(w, created.id, members, 'members');
    await w.finish();
    return created;
  });
  const [resource] = await present(ctx, ctx.store, kind, [row], options, true);
  return { row, resource: resource! };
}

/** The new attribute set for `row`: what SCIM cannot carry (the on-premises fields) is kept. */
function nextAttributes(row: ObjectRow, form: DirectoryForm): Record<string, unknown> {
  const attributes = { ...form.attributes };
  for (const k of onPremisesKeys) if (row.attributes[k] !== undefined) attributes[k] = row.attributes[k];
  // active mirrors the account_enabled column; store it only where the object already did or it changes
  if (row.attributes.accountEnabled === undefined && attributes.accountEnabled === row.account_enabled) delete attributes.accountEnabled;
  return attributes;
}

function cloudFields(row: ObjectRow, form: DirectoryForm, keepExternalIdWhenAbsent: boolean): CloudFields {
  const fields: CloudFields = {};
  if (form.usageLocation !== undefined && form.usageLocation !== row.usage_location) fields.usageLocation = form.usageLocation;
  const externalId = form.immutableId === null && keepExternalIdWhenAbsent ? row.immutable_id : form.immutableId;
  if (externalId !== row.immutable_id) fields.immutableId = externalId;
  if (fields.usageLocation && !/^[A-Z]{2}$/.test(fields.usageLocation)) throw new ScimError(400, 'invalidValue', 'usageLocation must be an ISO 3166 two-letter country code such as US or FR');
  return fields;
}

export async function replaceResource(ctx: ScimContext, kind: ResourceKind, id: string, body: unknown, ifMatch: string | null, options: ReadOptions): Promise<ResourceResult> {
  const { form, members } = formOf(kind, body);
  const password = await passwordFields(form);
  const row = await ctx.store.transaction(async (tx) => {
    const w = await TenantWrite.begin(tx, ctx.tenantId, ctx.quotas, ctx.actor);
    const current = await getObject(tx, ctx.tenantId, typeOf(kind), id, true);
    checkIfMatch(current, ifMatch);
    await checkManager(w, form, current.id);
    // externalId left out of a PUT is "not asserted" (RFC 7644 §3.5.1): it stays
    let updated = await rewriteObject(w, current, nextAttributes(current, form), { ...cloudFields(current, form, true), ...password });
    if (kind === 'Group' && members !== undefined) {
      if (current.source === 'onprem') throw new ScimError(400, 'mutability', `the group ${current.id} is synchronized from on-premises Active Directory: change its members there`);
      await replaceGroupMembers(w, current.id, members, 'members');
      updated = (await tx.query<ObjectRow>(`SELECT ${objectColumns} FROM directory_objects WHERE id = $1`, [current.id])).rows[0]!;
    }
    await w.finish();
    return updated;
  });
  const [resource] = await present(ctx, ctx.store, kind, [row], options, true);
  return { row, resource: resource! };
}

/**
 * PATCH. Member operations on a group go straight to their links (O(1) per
 * member); other operations apply to the resource's SCIM form, which is then
 * written back. Returns the resource for users; for groups only the new
 * version (the caller answers 204), so a change to a huge group reads none
 * of its members.
 */
export async function patchResource(ctx: ScimContext, kind: ResourceKind, id: string, body: unknown, ifMatch: string | null, options: ReadOptions & { returnResource: boolean }): Promise<{ row: ObjectRow; resource: JsonObject | null }> {
  const parsed = patchRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ScimError(400, 'invalidSyntax', `the PATCH request is invalid: ${issue.path.join('.') || 'body'} ${issue.message}`);
  }
  const operations = parsed.data.Operations.flatMap((op) => targetOperations(kind, op));
  const passwordOp = operations.find((t) => t.path.attr.toLowerCase() === 'password' && !t.path.sub);
  const passwordHash = passwordOp && typeof passwordOp.value === 'string' ? (await passwordFields({ password: passwordOp.value } as DirectoryForm)).passwordHash : undefined;
  const row = await ctx.store.transaction(async (tx) => {
    const w = await TenantWrite.begin(tx, ctx.tenantId, ctx.quotas, ctx.actor);
    const current = await getObject(tx, ctx.tenantId, typeOf(kind), id, true);
    checkIfMatch(current, ifMatch);
    const resource = kind === 'User' ? userToScim(current, ctx.baseUrl) : groupToScim(current, ctx.baseUrl);
    let membersChanged = 0;
    for (const t of operations) {
      if (isMembersOperation(kind, t)) {
        if (current.source === 'onprem') throw new ScimError(400, 'mutability', `the group ${current.id} is synchronized from on-premises Active Directory: change its members there`);
        if (t.sub) throw new ScimError(400, 'mutability', `${t.text}: a member's sub-attributes cannot be changed; remove the member and add another`);
        if (t.op === 'add') membersChanged += await addGroupMembers(w, current.id, t.value, t.text);
        else if (t.op === 'remove') membersChanged += await removeGroupMembers(w, current.id, t.filter, t.value, t.text);
        else if (t.filter) throw new ScimError(400, 'mutability', `${t.text}: a member cannot be replaced in place; remove it and add another`);
        else {
          const change = await replaceGroupMembers(w, current.id, t.value, t.text);
          membersChanged += change.added + change.removed;
        }
        continue;
      }
      if (t.path.attr.toLowerCase() === 'password' && !t.path.sub) {
        if (kind !== 'User') throw new ScimError(400, 'invalidPath', 'groups have no password');
        if (t.op === 'remove') throw new ScimError(400, 'mutability', 'the password cannot be removed; set a new one');
        continue;
      }
      applyOperation(kind, resource, t);
    }
    const form = kind === 'User' ? userFromScim(normalizeResource(kind, resource)) : groupFromScim(normalizeResource(kind, resource));
    validateExternalId(form);
    if (kind === 'User' && typeof form.attributes.userPrincipalName !== 'string') throw new ScimError(400, 'mutability', 'userName is required and cannot be removed');
    if (kind === 'Group' && typeof form.attributes.displayName !== 'string') throw new ScimError(400, 'mutability', 'displayName is required and cannot be removed');
    if (form.attributes.managerId !== current.attributes.managerId) await checkManager(w, form, current.id);
    const attributes = nextAttributes(current, form);
    const fields: CloudFields = { ...cloudFields(current, form, false), ...(passwordHash ? { passwordHash } : {}) };
    const attributesChanged = !sameJson(attributes, current.attributes);
    let updated = current;
    if (attributesChanged || Object.keys(fields).length > 0) updated = await rewriteObject(w, current, attributes, fields);
    else if (membersChanged > 0) {
      updated = (await tx.query<ObjectRow>(`UPDATE directory_objects SET version = version + 1, updated_at = now() WHERE id = $1 RETURNING ${objectColumns}`, [current.id])).rows[0]!;
    }
    if (membersChanged > 0) await w.audit({ action: 'group.members.update', target: { type: 'group', id: current.id, name: current.display_name }, after: { membersChanged } });
    await w.finish();
    return updated;
  });
  if (!options.returnResource) return { row, resource: null };
  const [resource] = await present(ctx, ctx.store, kind, [row], options, true);
  return { row, resource: resource! };
}

export async function deleteResource(ctx: ScimContext, kind: ResourceKind, id: string, ifMatch: string | null): Promise<void> {
  await ctx.store.transaction(async (tx) => {
    const w = await TenantWrite.begin(tx, ctx.tenantId, ctx.quotas, ctx.actor);
    const row = await getObject(tx, ctx.tenantId, typeOf(kind), id, true);
    checkIfMatch(row, ifMatch);
    await removeCloudObject(w, row);
    await w.finish();
  });
}
