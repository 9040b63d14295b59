/**
 * The filters provisioning clients send most compile to SQL that the
 * database answers through an index, not by reading the tenant's objects
 * one by one: checked with EXPLAIN on a tenant of a few thousand users.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { CreatedTenant } from '@skybridge/cloud';
import { storeKinds } from '../helpers/stores.ts';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { filterCondition } from '../../src/scim/service.ts';

for (const kind of storeKinds) {
  describe(`SCIM filter plans (${kind})`, () => {
    let t: TestCloud;
    let tenant: CreatedTenant;
    let groupId: string;
    let userId: string;

    before(async () => {
      t = await startTestCloud(kind);
      tenant = await t.createTenant('plans');
      const store = t.cloud.context.store;
      // 5,000 users and a group holding all of them, written directly: this test is about query plans
      await store.query(`INSERT INTO directory_objects (id, tenant_id, object_type, display_name, upn, mail, immutable_id, attributes, source, change_seq)
        SELECT gen_random_uuid(), $1, 'user', 'User ' || i, 'user' || i || '@x.test', 'user' || i || '@x.test', 'anchor' || i,
               jsonb_build_object('userPrincipalName', 'user' || i || '@x.test', 'displayName', 'User ' || i), 'cloud', i
          FROM generate_series(1, 5000) AS i`, [tenant.tenantId]);
      groupId = randomUUID();
      await store.query(`INSERT INTO directory_objects (id, tenant_id, object_type, display_name, attributes, source, change_seq) VALUES ($1, $2, 'group', 'All', '{"displayName":"All"}', 'cloud', 9999)`, [groupId, tenant.tenantId]);
      await store.query(`INSERT INTO memberships (tenant_id, group_id, member_id, removed, change_seq) SELECT $1, $2, id, false, 1 FROM directory_objects WHERE tenant_id = $1 AND object_type = 'user'`, [tenant.tenantId, groupId]);
      userId = (await store.query<{ id: string }>(`SELECT id FROM directory_objects WHERE upn = 'user42@x.test'`)).rows[0]!.id;
      await store.query('ANALYZE directory_objects');
      await store.query('ANALYZE memberships');
    });
    after(() => t?.close());

    const plan = async (resource: 'User' | 'Group', filter: string) => {
      const { where, params } = filterCondition(tenant.tenantId, resource, filter);
      const { rows } = await t.cloud.context.store.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT o.id FROM directory_objects o WHERE ${where.join(' AND ')}`, params.values as never);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    };

    for (const [resource, filter] of [
      ['User', 'userName eq "USER42@x.test"'],
      ['User', 'userName sw "user42"'],
      ['User', 'externalId eq "anchor42"'],
      ['User', 'id eq "{user}"'],
      ['User', 'displayName eq "User 42"'],
      ['User', 'displayName sw "User 42"'],
      ['Group', 'members[value eq "{user}"]'],
      ['Group', 'displayName eq "All" and members.value eq "{user}"'],
    ] as const) {
      test(`${resource}s: ${filter} uses an index`, async () => {
        const text = await plan(resource, filter.replace('{user}', userId));
        assert.match(text, /Index|Bitmap/, text);
        assert.doesNotMatch(text, /Seq Scan on directory_objects/, text);
      });
    }

    test('the plans find the right objects', async () => {
      const token = await t.token(tenant);
      const res = await t.call('GET', `/scim/v2/Groups?filter=${encodeURIComponent(`members[value eq "${userId}"]`)}&excludedAttributes=members`, { token });
      assert.deepEqual(res.body.Resources.map((r: { id: string }) => r.id), [groupId]);
      const users = await t.call('GET', `/scim/v2/Users?filter=${encodeURIComponent('userName sw "USER420"')}&attributes=userName&sortBy=userName`, { token });
      // sorted in code-point order on both stores ('0' before '@')
      const expected = ['user420@x.test', ...Array.from({ length: 10 }, (_, i) => `user420${i}@x.test`)].sort();
      assert.deepEqual(users.body.Resources.map((r: { userName: string }) => r.userName), expected);
      assert.equal(expected.at(-1), 'user420@x.test');
    });
  });
}
