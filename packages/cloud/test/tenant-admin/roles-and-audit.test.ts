import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { auditActions, createApiClient, routes, type CreatedTenant } from '@skybridge/cloud';
import { roles, type Role } from '@skybridge/protocol';
import type { CloudClient } from '@skybridge/connect';
import { storeKinds } from '../helpers/stores.ts';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { registerTestAgent } from '../helpers/agent.ts';
import { TestDnsServer } from '../helpers/dns-server.ts';

/** A value for each path parameter: well-formed, naming nothing, so that no call changes anything. */
const fill = (path: string) => path.replace(/:([A-Za-z]+)/g, (_, name: string) => (name === 'role' ? 'UserAdministrator' : name === 'principalType' ? 'user' : name === 'skuId' ? 'SKYBRIDGE_BASIC' : name === 'name' ? 'nothing.example' : randomUUID()));

describe('roles: every role against every tenant endpoint (pglite: role checks do not depend on the store)', () => {
  let t: TestCloud;
  let tenant: CreatedTenant;
  const tokens = new Map<Role, string>();
  before(async () => {
    t = await startTestCloud('pglite');
    tenant = await t.createTenant('matrix');
    for (const r of roles) tokens.set(r, await t.tokenWithRoles(tenant, [r]));
  });
  after(() => t?.close());

  test('each route answers 403 to exactly the roles it does not list', async () => {
    const tenantRoutes = routes.filter((r) => typeof r.access === 'object');
    assert.ok(tenantRoutes.length > 60);
    const wrong: string[] = [];
    for (const route of tenantRoutes) {
      const allowed = (route.access as { roles: readonly Role[] }).roles;
      const path = fill(route.path).replace(/\/scim\/v2\/Schemas\/.*/, '/scim/v2/Schemas/x');
      for (const role of roles) {
        const res = await t.call(route.method, path, { token: tokens.get(role)!, ...(['POST', 'PUT', 'PATCH'].includes(route.method) ? { body: {} } : {}) });
        const forbidden = res.status === 403;
        // agent endpoints also need the caller to be a registered agent, not only to hold its role
        const agentOnly = role === 'DirectorySynchronizationAccounts' && /^\/(sync|agents)\/v1\//.test(route.path);
        if (!allowed.includes(role) && !forbidden) wrong.push(`${route.method} ${route.path} as ${role}: ${res.status}, expected 403`);
        if (allowed.includes(role) && forbidden && !agentOnly) wrong.push(`${route.method} ${route.path} as ${role}: 403 ${JSON.stringify(res.body)}`);
        if (forbidden && !isScim(route.path)) assert.equal(res.body.code, 'forbidden');
      }
    }
    assert.deepEqual(wrong, []);
  });

  test('the OpenAPI document describes every route the cloud serves, with its roles and request body', async () => {
    const res = await t.call('GET', '/api/v1/openapi.json');
    assert.equal(res.status, 200);
    const doc = res.body;
    assert.equal(doc.openapi, '3.1.0');
    for (const r of routes) {
      const op = doc.paths[r.path.replace(/:([A-Za-z]+)/g, '{$1}')]?.[r.method.toLowerCase()];
      assert.ok(op, `${r.method} ${r.path} is documented`);
      assert.equal(op.summary, r.summary);
      if (typeof r.access === 'object') assert.deepEqual(op['x-skybridge-roles'], r.access.roles);
    }
    const ids = Object.values(doc.paths).flatMap((p: any) => Object.values(p).map((o: any) => o.operationId));
    assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
    const addDomain = doc.paths['/api/v1/domains'].post.requestBody.content['application/json'].schema;
    assert.deepEqual(addDomain.required, ['name']);
    const federation = doc.paths['/api/v1/domains/{name}'].patch.requestBody.content['application/json'].schema;
    assert.ok(JSON.stringify(federation).includes('passiveSignInUri'));
  });

  test('a License Administrator changes usage location only; a User Administrator cannot give roles', async () => {
    const user = await t.call('POST', '/api/v1/users', { token: tokens.get('UserAdministrator')!, body: { userPrincipalName: `lee@${tenant.initialDomain}`, displayName: 'Lee' } });
    const lic = tokens.get('LicenseAdministrator')!;
    assert.equal((await t.call('PATCH', `/api/v1/users/${user.body.id}`, { token: lic, body: { usageLocation: 'US' } })).status, 200);
    assert.equal((await t.call('PATCH', `/api/v1/users/${user.body.id}`, { token: lic, body: { displayName: 'x' } })).status, 403);
    const res = await t.call('POST', '/api/v1/roles/GlobalAdministrator/members', { token: tokens.get('UserAdministrator')!, body: { principalType: 'user', principalId: user.body.id } });
    assert.equal(res.status, 403);
    assert.match(res.body.detail, /Global Administrator/);
  });
});
const isScim = (p: string) => p.startsWith('/scim/');

