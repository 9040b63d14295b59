import { actorOf } from '../audit/audit-log.ts';
import { leaseRequest, matchPreviewRequest, missingMembersPreference, passwordHashBatchRequest, pendingDeletionsReport, syncBatchRequest, syncErrorCategories, type Role } from '@skybridge/protocol';
import { z } from 'zod';
import { json, noContent, tenantRoute, type RouteDef } from '../http/route.ts';
import { SkybridgeError } from '../http/problem.ts';
import { applyBatch, idempotencyKeyPattern } from '../sync/batches.ts';
import { readChanges } from '../sync/changes.ts';
import { applyPasswordHashes } from '../sync/password-hashes.ts';
import { acquireLease, releaseLease } from '../sync/lease.ts';
import { pageSize } from '../directory/pagination.ts';
import { previewMatches } from '../sync/matching.ts';
import { decodeCursor, encodeCursor, listFilters } from '../directory/pagination.ts';
import { directoryReaders } from './directory.ts';
import { listCycles } from '../sync/cycles.ts';
import { allowDeletes, clearPendingDeletions, listAlerts, reportPendingDeletions } from '../sync/alerts.ts';

const syncRole: readonly Role[] = ['DirectorySynchronizationAccounts'];

function agentOf(principal: { agentId: string | null }): string {
  if (!principal.agentId) throw new SkybridgeError('forbidden', 'only a registered agent can synchronize: register one with a registration token');
  return principal.agentId;
}

const syncErrorFilters = z.strictObject({
  category: z.enum(syncErrorCategories, { error: `category must be one of ${syncErrorCategories.join(', ')}` }).optional(),
});

/** who may let synchronization delete objects in bulk */
const syncAdmins: readonly Role[] = ['GlobalAdministrator', 'HybridIdentityAdministrator'];

