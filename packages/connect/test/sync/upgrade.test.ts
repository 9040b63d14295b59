/**
 * Upgrading from another sync tool, at the size the issue names: a tenant
 * preloaded (over SCIM Bulk, as a provisioning tool would) with 1,000 users
 * whose immutable id is base64(objectGUID) of real AD users and 100
 * cloud-only users carrying the primary SMTP address of other AD users. The
 * preview reports 1,000 hard and 100 soft matches and the rest new; the sync
 * creates no duplicate; a cloud user that has an immutable id of its own is
 * never soft-matched; a group above the old DirSync limit of 15,000 members
 * syncs whole.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { CreatedTenant } from '@skybridge/cloud';
import { storeKinds } from '../../../cloud/test/helpers/stores.ts';
import { startTestCloud, type TestCloud } from '../../../cloud/test/helpers/cloud.ts';
import { runCli } from '../../../cloud/test/helpers/cli.ts';
import { adminClient, upgradeSeed, type UpgradeDirectory } from '../../../../scripts/test-dc/seed.ts';
import { startTestDc, type TestDc } from '../../../../scripts/test-dc/test-dc.ts';
import type { AgentFiles } from '../helpers/ad.ts';
import { registeredAgent } from '../helpers/sync.ts';

const userSchema = 'urn:ietf:params:scim:schemas:core:2.0:User';
const bulkSchema = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

for (const kind of storeKinds) {
  describe(`the upgrade case at scale: 1,000 hard, 100 soft, a 15,001-member group (${kind})`, { timeout: 1_200_000 }, () => {
    let dc: TestDc;
    let seed: UpgradeDirectory;
    let t: TestCloud;
    let tenant: CreatedTenant;
    let token: string;
    let files: AgentFiles;
    const hard = new Map<string, string>(); // AD DN → cloud id
    const soft = new Map<string, string>();
    let foreign: { id: string; dn: string };

    const count = async (sql: string) => Number((await t.cloud.context.store.query<{ n: string }>(sql, [tenant.tenantId])).rows[0]!.n);

    before(async () => {
      dc = await startTestDc({ seed: upgradeSeed });
      seed = dc.manifest as UpgradeDirectory;
      t = await startTestCloud(kind);
      tenant = await t.createTenant('upgrade');
      token = await t.token(tenant);
      const d = tenant.initialDomain;
      // the objectGUIDs of the first 1,000 users, read as an administrator would
      const client = await adminClient(dc);
      const guids = new Map<string, string>();
      try {
        const { searchEntries } = await client.search(`OU=Upgrade,${dc.baseDn}`, { scope: 'one', filter: '(objectClass=user)', attributes: ['objectGUID'], explicitBufferAttributes: ['objectGUID'], paged: { pageSize: 1000 } });
        for (const e of searchEntries) guids.set(e.dn.toLowerCase(), Buffer.from(e.objectGUID as Buffer).toString('base64'));
      } finally {
        await client.unbind();
      }
      const post = (bulkId: string, data: Record<string, unknown>) => ({ method: 'POST', path: '/Users', bulkId, data: { schemas: [userSchema], ...data } });
      const operations = [
        ...seed.users.slice(0, 1000).map((u, i) => post(`h${i}`, { userName: `old-${u.sAMAccountName}@${d}`, externalId: guids.get(u.dn.toLowerCase()) })),
        ...seed.users.slice(1000, 1100).map((u, i) => post(`s${i}`, { userName: `cloud-${u.sAMAccountName}@${d}`, emails: [{ value: u.mail, type: 'work', primary: true }] })),
      ];
      for (let i = 0; i < operations.length; i += 1000) {
        const res = await t.call('POST', '/scim/v2/Bulk', { token, body: { schemas: [bulkSchema], Operations: operations.slice(i, i + 1000) } });
        assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
        for (const r of res.body.Operations as { bulkId: string; status: string; location: string }[]) {
          assert.equal(r.status, '201', JSON.stringify(r));
          const [kindOf, n] = [r.bulkId[0], Number(r.bulkId.slice(1))];
          const id = r.location.split('/').pop()!;
          if (kindOf === 'h') hard.set(seed.users[n]!.dn, id);
          else soft.set(seed.users[1000 + n]!.dn, id);
        }
      }
      // a cloud user with an immutable id of its own and an AD user's address: never soft-matched
      const other = seed.users[1099]!;
      foreign = { id: (await t.call('POST', '/scim/v2/Users', { token, body: { schemas: [userSchema], userName: `foreign@${d}`, externalId: Buffer.from(randomUUID()).toString('base64'), emails: [{ value: other.mail, type: 'work' }] } })).body.id, dn: other.dn };
      files = await registeredAgent(dc, t, token, { containers: [`OU=Upgrade,${dc.baseDn}`] });
    }, { timeout: 900_000 }); // on a fresh machine the first run seeds the upgrade template (thousands of users, a 15,001-member group) once
    after(async () => {
      files?.cleanup();
      await t?.close();
      await dc?.stop();
    });

    test('the takeover preview reports 1,000 hard, 100 soft and the rest new, and writes nothing', async () => {
      const before = await count(`SELECT count(*) AS n FROM directory_objects WHERE tenant_id = $1`);
      const res = await runCli(['connect', 'takeover', '--preview', '--json', '--config', files.configPath]);
      assert.equal(res.code, 0, res.stderr);
      const tally = JSON.parse(res.stdout);
      assert.equal(tally.hard, 1000);
      assert.equal(tally.takenOver, 1000, 'they are cloud-managed until the agent takes them over');
      assert.equal(tally.soft, 100);
      assert.equal(tally.refused, 0);
      assert.equal(tally.new, seed.contacts + 1, 'the contacts and the group are new');
      assert.equal(await count(`SELECT count(*) AS n FROM directory_objects WHERE tenant_id = $1`), before);
    });

    test('the sync takes them over with no duplicate, leaves the foreign user alone, and syncs the 15,001-member group whole', async () => {
      const res = await runCli(['connect', 'sync', '--json', '--config', files.configPath]);
      assert.equal(res.code, 0, res.stderr);
      const s = JSON.parse(res.stdout).sync;
      assert.equal(s.export.errors, 0, JSON.stringify(JSON.parse(res.stdout).errors).slice(0, 1000));
      // every AD user is one cloud user: the preloaded ones kept their cloud ids
      assert.equal(await count(`SELECT count(*) AS n FROM directory_objects WHERE tenant_id = $1 AND object_type = 'user' AND source = 'onprem' AND deleted_at IS NULL`), 1100);
      assert.equal(await count(`SELECT count(*) AS n FROM directory_objects WHERE tenant_id = $1 AND object_type = 'user' AND deleted_at IS NULL`), 1100 + 2, '1,100 synced, the administrator, the foreign user');
      const { rows } = await t.cloud.context.store.query<{ id: string; on_prem_dn: string; immutable_id: string }>(
        `SELECT id, on_prem_dn, immutable_id FROM directory_objects WHERE tenant_id = $1 AND object_type = 'user' AND source = 'onprem'`, [tenant.tenantId]);
      const byDn = new Map(rows.map((r) => [r.on_prem_dn.toLowerCase(), r]));
      for (const [dn, id] of [...hard, ...soft]) assert.equal(byDn.get(dn.toLowerCase())?.id, id, `${dn} was matched onto its cloud user`);
      const f = await t.call('GET', `/scim/v2/Users/${foreign.id}`, { token });
      assert.notEqual(f.body.externalId, byDn.get(foreign.dn.toLowerCase())?.immutable_id, 'the foreign user keeps its own immutable id');
      assert.notEqual(byDn.get(foreign.dn.toLowerCase())?.id, foreign.id);
      // the group above 15,000 members, every member linked
      assert.ok(seed.groupMembers > 15_000);
      const members = await count(`SELECT count(*) AS n FROM memberships m JOIN directory_objects g ON g.id = m.group_id
        WHERE m.tenant_id = $1 AND NOT m.removed AND g.display_name = 'Upgrade Everyone' AND g.deleted_at IS NULL`);
      assert.equal(members, seed.groupMembers);
    });
  });
}