for (const kind of storeKinds) {
  describe(`roles and the audit log (${kind})`, () => {
    let t: TestCloud;
    let dns: TestDnsServer;
    let tenant: CreatedTenant;
    let admin: string;
    let adminUserId: string;
    let agent: CloudClient;

    before(async () => {
      dns = await TestDnsServer.start();
      t = await startTestCloud(kind, { dnsServers: [dns.address] });
      tenant = await t.createTenant('contoso');
      admin = await t.token(tenant);
      agent = await registerTestAgent(t, tenant, admin);
      const members = (await t.call('GET', '/api/v1/roles/GlobalAdministrator/members', { token: admin })).body.items;
      adminUserId = members.find((m: { principalType: string }) => m.principalType === 'user').principalId;
    });
    after(async () => {
      await t?.close();
      await dns?.close();
    });

    test('roles are given and taken; the last Global Administrator user stays', async () => {
      const list = (await t.call('GET', '/api/v1/roles', { token: admin })).body.items;
      assert.deepEqual(list.map((r: { id: string }) => r.id), [...roles]);
      assert.equal(list[0].memberCount, 2, 'the first administrator and the initial API client');
      const last = await t.call('DELETE', `/api/v1/roles/GlobalAdministrator/members/user/${adminUserId}`, { token: admin });
      assert.equal(last.status, 409);
      assert.equal(last.body.code, 'last_global_administrator');
      assert.equal((await t.call('DELETE', `/api/v1/users/${adminUserId}`, { token: admin })).body.code, 'last_global_administrator');
      assert.equal((await t.call('PATCH', `/api/v1/users/${adminUserId}`, { token: admin, body: { accountEnabled: false } })).body.code, 'last_global_administrator');
      const other = await t.call('POST', '/api/v1/users', { token: admin, body: { userPrincipalName: `second@${tenant.initialDomain}`, displayName: 'Second' } });
      const given = await t.call('POST', '/api/v1/roles/GlobalAdministrator/members', { token: admin, body: { principalType: 'user', principalId: other.body.id } });
      assert.equal(given.status, 201);
      assert.equal((await t.call('POST', '/api/v1/roles/GlobalAdministrator/members', { token: admin, body: { principalType: 'user', principalId: other.body.id } })).status, 200, 'again: nothing changes');
      assert.equal((await t.call('POST', '/api/v1/roles/Nope/members', { token: admin, body: { principalType: 'user', principalId: other.body.id } })).status, 404);
      assert.equal((await t.call('POST', '/api/v1/roles/UserAdministrator/members', { token: admin, body: { principalType: 'user', principalId: randomUUID() } })).status, 404);
      assert.equal((await t.call('DELETE', `/api/v1/roles/GlobalAdministrator/members/user/${adminUserId}`, { token: admin })).status, 204, 'another user holds it now');
      assert.equal((await t.call('DELETE', `/api/v1/roles/GlobalAdministrator/members/user/${other.body.id}`, { token: admin })).body.code, 'last_global_administrator');
      // give it back for the other tests
      await t.call('POST', '/api/v1/roles/GlobalAdministrator/members', { token: admin, body: { principalType: 'user', principalId: adminUserId } });
      // an API client can hold roles too: what it may do follows at its next token
      const client = await createApiClient(t.cloud.context.store, tenant.tenantId, 'reporting job', []);
      assert.equal((await t.call('GET', '/api/v1/subscriptions', { token: await t.token(tenant, client) })).status, 403);
      assert.equal((await t.call('POST', '/api/v1/roles/LicenseAdministrator/members', { token: admin, body: { principalType: 'client', principalId: client.clientId } })).status, 201);
      assert.equal((await t.call('GET', '/api/v1/subscriptions', { token: await t.token(tenant, client) })).status, 200);
      const holders = (await t.call('GET', '/api/v1/roles/LicenseAdministrator/members', { token: admin })).body.items;
      assert.deepEqual(holders.map((h: { displayName: string }) => h.displayName), ['reporting job']);
    });

    test('every kind of administrative action leaves an audit entry: who, when, what, before and after', async () => {
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await t.call(method, path, { token: admin, ...(body === undefined ? {} : { body }) });
        assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
        return res.body;
      };
      await call('PATCH', '/api/v1/tenant', { blockSoftMatch: true });
      const user = await call('POST', '/api/v1/users', { userPrincipalName: `audit@${tenant.initialDomain}`, displayName: 'Audited', usageLocation: 'FR' });
      await call('PATCH', `/api/v1/users/${user.id}`, { displayName: 'Audited twice' });
      const group = await call('POST', '/api/v1/groups', { displayName: 'Audit group' });
      await call('PATCH', `/api/v1/groups/${group.id}`, { description: 'watched' });
      await call('POST', `/api/v1/groups/${group.id}/members`, { memberId: user.id });
      const contact = await call('POST', '/api/v1/contacts', { displayName: 'Vendor', mail: 'v@example.org' });
      await call('PATCH', `/api/v1/contacts/${contact.id}`, { displayName: 'Vendor 2' });
      await call('DELETE', `/api/v1/contacts/${contact.id}`);
      await call('POST', '/api/v1/agents/registration-tokens');
      const spare = await registerTestAgent(t, tenant, admin, 'spare-host');
      await call('DELETE', `/api/v1/agents/${spare.credentials.agentId}`);
      await agent.reportPendingDeletions({ pending: 9, limit: 1, sample: [] });
      await call('POST', '/api/v1/sync/allow-deletes', {});
      const added = await call('POST', '/api/v1/domains', { name: 'audit.example' });
      await dns.set('audit.example', [{ type: 'TXT', data: added.verificationRecords[0].value }]);
      await call('POST', '/api/v1/domains/audit.example/verify');
      await call('PATCH', '/api/v1/domains/audit.example', { isDefault: true });
      await call('PATCH', `/api/v1/domains/${tenant.initialDomain}`, { isDefault: true });
      await call('DELETE', '/api/v1/domains/audit.example');
      assert.equal((await t.operator('PUT', `/operator/v1/tenants/${tenant.tenantId}/subscriptions/SKYBRIDGE_BASIC`, { seats: 3 })).status, 200);
      await call('POST', `/api/v1/users/${user.id}/licenses`, { skuId: 'SKYBRIDGE_BASIC' });
      await call('DELETE', `/api/v1/users/${user.id}/licenses/SKYBRIDGE_BASIC`);
      await call('POST', `/api/v1/groups/${group.id}/licenses`, { skuId: 'SKYBRIDGE_BASIC' });
      await call('DELETE', `/api/v1/groups/${group.id}/licenses/SKYBRIDGE_BASIC`);
      await call('POST', '/api/v1/roles/UserAdministrator/members', { principalType: 'user', principalId: user.id });
      await call('DELETE', `/api/v1/roles/UserAdministrator/members/user/${user.id}`);
      const app = await call('POST', '/api/v1/applications', { displayName: 'Audit app', redirectUris: ['https://app.example/cb'] });
      await call('PATCH', `/api/v1/applications/${app.clientId}`, { requiredServicePlans: ['MAIL'] });
      await call('DELETE', `/api/v1/applications/${app.clientId}`);
      await call('DELETE', `/api/v1/groups/${group.id}`);
      await call('POST', '/api/v1/signing-keys/rotate', {});
      // SCIM writes are administrative actions too
      const scimUser = await call('POST', '/scim/v2/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `scim@${tenant.initialDomain}` });
      await call('DELETE', `/scim/v2/Users/${scimUser.id}`);
      await call('DELETE', `/api/v1/users/${user.id}`);

      const entries: any[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await call('GET', `/api/v1/audit-logs?limit=20${cursor ? `&cursor=${cursor}` : ''}`);
        entries.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      const seen = new Set(entries.map((e) => e.action));
      assert.deepEqual(auditActions.filter((a) => !seen.has(a)), [], 'actions without an audit entry');
      // newest first, each with who and what
      assert.ok(entries.every((e, i) => i === 0 || e.activityDateTime <= entries[i - 1].activityDateTime));
      const rename = entries.find((e) => e.action === 'user.update' && e.target.id === user.id);
      assert.equal(rename.before.displayName, 'Audited');
      assert.equal(rename.after.displayName, 'Audited twice');
      assert.deepEqual(rename.initiatedBy, { type: 'client', id: tenant.apiClient.clientId, displayName: 'Initial API client' });
      const seats = entries.find((e) => e.action === 'subscription.set');
      assert.equal(seats.initiatedBy.type, 'operator');
      const token = entries.find((e) => e.action === 'agent.registrationToken.create');
      assert.ok(!JSON.stringify(token).includes('sbr_'), 'the token itself is never in the log');
      assert.ok(!JSON.stringify(entries).includes('sbs_'), 'nor a client secret');
      // filters
      const byTarget = (await call('GET', `/api/v1/audit-logs?targetId=${user.id}`)).items;
      assert.ok(byTarget.length >= 4 && byTarget.every((e: any) => e.target.id === user.id));
      assert.ok((await call('GET', '/api/v1/audit-logs?action=domain.verify')).items.every((e: any) => e.action === 'domain.verify'));
      assert.equal((await t.call('GET', '/api/v1/audit-logs?action=made.up', { token: admin })).status, 400);
      assert.deepEqual((await call('GET', `/api/v1/audit-logs?since=${new Date(Date.now() + 60_000).toISOString()}`)).items, []);
    });

    test('the audit log is append-only, whoever asks: the store refuses to change or remove an entry', async () => {
      const store = t.cloud.context.store;
      await assert.rejects(store.query(`UPDATE audit_log SET action = 'user.create' WHERE tenant_id = $1`, [tenant.tenantId]), /append-only/);
      await assert.rejects(store.query('DELETE FROM audit_log WHERE tenant_id = $1', [tenant.tenantId]), /append-only/);
      await assert.rejects(store.query('TRUNCATE audit_log'), /append-only/);
      const { rows } = await store.query<{ n: string | number }>('SELECT count(*) AS n FROM audit_log WHERE tenant_id = $1', [tenant.tenantId]);
      assert.ok(Number(rows[0]!.n) > 30);
    });
  });
}