export const syncRoutes: RouteDef[] = [
  tenantRoute({
    method: 'GET', path: '/api/v1/sync/alerts', roles: directoryReaders,
    summary: 'What needs an administrator about directory synchronization: the delete threshold stopping an export (count, threshold, a sample of the objects), with any allowance given; agents gone silent; synchronization stopped; with pass-through on, the smart lockout lowered below the domain\'s lockout threshold.',
    handler: async (ctx) => json({ items: await listAlerts(ctx.cloud.store, ctx.principal.tenantId, (id) => ctx.cloud.channels.isConnected(id)) }),
  }),
  tenantRoute({
    method: 'POST', path: '/api/v1/sync/allow-deletes', roles: syncAdmins,
    summary: 'Lets the deletions the delete threshold stopped through (all, or up to count); the agent exports them at its next cycle.',
    handler: async (ctx) => {
      const { count } = await ctx.body(z.strictObject({ count: z.number().int().min(0).optional() }), 'the request');
      return json(await allowDeletes(ctx.cloud.store, ctx.principal.tenantId, actorOf(ctx.principal), count));
    },
  }),
  tenantRoute({
    method: 'PUT', path: '/sync/v1/pending-deletions', roles: syncRole,
    summary: 'The agent\'s delete threshold stopped an export: raises the tenant alert and answers how many deletions an administrator allowed.',
    handler: async (ctx) => {
      const agentId = agentOf(ctx.principal);
      const report = await ctx.body(pendingDeletionsReport, 'the report');
      return json(await reportPendingDeletions(ctx.cloud.store, ctx.principal.tenantId, agentId, report));
    },
  }),
  tenantRoute({
    method: 'DELETE', path: '/sync/v1/pending-deletions', roles: syncRole,
    summary: 'The stopped deletions went out, or their cause was fixed: clears the tenant alert.',
    handler: async (ctx) => {
      agentOf(ctx.principal);
      await clearPendingDeletions(ctx.cloud.store, ctx.principal.tenantId);
      return noContent();
    },
  }),
  tenantRoute({
    method: 'GET', path: '/api/v1/sync/cycles', roles: directoryReaders,
    summary: 'The synchronization cycles the agents reported, newest first: kind (full or delta), start, end, and the adds, updates, deletes and errors they exported (limit, cursor).',
    handler: async (ctx) => {
      const limit = pageSize(ctx.query, 20, 500);
      const before = decodeCursor(ctx.query.get('cursor'), (v): v is { s: string } => typeof v.s === 'string' && !Number.isNaN(Date.parse(v.s)));
      const rows = await listCycles(ctx.cloud.store, ctx.principal.tenantId, before?.s ?? null, limit);
      const page = rows.slice(0, limit);
      return json({ items: page, nextCursor: rows.length > limit ? encodeCursor({ s: page.at(-1)!.startedDateTime }) : null });
    },
  }),
  tenantRoute({
    method: 'GET', path: '/api/v1/sync/errors', roles: directoryReaders,
    summary: 'Objects the cloud refused from directory synchronization, with category, code, message and on-premises DN (limit, cursor; category= keeps one category). The first page also counts the errors of each category (counts).',
    handler: async (ctx) => {
      const limit = pageSize(ctx.query);
      const after = decodeCursor(ctx.query.get('cursor'), (v): v is { i: string } => typeof v.i === 'string');
      const category = listFilters(ctx.query, syncErrorFilters, 'the sync error filter (category)').category ?? null;
      const { rows } = await ctx.cloud.store.query<{ immutable_id: string; object_type: string; category: string; code: string; message: string; attribute: string | null; dn: string | null; first_seen_at: Date | string; last_seen_at: Date | string }>(
        `SELECT immutable_id, object_type, category, code, message, attribute, dn, first_seen_at, last_seen_at FROM sync_errors
          WHERE tenant_id = $1 AND immutable_id > $2 AND ($3::text IS NULL OR category = $3) ORDER BY immutable_id LIMIT $4`,
        [ctx.principal.tenantId, after?.i ?? '', category, limit + 1],
      );
      const page = rows.slice(0, limit);
      const counts = after ? undefined : Object.fromEntries((await ctx.cloud.store.query<{ category: string; n: string | number }>(
        'SELECT category, count(*) AS n FROM sync_errors WHERE tenant_id = $1 GROUP BY category', [ctx.principal.tenantId],
      )).rows.map((r) => [r.category, Number(r.n)]));
      return json({
        items: page.map((r) => ({
          immutableId: r.immutable_id, type: r.object_type, category: r.category, code: r.code, message: r.message, attribute: r.attribute,
          onPremisesDistinguishedName: r.dn, firstSeenDateTime: new Date(r.first_seen_at).toISOString(), lastSeenDateTime: new Date(r.last_seen_at).toISOString(),
        })),
        nextCursor: rows.length > limit ? encodeCursor({ i: page.at(-1)!.immutable_id }) : null,
        ...(counts ? { counts } : {}),
      });
    },
  }),
  tenantRoute({
    method: 'POST', path: '/sync/v1/batches', roles: syncRole,
    summary: 'Applies up to 500 upserts and deletes keyed by immutable id, once per Idempotency-Key, with one result per object.',
    handler: async (ctx) => {
      const agentId = agentOf(ctx.principal);
      const key = ctx.req.headers.get('idempotency-key');
      if (!key || !idempotencyKeyPattern.test(key)) {
        throw new SkybridgeError('invalid_request', 'send an Idempotency-Key header of 8 to 200 characters (letters, digits, . _ : -), the same on every retry of this batch');
      }
      const request = await ctx.body(syncBatchRequest, 'the batch');
      // an agent that reads missingMembers says so (RFC 7240); older ones get member changes refused whole, as before
      const partialMembers = (ctx.req.headers.get('prefer') ?? '').split(',').some((p) => p.split(';')[0]!.split('=')[0]!.trim().toLowerCase() === missingMembersPreference);
      const result = await applyBatch(ctx.cloud.store, {
        tenantId: ctx.principal.tenantId, agentId, idempotencyKey: key, request, quotas: ctx.cloud.config.quotas, throttle: ctx.cloud.syncThrottle, partialMembers,
      });
      return json(result, result.replayed ? 200 : 201, partialMembers ? { 'preference-applied': missingMembersPreference } : undefined);
    },
  }),
  tenantRoute({
    method: 'POST', path: '/sync/v1/password-hashes', roles: syncRole,
    summary: 'Stores up to 1,000 users\' synchronized password hashes (v1;PPH1_MD4 format, or null to clear) by immutable id, under the cloud\'s own keyed layer; the lease holder only, while password hash synchronization is on.',
    handler: async (ctx) => {
      const agentId = agentOf(ctx.principal);
      const request = await ctx.body(passwordHashBatchRequest, 'the password hashes');
      return json(await applyPasswordHashes(ctx.cloud.store, { tenantId: ctx.principal.tenantId, agentId, sealingKey: ctx.cloud.sealingKey, request }));
    },
  }),
  tenantRoute({
    method: 'POST', path: '/sync/v1/match-preview', roles: syncRole,
    summary: 'How up to 500 objects would match (hard, soft, new or refused), without writing anything: the takeover preview.',
    handler: async (ctx) => {
      agentOf(ctx.principal);
      const { objects } = await ctx.body(matchPreviewRequest, 'the preview request');
      return json({ results: await previewMatches(ctx.cloud.store, ctx.principal.tenantId, objects) });
    },
  }),
  tenantRoute({
    method: 'GET', path: '/sync/v1/changes', roles: syncRole,
    summary: 'The tenant\'s synced objects and memberships as the cloud sees them, in change order, from a cursor (kinds=object: objects only; attributes=false: versions without attributes).',
    handler: async (ctx) => {
      const kinds = ctx.query.get('kinds');
      if (kinds !== null && kinds !== 'object') throw new SkybridgeError('invalid_request', `kinds must be "object" (objects only) or absent (objects and memberships), not ${JSON.stringify(kinds)}`);
      const attributes = ctx.query.get('attributes');
      if (attributes !== null && attributes !== 'false') throw new SkybridgeError('invalid_request', `attributes must be "false" (versions only) or absent, not ${JSON.stringify(attributes)}`);
      return json(await readChanges(ctx.cloud.store, ctx.principal.tenantId, ctx.query.get('cursor'), pageSize(ctx.query, 1000, 5000), { objectsOnly: kinds === 'object', withoutAttributes: attributes === 'false' }));
    },
  }),
  tenantRoute({
    method: 'POST', path: '/sync/v1/lease', roles: syncRole,
    summary: 'Acquires or renews the tenant\'s active-syncer lease and returns its fencing epoch.',
    handler: async (ctx) => {
      const { ttlSeconds } = await ctx.body(leaseRequest, 'the lease request');
      return json(await acquireLease(ctx.cloud.store, ctx.principal.tenantId, agentOf(ctx.principal), ttlSeconds));
    },
  }),
  tenantRoute({
    method: 'DELETE', path: '/sync/v1/lease', roles: syncRole, summary: 'Releases the lease (?epoch=N) so that a standby can take over at once.',
    handler: async (ctx) => {
      const epoch = Number(ctx.query.get('epoch'));
      if (!Number.isSafeInteger(epoch) || epoch < 1) throw new SkybridgeError('invalid_request', 'give the epoch of the lease to release: DELETE /sync/v1/lease?epoch=N');
      await releaseLease(ctx.cloud.store, ctx.principal.tenantId, agentOf(ctx.principal), epoch);
      return noContent();
    },
  }),
];
