import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { CreatedTenant } from '@skybridge/cloud';
import type { CloudClient } from '@skybridge/connect';
import { storeKinds } from '../helpers/stores.ts';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { registerTestAgent } from '../helpers/agent.ts';

const guid = () => Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64');

for (const kind of storeKinds) {
  describe(`licences (${kind})`, () => {
    let t: TestCloud;
    let tenant: CreatedTenant;
    let admin: string;
    let agent: CloudClient;
    let epoch: number;
    const users: Record<string, { id: string; immutableId: string }> = {};
    let group: { id: string; immutableId: string };

    const sync = async (operations: unknown[]) => {
      const res = await agent.sendBatch(`lic-${randomUUID()}`, { epoch, operations: operations as never });
      for (const r of res.results) assert.notEqual(r.status, 'error', JSON.stringify(r));
      return res.results;
    };
    const licencesOf = async (name: string) => (await t.call('GET', `/api/v1/users/${users[name]!.id}/licenses`, { token: admin })).body;
    const skus = async (name: string) => (await licencesOf(name)).licences.map((l: { skuId: string }) => l.skuId);
    const errorCodes = async (name: string) => (await licencesOf(name)).errors.map((e: { code: string }) => e.code);
    const seats = (n: number, sku = 'SKYBRIDGE_BASIC') => t.operator('PUT', `/operator/v1/tenants/${tenant.tenantId}/subscriptions/${sku}`, { seats: n });
    const setLocation = (name: string, usageLocation: string | null) => t.call('PATCH', `/api/v1/users/${users[name]!.id}`, { token: admin, body: { usageLocation } });

    before(async () => {
      t = await startTestCloud(kind);
      tenant = await t.createTenant('contoso');
      admin = await t.token(tenant);
      agent = await registerTestAgent(t, tenant, admin);
      epoch = (await agent.acquireLease(300)).epoch;
      // synchronized users and a synchronized group, as an agent sends them
      const names = ['ann', 'bob', 'cid', 'dee', 'eve'];
      for (const n of names) users[n] = { id: '', immutableId: guid() };
      const results = await sync(names.map((n) => ({ op: 'upsert', type: 'user', immutableId: users[n]!.immutableId, attributes: { userPrincipalName: `${n}@${tenant.initialDomain}`, displayName: n } })));
      names.forEach((n, i) => (users[n]!.id = results[i]!.objectId!));
      group = { id: '', immutableId: guid() };
      const [g] = await sync([{ op: 'upsert', type: 'group', immutableId: group.immutableId, attributes: { displayName: 'Sales' }, members: { add: ['bob', 'cid', 'dee'].map((n) => users[n]!.immutableId) } }]);
      group.id = g!.objectId!;
      for (const n of ['ann', 'bob', 'cid']) assert.equal((await setLocation(n, 'FR')).status, 200, 'usage location is cloud-owned, so it can be set on synced users');
      assert.equal((await seats(2)).status, 200);
    });
    after(() => t?.close());

    test('direct assignment: a usage location first, a free seat, clear errors otherwise', async () => {
      const noLocation = await t.call('POST', `/api/v1/users/${users.dee!.id}/licenses`, { token: admin, body: { skuId: 'SKYBRIDGE_BASIC' } });
      assert.equal(noLocation.status, 409);
      assert.equal(noLocation.body.code, 'usage_location_required');
      assert.match(noLocation.body.detail, /set usageLocation/);
      const unknown = await t.call('POST', `/api/v1/users/${users.ann!.id}/licenses`, { token: admin, body: { skuId: 'SKYBRIDGE_PREMIUM' } });
      assert.equal(unknown.status, 404);
      assert.match(unknown.body.detail, /subscription to SKYBRIDGE_PREMIUM/);
      const ok = await t.call('POST', `/api/v1/users/${users.ann!.id}/licenses`, { token: admin, body: { skuId: 'skybridge_basic' } });
      assert.equal(ok.status, 201);
      assert.deepEqual(ok.body.licences, [{ skuId: 'SKYBRIDGE_BASIC', displayName: 'Skybridge Basic', servicePlans: ['SSO_APPS', 'MAIL'], assignedDirectly: true, viaGroups: [] }]);
      assert.equal((await t.call('POST', `/api/v1/users/${users.ann!.id}/licenses`, { token: admin, body: { skuId: 'SKYBRIDGE_BASIC' } })).status, 200, 'assigning again changes nothing');
      const report = (await t.call('GET', '/api/v1/subscriptions', { token: admin })).body.items[0];
      assert.deepEqual({ seats: report.seats, consumed: report.consumed, available: report.available, direct: report.assignedDirectly }, { seats: 2, consumed: 1, available: 1, direct: 1 });
    });

    test('group-based: members get it while seats last; the others are recorded per user with the reason', async () => {
      const res = await t.call('POST', `/api/v1/groups/${group.id}/licenses`, { token: admin, body: { skuId: 'SKYBRIDGE_BASIC' } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      // one seat left: bob gets it (lowest id first is not promised; exactly one of bob and cid does), dee has no location
      const holders = [(await skus('bob')).length, (await skus('cid')).length];
      assert.deepEqual(holders.sort(), [0, 1]);
      const waiting = (await skus('bob')).length ? 'cid' : 'bob';
      assert.deepEqual(await errorCodes(waiting), ['no_seats']);
      assert.deepEqual(await errorCodes('dee'), ['usage_location_missing']);
      assert.match((await licencesOf('dee')).errors[0].message, /no usage location/);
      const g = (await t.call('GET', `/api/v1/groups/${group.id}/licenses`, { token: admin })).body.items[0];
      assert.deepEqual({ users: g.assignedUsers, errors: g.errors }, { users: 1, errors: { usageLocationMissing: 1, noSeats: 1 } });
      const report = (await t.call('GET', '/api/v1/subscriptions/SKYBRIDGE_BASIC/assignments', { token: admin })).body.items;
      assert.equal(report.length, 4, 'ann, the holder, and the two waiting');
      // seats run out for a direct assignment too
      const full = await t.call('POST', `/api/v1/users/${users.eve!.id}/licenses`, { token: admin, body: { skuId: 'SKYBRIDGE_BASIC' } });
      assert.equal(full.status, 409);
      assert.equal((await setLocation('eve', 'DE')).status, 200);
      const noSeat = await t.call('POST', `/api/v1/users/${users.eve!.id}/licenses`, { token: admin, body: { skuId: 'SKYBRIDGE_BASIC' } });
      assert.equal(noSeat.body.code, 'no_seats');
      assert.match(noSeat.body.detail, /every seat of SKYBRIDGE_BASIC is taken \(2 of 2\)/);
    });

    test('membership changes synchronized from AD move the licence: a member leaves, the waiting one gets the seat', async () => {
      const holder = (await skus('bob')).length ? 'bob' : 'cid';
      const waiting = holder === 'bob' ? 'cid' : 'bob';
      await sync([{ op: 'upsert', type: 'group', immutableId: group.immutableId, attributes: { displayName: 'Sales' }, members: { remove: [users[holder]!.immutableId] } }]);
      assert.deepEqual(await skus(holder), [], 'left the group: lost the licence');
      assert.deepEqual(await skus(waiting), ['SKYBRIDGE_BASIC'], 'the freed seat went to the user waiting for it');
      assert.deepEqual(await errorCodes(waiting), []);
      // a new member joins while seats are out
      await sync([{ op: 'upsert', type: 'group', immutableId: group.immutableId, attributes: { displayName: 'Sales' }, members: { add: [users.eve!.immutableId] } }]);
      assert.deepEqual(await errorCodes('eve'), ['no_seats']);
      // the usage location arrives: dee now waits for a seat instead
      await setLocation('dee', 'FR');
      assert.deepEqual(await errorCodes('dee'), ['no_seats']);
      // more seats: everyone waiting gets one
      await seats(10);
      assert.deepEqual(await skus('dee'), ['SKYBRIDGE_BASIC']);
      assert.deepEqual(await skus('eve'), ['SKYBRIDGE_BASIC']);
      assert.equal((await t.call('GET', '/api/v1/subscriptions', { token: admin })).body.items[0].errors, 0);
      // a member deleted on-premises gives its seat back
      const before = (await t.call('GET', '/api/v1/subscriptions', { token: admin })).body.items[0].consumed;
      await sync([{ op: 'delete', type: 'user', immutableId: users.eve!.immutableId }]);
      assert.equal((await t.call('GET', '/api/v1/subscriptions', { token: admin })).body.items[0].consumed, before - 1);
    });

    test('a user holding a licence directly and through a group takes one seat; removing either keeps the other', async () => {
      await sync([{ op: 'upsert', type: 'group', immutableId: group.immutableId, attributes: { displayName: 'Sales' }, members: { add: [users.ann!.immutableId] } }]);
      const ann = (await licencesOf('ann')).licences[0];
      assert.deepEqual({ direct: ann.assignedDirectly, groups: ann.viaGroups }, { direct: true, groups: [group.id] });
      const viaGroup = await t.call('DELETE', `/api/v1/users/${users.dee!.id}/licenses/SKYBRIDGE_BASIC`, { token: admin });
      assert.equal(viaGroup.status, 409);
      assert.match(viaGroup.body.detail, /through the group/);
      assert.equal((await t.call('DELETE', `/api/v1/users/${users.ann!.id}/licenses/SKYBRIDGE_BASIC`, { token: admin })).status, 204);
      assert.deepEqual(await skus('ann'), ['SKYBRIDGE_BASIC'], 'still held through the group');
      assert.equal((await t.call('DELETE', `/api/v1/groups/${group.id}/licenses/SKYBRIDGE_BASIC`, { token: admin })).status, 204);
      for (const n of ['ann', 'dee']) {
        assert.deepEqual(await skus(n), []);
        assert.equal((await t.call('GET', `/api/v1/users/${users[n]!.id}`, { token: admin })).status, 200, 'removing a licence never deletes a user');
      }
      assert.equal((await t.call('GET', '/api/v1/subscriptions', { token: admin })).body.items[0].consumed, 0);
    });

    test('the seats used, kept by the store through every change above, equal a count of the live holders', async () => {
      const { rows } = await t.cloud.context.store.query<{ sku_id: string; consumed: number; counted: string | number }>(
        `SELECT s.sku_id, s.consumed, (SELECT count(DISTINCT l.user_id) FROM user_licences l JOIN directory_objects u ON u.id = l.user_id AND u.deleted_at IS NULL
                                        WHERE l.tenant_id = s.tenant_id AND l.sku_id = s.sku_id) AS counted
           FROM subscriptions s WHERE s.tenant_id = $1`, [tenant.tenantId]);
      for (const r of rows) assert.equal(r.consumed, Number(r.counted), r.sku_id);
      // a deleted holder frees its seat, a restored one takes it again
      await t.call('POST', `/api/v1/users/${users.cid!.id}/licenses`, { token: admin, body: { skuId: 'SKYBRIDGE_BASIC' } });
      const used = async () => (await t.call('GET', '/api/v1/subscriptions', { token: admin })).body.items[0].consumed as number;
      const before = await used();
      await sync([{ op: 'delete', type: 'user', immutableId: users.cid!.immutableId }]);
      assert.equal(await used(), before - 1);
      await sync([{ op: 'upsert', type: 'user', immutableId: users.cid!.immutableId, attributes: { userPrincipalName: `cid@${tenant.initialDomain}`, displayName: 'cid' } }]);
      assert.equal(await used(), before, 'restored with its direct licence');
      await t.call('DELETE', `/api/v1/users/${users.cid!.id}/licenses/SKYBRIDGE_BASIC`, { token: admin });
    });

    test('licences gate applications that require a service plan', async () => {
      const app = await t.call('POST', '/api/v1/applications', { token: admin, body: { displayName: 'Payroll', redirectUris: ['https://payroll.example/callback'], requiredServicePlans: ['SSO_APPS'] } });
      assert.equal(app.status, 201, JSON.stringify(app.body));
      assert.match(app.body.clientSecret, /^sbs_/);
      const files = await t.call('POST', '/api/v1/applications', { token: admin, body: { displayName: 'Files', redirectUris: ['https://files.example/cb'], requiredServicePlans: ['FILES'] } });
      const bad = await t.call('POST', '/api/v1/applications', { token: admin, body: { displayName: 'X', redirectUris: ['http://evil.example/cb'], requiredServicePlans: ['NOPE'] } });
      assert.equal(bad.status, 400);
      await t.call('POST', `/api/v1/users/${users.bob!.id}/licenses`, { token: admin, body: { skuId: 'SKYBRIDGE_BASIC' } });
      const access = async (clientId: string, name: string) => (await t.call('GET', `/api/v1/applications/${clientId}/access/${users[name]!.id}`, { token: admin })).body;
      assert.equal((await access(app.body.clientId, 'bob')).allowed, true);
      const refused = await access(app.body.clientId, 'cid');
      assert.equal(refused.allowed, false);
      assert.deepEqual(refused.missingServicePlans, ['SSO_APPS']);
      assert.match(refused.message, /Payroll needs a licence that includes SSO_APPS/);
      assert.deepEqual((await access(files.body.clientId, 'bob')).missingServicePlans, ['FILES'], 'Basic does not include file storage');
      await t.call('PATCH', `/api/v1/applications/${app.body.clientId}`, { token: admin, body: { requiredServicePlans: [] } });
      assert.equal((await access(app.body.clientId, 'cid')).allowed, true);
    });
  });
}
