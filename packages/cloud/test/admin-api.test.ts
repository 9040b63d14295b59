import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { CreatedTenant } from '@skybridge/cloud';
import type { CloudClient } from '@skybridge/connect';
import { storeKinds } from './helpers/stores.ts';
import { startTestCloud, type TestCloud } from './helpers/cloud.ts';
import { registerTestAgent } from './helpers/agent.ts';

const guid = () => Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64');

for (const kind of storeKinds) {
  describe(`admin API (${kind})`, () => {
    let t: TestCloud;
    let tenant: CreatedTenant;
    let admin: string;
    let agent: CloudClient;

    before(async () => {
      t = await startTestCloud(kind, { quotas: { maxStringLength: 512 } });
      tenant = await t.createTenant('contoso');
      admin = await t.token(tenant);
      agent = await registerTestAgent(t, tenant, admin);
    });
    after(() => t?.close());

    test('cloud users, groups and contacts: create, read, change, page, delete', async () => {
      const created = await t.call('POST', '/api/v1/users', { token: admin, body: { userPrincipalName: `dana@${tenant.initialDomain}`, displayName: 'Dana', usageLocation: 'FR' } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.onPremisesSyncEnabled, false);
      assert.equal(created.body.usageLocation, 'FR');
      const id = created.body.id as string;
      const patched = await t.call('PATCH', `/api/v1/users/${id}`, { token: admin, body: { jobTitle: 'Engineer', displayName: null } });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.jobTitle, 'Engineer');
      assert.equal(patched.body.displayName, undefined);
      assert.equal(patched.body.version, 2);
      const dup = await t.call('POST', '/api/v1/users', { token: admin, body: { userPrincipalName: `DANA@${tenant.initialDomain}` } });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.code, 'already_exists');
      const group = await t.call('POST', '/api/v1/groups', { token: admin, body: { displayName: 'Engineering', securityEnabled: true } });
      const nested = await t.call('POST', '/api/v1/groups', { token: admin, body: { displayName: 'Platform', securityEnabled: true } });
      assert.equal((await t.call('POST', `/api/v1/groups/${group.body.id}/members`, { token: admin, body: { memberId: id } })).status, 204);
      assert.equal((await t.call('POST', `/api/v1/groups/${group.body.id}/members`, { token: admin, body: { memberId: nested.body.id } })).status, 204);
      const members = await t.call('GET', `/api/v1/groups/${group.body.id}/members?limit=1`, { token: admin });
      assert.equal(members.body.items.length, 1);
      const rest = await t.call('GET', `/api/v1/groups/${group.body.id}/members?limit=1&cursor=${members.body.nextCursor}`, { token: admin });
      assert.deepEqual([...members.body.items, ...rest.body.items].map((m: { id: string }) => m.id).sort(), [id, nested.body.id].sort());
      assert.equal(rest.body.nextCursor, null);
      assert.equal((await t.call('DELETE', `/api/v1/groups/${group.body.id}/members/${id}`, { token: admin })).status, 204);
      for (let i = 0; i < 5; i++) await t.call('POST', '/api/v1/contacts', { token: admin, body: { displayName: `Vendor ${i}`, mail: `v${i}@example.org` } });
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { items: { id: string }[]; nextCursor: string | null } } = await t.call('GET', `/api/v1/contacts?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: admin });
        seen.push(...page.body.items.map((c) => c.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      assert.equal(seen.length, 5);
      assert.equal(new Set(seen).size, 5);
      assert.equal((await t.call('DELETE', `/api/v1/users/${id}`, { token: admin })).status, 204);
      assert.equal((await t.call('GET', `/api/v1/users/${id}`, { token: admin })).status, 404);
      // the UPN is free again after deletion
      assert.equal((await t.call('POST', '/api/v1/users', { token: admin, body: { userPrincipalName: `dana@${tenant.initialDomain}` } })).status, 201);
    });

    test('a synced object is read-only except its cloud-owned fields', async () => {
      const lease = await agent.acquireLease(60);
      const res = await agent.sendBatch(`k-${randomUUID()}`, {
        epoch: lease.epoch,
        operations: [{ op: 'upsert', type: 'user', immutableId: guid(), attributes: { userPrincipalName: `erin@${tenant.initialDomain}`, displayName: 'Erin', onPremisesDistinguishedName: 'CN=Erin,OU=Staff,DC=contoso,DC=local', onPremisesSecurityIdentifier: 'S-1-5-21-1-2-3-1105' } }],
      });
      const id = res.results[0]!.objectId!;
      const read = await t.call('GET', `/api/v1/users/${id}`, { token: admin });
      assert.equal(read.body.onPremisesSyncEnabled, true);
      assert.equal(read.body.onPremisesDistinguishedName, 'CN=Erin,OU=Staff,DC=contoso,DC=local');
      assert.ok(read.body.onPremisesLastSyncDateTime);
      const refused = await t.call('PATCH', `/api/v1/users/${id}`, { token: admin, body: { displayName: 'Changed in the cloud' } });
      assert.equal(refused.status, 409);
      assert.equal(refused.body.code, 'read_only_synced_object');
      assert.match(refused.body.detail, /can only be changed there/);
      const usage = await t.call('PATCH', `/api/v1/users/${id}`, { token: admin, body: { usageLocation: 'DE' } });
      assert.equal(usage.status, 200);
      assert.equal(usage.body.usageLocation, 'DE');
      assert.equal((await t.call('DELETE', `/api/v1/users/${id}`, { token: admin })).body.code, 'read_only_synced_object');
    });

    test('sync errors are listed until a later batch applies the object', async () => {
      const lease = await agent.acquireLease(60);
      const id = guid();
      const dn = 'CN=Broken,OU=Staff,DC=contoso,DC=local';
      await agent.sendBatch(`e-${randomUUID()}`, { epoch: lease.epoch, operations: [{ op: 'upsert', type: 'user', immutableId: id, attributes: { userPrincipalName: 'broken', onPremisesDistinguishedName: dn } }] });
      const listed = await t.call('GET', '/api/v1/sync/errors', { token: admin });
      const entry = listed.body.items.find((e: { immutableId: string }) => e.immutableId === id);
      assert.equal(entry.category, 'data_validation');
      assert.equal(entry.attribute, 'userPrincipalName');
      assert.equal(entry.onPremisesDistinguishedName, dn);
      assert.match(entry.message, /user principal name/);
      await agent.sendBatch(`e-${randomUUID()}`, { epoch: lease.epoch, operations: [{ op: 'upsert', type: 'user', immutableId: id, attributes: { userPrincipalName: `fixed@${tenant.initialDomain}`, onPremisesDistinguishedName: dn } }] });
      const after = await t.call('GET', '/api/v1/sync/errors', { token: admin });
      assert.ok(!after.body.items.some((e: { immutableId: string }) => e.immutableId === id));
    });

    test('roles are checked on every endpoint', async () => {
      const userAdmin = await t.tokenWithRoles(tenant, ['UserAdministrator']);
      const licenseAdmin = await t.tokenWithRoles(tenant, ['LicenseAdministrator']);
      const hybridAdmin = await t.tokenWithRoles(tenant, ['HybridIdentityAdministrator']);
      const nobody = await t.tokenWithRoles(tenant, []);
      const created = await t.call('POST', '/api/v1/users', { token: userAdmin, body: { userPrincipalName: `frank@${tenant.initialDomain}` } });
      assert.equal(created.status, 201);
      const id = created.body.id as string;
      assert.equal((await t.call('POST', '/api/v1/users', { token: licenseAdmin, body: { userPrincipalName: `gina@${tenant.initialDomain}` } })).status, 403);
      assert.equal((await t.call('PATCH', `/api/v1/users/${id}`, { token: licenseAdmin, body: { usageLocation: 'US' } })).status, 200);
      assert.equal((await t.call('PATCH', `/api/v1/users/${id}`, { token: licenseAdmin, body: { displayName: 'x' } })).status, 403);
      assert.equal((await t.call('POST', '/api/v1/agents/registration-tokens', { token: userAdmin })).status, 403);
      assert.equal((await t.call('POST', '/api/v1/agents/registration-tokens', { token: hybridAdmin })).status, 201);
      assert.equal((await t.call('GET', '/api/v1/users', { token: hybridAdmin })).status, 200);
      assert.equal((await t.call('DELETE', `/api/v1/users/${id}`, { token: hybridAdmin })).status, 403);
      const denied = await t.call('GET', '/api/v1/users', { token: nobody });
      assert.equal(denied.status, 403);
      assert.match(denied.body.detail, /Global Administrator/);
      // the sync API is for agents only, and agents cannot use the admin API
      assert.equal((await t.call('POST', '/sync/v1/lease', { token: admin, body: {} })).status, 403);
      assert.equal((await t.call('GET', '/api/v1/users', { token: await agent.accessToken() })).status, 403);
      assert.equal((await t.call('GET', '/api/v1/users')).status, 401);
    });

    test('bad input gets a problem+json answer that names the problem, and writes nothing', async () => {
      const before = (await t.call('GET', '/api/v1/tenant', { token: admin })).body.objectCount;
      const malformed = await t.call('POST', '/api/v1/users', { token: admin, rawBody: '{"userPrincipalName": ', headers: { 'content-type': 'application/json' } });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.code, 'invalid_json');
      assert.match(malformed.headers['content-type'] as string, /^application\/problem\+json/);
      const unknown = await t.call('POST', '/api/v1/users', { token: admin, body: { userPrincipalName: `h@${tenant.initialDomain}`, favouriteColour: 'blue' } });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.body.code, 'unknown_field');
      assert.match(unknown.body.detail, /favouriteColour/);
      const invalid = await t.call('POST', '/api/v1/users', { token: admin, body: { userPrincipalName: 'no-at-sign' } });
      assert.equal(invalid.body.code, 'invalid_request');
      assert.equal(invalid.body.errors[0].pointer, '/userPrincipalName');
      const tooLong = await t.call('POST', '/api/v1/groups', { token: admin, body: { displayName: 'ok', description: 'd'.repeat(513) } });
      assert.equal(tooLong.status, 400);
      assert.match(tooLong.body.detail, /description is 513 characters long; at most 512/);
      const oversize = await t.call('POST', '/api/v1/users', { token: admin, rawBody: JSON.stringify({ displayName: 'x'.repeat(5 * 1024 * 1024) }), headers: { 'content-type': 'application/json' } });
      assert.equal(oversize.status, 413);
      assert.equal(oversize.body.code, 'body_too_large');
      const notJson = await t.call('POST', '/api/v1/users', { token: admin, rawBody: 'userPrincipalName=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(notJson.status, 415);
      const badCursor = await t.call('GET', '/api/v1/users?cursor=garbage', { token: admin });
      assert.equal(badCursor.body.code, 'invalid_request');
      const badLimit = await t.call('GET', '/api/v1/users?limit=0', { token: admin });
      assert.equal(badLimit.status, 400);
      const wrongMethod = await t.call('PUT', '/api/v1/users', { token: admin, body: {} });
      assert.equal(wrongMethod.status, 405);
      assert.equal(wrongMethod.headers.allow, 'GET, POST');
      const nowhere = await t.call('GET', '/api/v1/nothing', { token: admin });
      assert.equal(nowhere.status, 404);
      assert.equal(nowhere.body.code, 'not_found');
      const badBatch = await t.call('POST', '/sync/v1/batches', { token: await agent.accessToken(), body: { epoch: 1, operations: [] }, headers: { 'idempotency-key': 'k-123456789' } });
      assert.equal(badBatch.status, 400);
      const noKey = await t.call('POST', '/sync/v1/batches', { token: await agent.accessToken(), body: { epoch: 1, operations: [{ op: 'delete', type: 'user', immutableId: guid() }] } });
      assert.match(noKey.body.detail, /Idempotency-Key/);
      assert.equal((await t.call('GET', '/api/v1/tenant', { token: admin })).body.objectCount, before);
    });
  });
}
