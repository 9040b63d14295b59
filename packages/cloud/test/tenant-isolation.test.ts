import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { routes, type CreatedTenant } from '@skybridge/cloud';
import { passwordHashFromNtHash } from '@skybridge/protocol';
import { registerAgent, type CloudClient } from '@skybridge/connect';
import { storeKinds } from './helpers/stores.ts';
import { startTestCloud, type TestCloud } from './helpers/cloud.ts';
import { registerTestAgent } from './helpers/agent.ts';

const guid = () => Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64');

/**
 * Tenant isolation, route by route: tenant B's credentials, aimed at tenant
 * A's objects, get 404 (or act on B's own data only). Every route of the
 * registry must have a case here; a new route without one fails the first test.
 */
interface World {
  t: TestCloud;
  a: CreatedTenant;
  b: CreatedTenant;
  adminA: string;
  adminB: string;
  agentA: CloudClient;
  agentB: CloudClient;
  ids: { user: string; group: string; contact: string; syncedUser: string; syncedImmutableId: string; app: string };
}
type Case = (w: World) => Promise<void>;

const notFound = async (w: World, method: string, path: string, body?: unknown) => {
  const res = await w.t.call(method, path, { token: w.adminB, ...(body === undefined ? {} : { body }) });
  assert.equal(res.status, 404, `${method} ${path} as tenant B: expected 404, got ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(res.body.code, 'not_found');
};
const stillThere = async (w: World, path: string) => {
  const res = await w.t.call('GET', path, { token: w.adminA });
  assert.equal(res.status, 200, `tenant A's ${path} must be intact`);
};
const listIds = async (w: World, token: string, path: string) => ((await w.t.call('GET', `${path}?limit=1000`, { token })).body.items as { id: string }[]).map((i) => i.id);

const objectCases = (collection: 'users' | 'groups' | 'contacts', idOf: (w: World) => string, newBody: (w: World) => unknown): Record<string, Case> => ({
  [`GET /api/v1/${collection}`]: async (w) => {
    const ids = await listIds(w, w.adminB, `/api/v1/${collection}`);
    assert.ok(!ids.includes(idOf(w)));
  },
  [`POST /api/v1/${collection}`]: async (w) => {
    const res = await w.t.call('POST', `/api/v1/${collection}`, { token: w.adminB, body: newBody(w) });
    if (collection === 'users') {
      // a UPN in tenant A's domain is refused: the domain is not B's
      assert.equal(res.status, 400);
      assert.match(res.body.detail, /not a verified domain of this tenant/);
    } else {
      assert.equal(res.status, 201);
      assert.equal((await w.t.call('GET', `/api/v1/${collection}/${res.body.id}`, { token: w.adminA })).status, 404);
    }
  },
  [`GET /api/v1/${collection}/:id`]: (w) => notFound(w, 'GET', `/api/v1/${collection}/${idOf(w)}`),
  [`PATCH /api/v1/${collection}/:id`]: async (w) => {
    await notFound(w, 'PATCH', `/api/v1/${collection}/${idOf(w)}`, { displayName: 'hijacked' });
    const res = await w.t.call('GET', `/api/v1/${collection}/${idOf(w)}`, { token: w.adminA });
    assert.notEqual(res.body.displayName, 'hijacked');
  },
  [`DELETE /api/v1/${collection}/:id`]: async (w) => {
    await notFound(w, 'DELETE', `/api/v1/${collection}/${idOf(w)}`);
    await stillThere(w, `/api/v1/${collection}/${idOf(w)}`);
  },
});

/** SCIM: tenant B's token finds nothing of tenant A's, by id, by filter or through Bulk. */
const scimNotFound = async (w: World, method: string, path: string, body?: unknown) => {
  const res = await w.t.call(method, `/scim/v2${path}`, { token: w.adminB, ...(body === undefined ? {} : { body }) });
  assert.equal(res.status, 404, `${method} /scim/v2${path} as tenant B: expected 404, got ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(res.body.status, '404');
};
const patchOp = (operations: unknown[]) => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: operations });
const scimCases = (resource: 'Users' | 'Groups', idOf: (w: World) => string, newBody: (w: World) => unknown): Record<string, Case> => ({
  [`GET /scim/v2/${resource}`]: async (w) => {
    const all = await w.t.call('GET', `/scim/v2/${resource}?count=1000`, { token: w.adminB });
    assert.ok(!all.body.Resources.some((r: { id: string }) => r.id === idOf(w)));
    const byId = await w.t.call('GET', `/scim/v2/${resource}?filter=${encodeURIComponent(`id eq "${idOf(w)}"`)}`, { token: w.adminB });
    assert.equal(byId.body.totalResults, 0);
  },
  [`POST /scim/v2/${resource}/.search`]: async (w) => {
    const res = await w.t.call('POST', `/scim/v2/${resource}/.search`, { token: w.adminB, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: `id eq "${idOf(w)}"` } });
    assert.equal(res.status, 200);
    assert.equal(res.body.totalResults, 0);
  },
  [`POST /scim/v2/${resource}`]: async (w) => {
    const res = await w.t.call('POST', `/scim/v2/${resource}`, { token: w.adminB, body: newBody(w) });
    if (resource === 'Users') {
      assert.equal(res.status, 400);
      assert.match(res.body.detail, /not a verified domain of this tenant/);
    } else {
      // a group of B naming A's user as a member is refused: the member is not B's
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match(res.body.detail, /not a user, group or contact of this tenant/);
    }
  },
  [`GET /scim/v2/${resource}/:id`]: (w) => scimNotFound(w, 'GET', `/${resource}/${idOf(w)}`),
  [`PUT /scim/v2/${resource}/:id`]: async (w) => {
    await scimNotFound(w, 'PUT', `/${resource}/${idOf(w)}`, { displayName: 'hijacked', ...(resource === 'Users' ? { userName: `x@${w.b.initialDomain}` } : {}) });
    assert.notEqual((await w.t.call('GET', `/scim/v2/${resource}/${idOf(w)}`, { token: w.adminA })).body.displayName, 'hijacked');
  },
  [`PATCH /scim/v2/${resource}/:id`]: async (w) => {
    await scimNotFound(w, 'PATCH', `/${resource}/${idOf(w)}`, patchOp([{ op: 'replace', path: 'displayName', value: 'hijacked' }]));
    assert.notEqual((await w.t.call('GET', `/scim/v2/${resource}/${idOf(w)}`, { token: w.adminA })).body.displayName, 'hijacked');
  },
  [`DELETE /scim/v2/${resource}/:id`]: async (w) => {
    await scimNotFound(w, 'DELETE', `/${resource}/${idOf(w)}`);
    assert.equal((await w.t.call('GET', `/scim/v2/${resource}/${idOf(w)}`, { token: w.adminA })).status, 200);
  },
});
const sameForEveryTenant = (path: string): Case => async (w) => {
  const a = await w.t.call('GET', path, { token: w.adminA });
  const b = await w.t.call('GET', path, { token: w.adminB });
  assert.equal(b.status, 200);
  assert.deepEqual(b.body, a.body, `${path} describes the service, not a tenant`);
};

const cases: Record<string, Case> = {
  ...scimCases('Users', (w) => w.ids.user, (w) => ({ userName: `mallory@${w.a.initialDomain}` })),
  ...scimCases('Groups', (w) => w.ids.group, (w) => ({ displayName: 'B group', members: [{ value: w.ids.user }] })),
  'GET /scim/v2/ServiceProviderConfig': sameForEveryTenant('/scim/v2/ServiceProviderConfig'),
  'GET /scim/v2/ResourceTypes': sameForEveryTenant('/scim/v2/ResourceTypes'),
  'GET /scim/v2/ResourceTypes/:name': sameForEveryTenant('/scim/v2/ResourceTypes/User'),
  'GET /scim/v2/Schemas': sameForEveryTenant('/scim/v2/Schemas'),
  'GET /scim/v2/Schemas/:id': sameForEveryTenant('/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User'),
  'POST /scim/v2/Bulk': async (w) => {
    const res = await w.t.call('POST', '/scim/v2/Bulk', { token: w.adminB, body: {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'PATCH', path: `/Groups/${w.ids.group}`, data: patchOp([{ op: 'remove', path: 'members' }]) },
        { method: 'DELETE', path: `/Users/${w.ids.user}` },
      ],
    } });
    assert.deepEqual(res.body.Operations.map((o: { status: string }) => o.status), ['404', '404']);
    assert.deepEqual(await listIds(w, w.adminA, `/api/v1/groups/${w.ids.group}/members`), [w.ids.user]);
  },
  'GET /api/v1/openapi.json': sameForEveryTenant('/api/v1/openapi.json'),
  'GET /api/v1/me': async (w) => {
    const res = await w.t.call('GET', '/api/v1/me', { token: w.adminB });
    assert.equal(res.body.tenant.id, w.b.tenantId);
    assert.ok(!JSON.stringify(res.body).includes(w.a.initialDomain));
  },
  'GET /api/v1/users/:id/roles': (w) => notFound(w, 'GET', `/api/v1/users/${w.ids.user}/roles`),
  'GET /api/v1/sync/cycles': async (w) => {
    await w.agentA.heartbeat({ version: '0.1.0', role: 'active', lastCycle: { kind: 'full', startedAt: new Date().toISOString(), finishedAt: null, adds: 3, updates: 0, deletes: 0, errors: 0 } });
    assert.equal((await w.t.call('GET', '/api/v1/sync/cycles', { token: w.adminA })).body.items.length, 1);
    assert.deepEqual((await w.t.call('GET', '/api/v1/sync/cycles', { token: w.adminB })).body.items, []);
  },
  'GET /api/v1/tenant': async (w) => {
    const res = await w.t.call('GET', '/api/v1/tenant', { token: w.adminB });
    assert.equal(res.body.id, w.b.tenantId);
    assert.ok(!JSON.stringify(res.body).includes(w.a.initialDomain));
  },
  ...objectCases('users', (w) => w.ids.user, (w) => ({ userPrincipalName: `mallory@${w.a.initialDomain}` })),
  ...objectCases('groups', (w) => w.ids.group, () => ({ displayName: 'B group' })),
  ...objectCases('contacts', (w) => w.ids.contact, () => ({ displayName: 'B contact', mail: 'b@example.org' })),
  'GET /api/v1/groups/:id/members': (w) => notFound(w, 'GET', `/api/v1/groups/${w.ids.group}/members`),
  'POST /api/v1/groups/:id/members': async (w) => {
    await notFound(w, 'POST', `/api/v1/groups/${w.ids.group}/members`, { memberId: w.ids.user });
    // nor can B add A's user to a group of its own
    const own = await w.t.call('POST', '/api/v1/groups', { token: w.adminB, body: { displayName: 'B own' } });
    await notFound(w, 'POST', `/api/v1/groups/${own.body.id}/members`, { memberId: w.ids.user });
  },
  'DELETE /api/v1/groups/:id/members/:memberId': async (w) => {
    await notFound(w, 'DELETE', `/api/v1/groups/${w.ids.group}/members/${w.ids.user}`);
    const members = await listIds(w, w.adminA, `/api/v1/groups/${w.ids.group}/members`);
    assert.deepEqual(members, [w.ids.user]);
  },
  'POST /api/v1/agents/registration-tokens': async (w) => {
    const res = await w.t.call('POST', '/api/v1/agents/registration-tokens', { token: w.adminB });
    const creds = await registerAgent({ cloudUrl: w.t.url, registrationToken: res.body.registrationToken, hostname: 'b-host', version: '0', trust: w.t.trust });
    assert.equal(creds.tenantId, w.b.tenantId);
  },
  // the package is the deployment's, not a tenant's: without one, both tenants get the same 404
  'GET /api/v1/agents/package': async (w) => {
    assert.equal((await w.t.call('GET', '/api/v1/agents/package', { token: w.adminB })).status, 404);
  },
  'GET /api/v1/agents/package/download': async (w) => {
    assert.equal((await w.t.call('GET', '/api/v1/agents/package/download', { token: w.adminB })).status, 404);
  },
  'GET /api/v1/agents': async (w) => {
    assert.ok(!(await listIds(w, w.adminB, '/api/v1/agents')).includes(w.agentA.credentials.agentId));
  },
  'GET /api/v1/agents/:id': (w) => notFound(w, 'GET', `/api/v1/agents/${w.agentA.credentials.agentId}`),
  'DELETE /api/v1/agents/:id': async (w) => {
    await notFound(w, 'DELETE', `/api/v1/agents/${w.agentA.credentials.agentId}`);
    await stillThere(w, `/api/v1/agents/${w.agentA.credentials.agentId}`);
  },
  'POST /api/v1/agents/:id/ping': (w) => notFound(w, 'POST', `/api/v1/agents/${w.agentA.credentials.agentId}/ping`),
  'POST /agents/v1/register': async (w) => {
    // a spent token of tenant A registers nothing, whoever presents it
    const res = await w.t.call('POST', '/api/v1/agents/registration-tokens', { token: w.adminA });
    await registerAgent({ cloudUrl: w.t.url, registrationToken: res.body.registrationToken, hostname: 'a2', version: '0', trust: w.t.trust });
    await assert.rejects(registerAgent({ cloudUrl: w.t.url, registrationToken: res.body.registrationToken, hostname: 'b2', version: '0', trust: w.t.trust }));
  },
  'POST /agents/v1/heartbeat': async (w) => {
    await w.agentB.heartbeat({ version: '9.9.9', role: 'standby' });
    const a = await w.t.call('GET', `/api/v1/agents/${w.agentA.credentials.agentId}`, { token: w.adminA });
    assert.notEqual(a.body.version, '9.9.9');
  },
  'POST /sync/v1/batches': async (w) => {
    const lease = await w.agentB.acquireLease(60);
    const res = await w.agentB.sendBatch(`iso-${randomUUID()}`, {
      epoch: lease.epoch,
      operations: [
        { op: 'delete', type: 'user', immutableId: w.ids.syncedImmutableId },
        { op: 'upsert', type: 'user', immutableId: w.ids.syncedImmutableId, attributes: { userPrincipalName: `same-anchor@${w.b.initialDomain}` } },
      ],
    });
    assert.equal(res.results[0]!.status, 'unchanged', 'A\'s object is invisible to B\'s delete');
    assert.equal(res.results[1]!.status, 'created');
    assert.notEqual(res.results[1]!.objectId, w.ids.syncedUser);
    await stillThere(w, `/api/v1/users/${w.ids.syncedUser}`);
  },
  'POST /sync/v1/password-hashes': async (w) => {
    // B's agent sends a hash for the immutable id of A's synced user: it reaches nothing of A's (at most
    // B's own object with that anchor, which the batches case above may have created)
    await w.t.call('PATCH', '/api/v1/tenant', { token: w.adminA, body: { passwordHashSync: true } });
    await w.t.call('PATCH', '/api/v1/tenant', { token: w.adminB, body: { passwordHashSync: true } });
    const lease = await w.agentB.acquireLease(60);
    const res = await w.agentB.sendPasswordHashes({ epoch: lease.epoch, hashes: [{ immutableId: w.ids.syncedImmutableId, passwordHash: passwordHashFromNtHash(Buffer.alloc(16, 7)) }] });
    assert.ok(['stored', 'not_found'].includes(res.results[0]!.status));
    const { rows } = await w.t.cloud.context.store.query<{ n: string | number }>('SELECT count(*) AS n FROM directory_objects WHERE tenant_id = $1 AND immutable_id = $2 AND synced_password_hash IS NOT NULL', [w.a.tenantId, w.ids.syncedImmutableId]);
    assert.equal(Number(rows[0]!.n), 0, 'A\'s user has no hash');
  },
  'GET /api/v1/sync/errors': async (w) => {
    // A's agent gets an error recorded; B's list does not show it
    const lease = await w.agentA.acquireLease(60);
    const bad = guid();
    await w.agentA.sendBatch(`iso-err-${randomUUID()}`, { epoch: lease.epoch, operations: [{ op: 'upsert', type: 'user', immutableId: bad, attributes: { userPrincipalName: 'not a upn' } }] });
    assert.ok((await w.t.call('GET', '/api/v1/sync/errors', { token: w.adminA })).body.items.some((e: { immutableId: string }) => e.immutableId === bad));
    assert.ok(!(await w.t.call('GET', '/api/v1/sync/errors', { token: w.adminB })).body.items.some((e: { immutableId: string }) => e.immutableId === bad));
  },
  'GET /api/v1/sync/alerts': async (w) => {
    // A's agent raises the delete threshold alert; B's administrators do not see it
    await w.agentA.reportPendingDeletions({ pending: 7, limit: 1, sample: [] });
    assert.equal((await w.t.call('GET', '/api/v1/sync/alerts', { token: w.adminA })).body.items[0].pendingDeletions, 7);
    assert.deepEqual((await w.t.call('GET', '/api/v1/sync/alerts', { token: w.adminB })).body.items, []);
  },
  'POST /api/v1/sync/allow-deletes': async (w) => {
    await w.agentA.reportPendingDeletions({ pending: 7, limit: 1, sample: [] });
    const res = await w.t.call('POST', '/api/v1/sync/allow-deletes', { token: w.adminB, body: {} });
    assert.equal(res.status, 400, 'B has nothing waiting');
    assert.equal((await w.agentA.reportPendingDeletions({ pending: 7, limit: 1, sample: [] })).allowed, 0, 'A\'s deletions stay held');
  },
  'PUT /sync/v1/pending-deletions': async (w) => {
    await w.agentB.reportPendingDeletions({ pending: 3, limit: 1, sample: [] });
    const a = (await w.t.call('GET', '/api/v1/sync/alerts', { token: w.adminA })).body.items;
    assert.ok(!a.some((x: { pendingDeletions: number }) => x.pendingDeletions === 3), 'B\'s report lands in B\'s tenant only');
    await w.agentB.clearPendingDeletions();
  },
  'DELETE /sync/v1/pending-deletions': async (w) => {
    await w.agentA.reportPendingDeletions({ pending: 5, limit: 1, sample: [] });
    await w.agentB.clearPendingDeletions();
    assert.equal((await w.t.call('GET', '/api/v1/sync/alerts', { token: w.adminA })).body.items.length, 1, 'B cannot clear A\'s alert');
    await w.agentA.clearPendingDeletions();
  },
  'PATCH /api/v1/tenant': async (w) => {
    const res = await w.t.call('PATCH', '/api/v1/tenant', { token: w.adminB, body: { blockSoftMatch: true } });
    assert.equal(res.body.id, w.b.tenantId);
    assert.equal((await w.t.call('GET', '/api/v1/tenant', { token: w.adminA })).body.blockSoftMatch, false);
    await w.t.call('PATCH', '/api/v1/tenant', { token: w.adminB, body: { blockSoftMatch: false } });
  },
  'POST /sync/v1/match-preview': async (w) => {
    const preview = await w.agentB.matchPreview([{ type: 'user', immutableId: w.ids.syncedImmutableId, attributes: { userPrincipalName: `x@${w.b.initialDomain}` } }]);
    // (B may hold its own object with that id, created by the batches case): never A's
    assert.notEqual(preview.results[0]!.objectId, w.ids.syncedUser, 'A\'s object is invisible to B');
  },
  'GET /sync/v1/changes': async (w) => {
    const feed = await w.agentB.changes(undefined, 5000);
    assert.ok(!JSON.stringify(feed).includes(w.ids.syncedUser));
  },
  'POST /sync/v1/lease': async (w) => {
    const a = await w.agentA.acquireLease(60);
    const b = await w.agentB.acquireLease(60);
    assert.equal(b.holderAgentId, w.agentB.credentials.agentId, 'tenants have independent leases');
    assert.equal((await w.agentA.acquireLease(60)).epoch, a.epoch);
  },
  'DELETE /sync/v1/lease': async (w) => {
    const a = await w.agentA.acquireLease(60);
    const res = await w.t.call('DELETE', `/sync/v1/lease?epoch=${a.epoch}`, { token: await w.agentB.accessToken() });
    // B can only ever release its own tenant's lease (204 when B holds one with that epoch, 409 otherwise)
    assert.ok([204, 409].includes(res.status), JSON.stringify(res.body));
    const { rows } = await w.t.cloud.context.store.query<{ live: boolean }>('SELECT expires_at > now() AS live FROM sync_leases WHERE tenant_id = $1', [w.a.tenantId]);
    assert.equal(rows[0]!.live, true, 'A keeps its lease');
    assert.equal((await w.agentA.acquireLease(60)).epoch, a.epoch);
  },
  'GET /api/v1/subscriptions': async (w) => {
    assert.equal((await w.t.call('GET', '/api/v1/subscriptions', { token: w.adminA })).body.items[0].consumed, 1);
    assert.deepEqual((await w.t.call('GET', '/api/v1/subscriptions', { token: w.adminB })).body.items, [], 'B subscribes to nothing');
  },
  'GET /api/v1/subscriptions/:skuId/assignments': (w) => notFound(w, 'GET', '/api/v1/subscriptions/SKYBRIDGE_BASIC/assignments'),
  'GET /api/v1/users/:id/licenses': (w) => notFound(w, 'GET', `/api/v1/users/${w.ids.user}/licenses`),
  'POST /api/v1/users/:id/licenses': (w) => notFound(w, 'POST', `/api/v1/users/${w.ids.user}/licenses`, { skuId: 'SKYBRIDGE_BASIC' }),
  'DELETE /api/v1/users/:id/licenses/:skuId': async (w) => {
    await notFound(w, 'DELETE', `/api/v1/users/${w.ids.user}/licenses/SKYBRIDGE_BASIC`);
    assert.equal((await w.t.call('GET', `/api/v1/users/${w.ids.user}/licenses`, { token: w.adminA })).body.licences.length, 1);
  },
  'GET /api/v1/groups/:id/licenses': (w) => notFound(w, 'GET', `/api/v1/groups/${w.ids.group}/licenses`),
  'POST /api/v1/groups/:id/licenses': (w) => notFound(w, 'POST', `/api/v1/groups/${w.ids.group}/licenses`, { skuId: 'SKYBRIDGE_BASIC' }),
  'DELETE /api/v1/groups/:id/licenses/:skuId': async (w) => {
    await notFound(w, 'DELETE', `/api/v1/groups/${w.ids.group}/licenses/SKYBRIDGE_BASIC`);
    assert.equal((await w.t.call('GET', `/api/v1/groups/${w.ids.group}/licenses`, { token: w.adminA })).body.items.length, 1);
  },
  'GET /api/v1/domains': async (w) => {
    const names = (await w.t.call('GET', '/api/v1/domains', { token: w.adminB })).body.items.map((d: { name: string }) => d.name);
    assert.deepEqual(names, [w.b.initialDomain]);
  },
  'POST /api/v1/domains': async (w) => {
    // a domain A verified is A's alone; one A only added is not
    const taken = await w.t.call('POST', '/api/v1/domains', { token: w.adminB, body: { name: 'alpha-verified.example' } });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.code, 'domain_taken');
    const sub = await w.t.call('POST', '/api/v1/domains', { token: w.adminB, body: { name: 'mail.alpha-verified.example' } });
    assert.equal(sub.body.code, 'domain_taken', 'nor a subdomain of it');
    assert.equal((await w.t.call('POST', '/api/v1/domains', { token: w.adminB, body: { name: 'alpha-only.example' } })).status, 201);
    assert.equal((await w.t.call('GET', '/api/v1/domains/alpha-only.example', { token: w.adminA })).body.isVerified, false);
    assert.equal((await w.t.call('DELETE', '/api/v1/domains/alpha-only.example', { token: w.adminB })).status, 204);
  },
  'GET /api/v1/domains/:name': (w) => notFound(w, 'GET', '/api/v1/domains/alpha-only.example'),
  'POST /api/v1/domains/:name/verify': (w) => notFound(w, 'POST', '/api/v1/domains/alpha-verified.example/verify'),
  'GET /api/v1/domains/:name/service-records': (w) => notFound(w, 'GET', '/api/v1/domains/alpha-verified.example/service-records'),
  'PATCH /api/v1/domains/:name': (w) => notFound(w, 'PATCH', '/api/v1/domains/alpha-verified.example', { isDefault: true }),
  'DELETE /api/v1/domains/:name': async (w) => {
    await notFound(w, 'DELETE', '/api/v1/domains/alpha-only.example');
    await stillThere(w, '/api/v1/domains/alpha-only.example');
  },
  'GET /api/v1/roles': async (w) => {
    const count = (body: any, role: string) => body.items.find((r: { id: string }) => r.id === role).memberCount;
    const a = (await w.t.call('GET', '/api/v1/roles', { token: w.adminA })).body;
    const b = (await w.t.call('GET', '/api/v1/roles', { token: w.adminB })).body;
    assert.equal(count(a, 'UserAdministrator'), 1);
    assert.equal(count(b, 'UserAdministrator'), 0);
  },
  'GET /api/v1/roles/:role/members': async (w) => {
    const b = (await w.t.call('GET', '/api/v1/roles/UserAdministrator/members', { token: w.adminB })).body;
    assert.deepEqual(b.items, []);
  },
  'POST /api/v1/roles/:role/members': (w) => notFound(w, 'POST', '/api/v1/roles/GlobalAdministrator/members', { principalType: 'user', principalId: w.ids.user }),
  'DELETE /api/v1/roles/:role/members/:principalType/:principalId': async (w) => {
    await notFound(w, 'DELETE', `/api/v1/roles/UserAdministrator/members/user/${w.ids.user}`);
    assert.equal((await w.t.call('GET', '/api/v1/roles/UserAdministrator/members', { token: w.adminA })).body.items.length, 1);
  },
  'GET /api/v1/applications': async (w) => {
    assert.ok(!(await w.t.call('GET', '/api/v1/applications', { token: w.adminB })).body.items.some((a: { clientId: string }) => a.clientId === w.ids.app));
  },
  'POST /api/v1/applications': async (w) => {
    const res = await w.t.call('POST', '/api/v1/applications', { token: w.adminB, body: { displayName: 'B app', redirectUris: ['https://b.example/cb'] } });
    assert.equal(res.status, 201);
    assert.equal((await w.t.call('GET', `/api/v1/applications/${res.body.clientId}`, { token: w.adminA })).status, 404);
  },
  'GET /api/v1/applications/:clientId': (w) => notFound(w, 'GET', `/api/v1/applications/${w.ids.app}`),
  'PATCH /api/v1/applications/:clientId': async (w) => {
    await notFound(w, 'PATCH', `/api/v1/applications/${w.ids.app}`, { displayName: 'hijacked' });
    assert.equal((await w.t.call('GET', `/api/v1/applications/${w.ids.app}`, { token: w.adminA })).body.displayName, 'Alpha app');
  },
  'DELETE /api/v1/applications/:clientId': async (w) => {
    await notFound(w, 'DELETE', `/api/v1/applications/${w.ids.app}`);
    await stillThere(w, `/api/v1/applications/${w.ids.app}`);
  },
  'GET /api/v1/applications/:clientId/access/:userId': (w) => notFound(w, 'GET', `/api/v1/applications/${w.ids.app}/access/${w.ids.user}`),
  'GET /api/v1/audit-logs': async (w) => {
    const a = (await w.t.call('GET', `/api/v1/audit-logs?targetId=${w.ids.user}`, { token: w.adminA })).body.items;
    assert.ok(a.length > 0);
    assert.deepEqual((await w.t.call('GET', `/api/v1/audit-logs?targetId=${w.ids.user}`, { token: w.adminB })).body.items, []);
    const all = JSON.stringify((await w.t.call('GET', '/api/v1/audit-logs?limit=1000', { token: w.adminB })).body);
    assert.ok(!all.includes(w.ids.user) && !all.includes(w.a.initialDomain));
  },
  'GET /api/v1/sign-ins': async (w) => {
    const { recordSignIn } = await import('../src/signin/sign-in-log.ts');
    await recordSignIn(w.t.cloud.context.store, w.a.tenantId, { userId: w.ids.user, userPrincipalName: `carol@${w.a.initialDomain}`, clientId: w.ids.app, method: 'cloud_password', result: 'failure', errorCode: 'invalid_password', sourceIp: '127.0.0.1', userAgent: 'test' });
    assert.equal((await w.t.call('GET', '/api/v1/sign-ins', { token: w.adminA })).body.items.length, 1);
    assert.deepEqual((await w.t.call('GET', '/api/v1/sign-ins', { token: w.adminB })).body.items, []);
    assert.deepEqual((await w.t.call('GET', `/api/v1/sign-ins?userId=${w.ids.user}`, { token: w.adminB })).body.items, []);
  },
  'GET /api/v1/signing-keys': async (w) => {
    const kids = async (token: string) => ((await w.t.call('GET', '/api/v1/signing-keys', { token })).body.items as { kid: string }[]).map((k) => k.kid);
    const a = await kids(w.adminA);
    assert.ok(a.length >= 2 && !(await kids(w.adminB)).some((k) => a.includes(k)));
  },
  'POST /api/v1/signing-keys/rotate': async (w) => {
    const before = (await w.t.call('GET', '/api/v1/signing-keys', { token: w.adminA })).body.items;
    assert.equal((await w.t.call('POST', '/api/v1/signing-keys/rotate', { token: w.adminB, body: {} })).status, 200);
    assert.deepEqual((await w.t.call('GET', '/api/v1/signing-keys', { token: w.adminA })).body.items, before, 'B\'s rotation leaves A\'s keys alone');
    assert.equal((await w.t.call('GET', '/api/v1/tenant', { token: w.adminA })).status, 200);
  },
  'PUT /operator/v1/tenants/:tenantId/subscriptions/:skuId': async (w) => {
    const res = await w.t.call('PUT', `/operator/v1/tenants/${w.b.tenantId}/subscriptions/SKYBRIDGE_BASIC`, { token: w.adminB, body: { seats: 1000 } });
    assert.equal(res.status, 401, 'a tenant cannot buy its own seats');
  },
  'PUT /operator/v1/tenants/:tenantId/domains/:name': async (w) => {
    const res = await w.t.call('PUT', `/operator/v1/tenants/${w.b.tenantId}/domains/alpha-verified.example`, { token: w.adminB, body: { verified: true } });
    assert.equal(res.status, 401);
  },
  'POST /operator/v1/tenants': async (w) => {
    const res = await w.t.call('POST', '/operator/v1/tenants', { token: w.adminB, body: { name: 'takeover' } });
    assert.equal(res.status, 401);
  },
};

for (const kind of storeKinds) {
  describe(`tenant isolation (${kind})`, () => {
    let w: World;

    before(async () => {
      const t = await startTestCloud(kind);
      const a = await t.createTenant('alpha');
      const b = await t.createTenant('bravo');
      const adminA = await t.token(a);
      const adminB = await t.token(b);
      const agentA = await registerTestAgent(t, a, adminA);
      const agentB = await registerTestAgent(t, b, adminB);
      const make = async (path: string, body: unknown) => (await t.call('POST', path, { token: adminA, body })).body.id as string;
      const user = await make('/api/v1/users', { userPrincipalName: `carol@${a.initialDomain}`, displayName: 'Carol' });
      const group = await make('/api/v1/groups', { displayName: 'Alpha team' });
      const contact = await make('/api/v1/contacts', { displayName: 'Vendor', mail: 'vendor@example.org' });
      await t.call('POST', `/api/v1/groups/${group}/members`, { token: adminA, body: { memberId: user } });
      const syncedImmutableId = guid();
      const lease = await agentA.acquireLease(60);
      const res = await agentA.sendBatch(`seed-${randomUUID()}`, { epoch: lease.epoch, operations: [{ op: 'upsert', type: 'user', immutableId: syncedImmutableId, attributes: { userPrincipalName: `synced@${a.initialDomain}` } }] });
      // tenant administration: a subscription and licences, domains, a role, an application
      await t.operator('PUT', `/operator/v1/tenants/${a.tenantId}/subscriptions/SKYBRIDGE_BASIC`, { seats: 5 });
      await t.call('PATCH', `/api/v1/users/${user}`, { token: adminA, body: { usageLocation: 'FR' } });
      await t.call('POST', `/api/v1/users/${user}/licenses`, { token: adminA, body: { skuId: 'SKYBRIDGE_BASIC' } });
      await t.call('POST', `/api/v1/groups/${group}/licenses`, { token: adminA, body: { skuId: 'SKYBRIDGE_BASIC' } });
      await t.addVerifiedDomain(a.tenantId, 'alpha-verified.example');
      await t.call('POST', '/api/v1/domains', { token: adminA, body: { name: 'alpha-only.example' } });
      await t.call('POST', '/api/v1/roles/UserAdministrator/members', { token: adminA, body: { principalType: 'user', principalId: user } });
      const app = (await t.call('POST', '/api/v1/applications', { token: adminA, body: { displayName: 'Alpha app', redirectUris: ['https://alpha.example/cb'] } })).body.clientId as string;
      w = { t, a, b, adminA, adminB, agentA, agentB, ids: { user, group, contact, syncedUser: res.results[0]!.objectId!, syncedImmutableId, app } };
    });
    after(() => w?.t.close());

    test('every registered route has an isolation case', () => {
      const keys = routes.map((r) => `${r.method} ${r.path}`);
      const missing = keys.filter((k) => !(k in cases));
      assert.deepEqual(missing, [], `routes without a tenant-isolation case: ${missing.join(', ')}`);
      assert.deepEqual(Object.keys(cases).filter((k) => !keys.includes(k)), [], 'cases for routes that no longer exist');
    });

    for (const [route, run] of Object.entries(cases)) {
      test(route, () => run(w));
    }
  });
}
