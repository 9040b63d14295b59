/**
 * The upgrade case: a tenant that another sync tool filled before. Its cloud
 * users carry the immutable ids of real AD users (hard match), or only the
 * same primary SMTP address (soft match); a cloud user with an immutable id
 * of its own, and a cloud administrator, must never be soft-matched. The
 * preview reports all of it before anything is written; the sync then
 * creates no duplicate.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CreatedTenant } from '@skybridge/cloud';
import { storeKinds } from '../../../cloud/test/helpers/stores.ts';
import type { TestCloud } from '../../../cloud/test/helpers/cloud.ts';
import { runCli } from '../../../cloud/test/helpers/cli.ts';
import { adminClient } from '../../../../scripts/test-dc/seed.ts';
import type { AgentFiles, SmallDirectory, TestDc } from '../helpers/ad.ts';
import { startSyncWorld, stopSyncWorld } from '../helpers/sync.ts';

const userSchema = 'urn:ietf:params:scim:schemas:core:2.0:User';

for (const kind of storeKinds) {
  describe(`takeover of a tenant another sync tool filled (${kind})`, () => {
    let dc: TestDc;
    let seed: SmallDirectory;
    let t: TestCloud;
    let tenant: CreatedTenant;
    let token: string;
    let files: AgentFiles;
    const hardIds: string[] = [];
    const softIds: string[] = [];
    let foreignId: string;
    let adminLike: string;

    const scim = (method: string, path: string, body?: unknown) => t.call(method, `/scim/v2${path}`, { token, ...(body ? { body } : {}) });

    /** The tenant as the old sync tool left it: hard-match, soft-match and never-match candidates. */
    const fillAsTheOldToolLeftIt = async () => {
      const d = tenant.initialDomain;
      const sales = seed.users.filter((u) => u.userPrincipalName && u.dn.includes(seed.ous.sales));
      const client = await adminClient(dc);
      const guidOf = async (dn: string) => Buffer.from((await client.search(dn, { scope: 'base', attributes: ['objectGUID'], explicitBufferAttributes: ['objectGUID'] })).searchEntries[0]!.objectGUID as Buffer).toString('base64');
      try {
        // 10 users whose immutable id is base64(objectGUID) of a real AD user, as the old tool left them
        for (const u of sales.slice(0, 10)) {
          const r = await scim('POST', '/Users', { schemas: [userSchema], userName: `old-${u.sAMAccountName}@${d}`, externalId: await guidOf(u.dn) });
          assert.equal(r.status, 201, JSON.stringify(r.body));
          hardIds.push(r.body.id);
        }
      } finally {
        await client.unbind();
      }
      // 5 cloud-only users with the primary SMTP address of an AD user
      for (const u of sales.slice(10, 15)) {
        const r = await scim('POST', '/Users', { schemas: [userSchema], userName: `cloud-${u.sAMAccountName}@${d}`, emails: [{ value: u.mail, type: 'work', primary: true }] });
        softIds.push(r.body.id);
      }
      // never soft-matched: a cloud user with an immutable id of its own, and an administrator
      foreignId = (await scim('POST', '/Users', { schemas: [userSchema], userName: `foreign@${d}`, externalId: Buffer.from(randomUUID()).toString('base64'), emails: [{ value: sales[15]!.mail, type: 'work' }] })).body.id;
      adminLike = (await scim('POST', '/Users', { schemas: [userSchema], userName: `boss@${d}`, emails: [{ value: sales[16]!.mail, type: 'work' }] })).body.id;
      await t.cloud.context.store.query(`INSERT INTO role_assignments (tenant_id, principal_type, principal_id, role) VALUES ($1, 'user', $2, 'GlobalAdministrator')`, [tenant.tenantId, adminLike]);
    };

    before(async () => {
      ({ dc, seed, t, tenant, token, files } = await startSyncWorld(kind, 'fabrikam', {
        beforeAgent: async (w) => {
          ({ dc, seed, t, tenant, token } = w);
          await fillAsTheOldToolLeftIt();
        },
      }));
    });
    after(() => stopSyncWorld({ files, t, dc }));

    test('the preview reports hard, soft, new and refused matches and writes nothing', async () => {
      const before = await t.cloud.context.store.query<{ n: string }>('SELECT count(*) AS n FROM directory_objects WHERE tenant_id = $1', [tenant.tenantId]);
      const report = `${files.dir}/takeover.jsonl`;
      const res = await runCli(['connect', 'takeover', '--preview', '--config', files.configPath, '--json', '--report', report]);
      assert.equal(res.code, 0, res.stderr);
      const tally = JSON.parse(res.stdout);
      assert.equal(tally.hard, 10);
      assert.equal(tally.takenOver, 10);
      assert.equal(tally.soft, 5);
      assert.equal(tally.refused, 1, 'the administrator');
      assert.ok(tally.new > 20);
      const entries = readFileSync(report, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(entries.filter((e) => e.outcome === 'soft').map((e) => e.objectId).sort(), [...softIds].sort());
      assert.ok(entries.filter((e) => e.outcome === 'soft').every((e) => e.by === 'primary SMTP address'));
      assert.match(entries.find((e) => e.outcome === 'refused').reason, /holds an admin role/);
      const after = await t.cloud.context.store.query<{ n: string }>('SELECT count(*) AS n FROM directory_objects WHERE tenant_id = $1', [tenant.tenantId]);
      assert.equal(after.rows[0]!.n, before.rows[0]!.n, 'nothing written to the cloud');
      const status = JSON.parse((await runCli(['connect', 'status', '--config', files.configPath, '--json'])).stdout);
      assert.deepEqual(status.pending, { objects: 0, members: 0, deletes: 0 }, 'nor to the agent');
      assert.deepEqual(status.exported, {});

      // with soft match blocked, the soft matches become refusals
      await t.call('PATCH', '/api/v1/tenant', { token, body: { blockSoftMatch: true } });
      const blocked = JSON.parse((await runCli(['connect', 'takeover', '--preview', '--config', files.configPath, '--json'])).stdout);
      assert.deepEqual([blocked.soft, blocked.refused], [0, 6]);
      await t.call('PATCH', '/api/v1/tenant', { token, body: { blockSoftMatch: false } });
    });

    test('the sync takes the matched objects over and creates no duplicate', async () => {
      const res = await runCli(['connect', 'sync', '--config', files.configPath, '--json']);
      assert.equal(res.code, 0, res.stderr);
      const out = JSON.parse(res.stdout);
      assert.equal(out.errors.filter((e: { code: string }) => e.code === 'soft_match_admin').length, 1);
      const store = t.cloud.context.store;
      // the matched cloud objects are now synchronized, with their ids unchanged
      const { rows } = await store.query<{ id: string; source: string; immutable_id: string | null }>('SELECT id, source, immutable_id FROM directory_objects WHERE id = ANY($1::uuid[])', [[...hardIds, ...softIds, foreignId, adminLike]]);
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const id of [...hardIds, ...softIds]) assert.equal(byId.get(id)!.source, 'onprem', id);
      for (const id of softIds) assert.ok(byId.get(id)!.immutable_id);
      assert.equal(byId.get(foreignId)!.source, 'cloud', 'a cloud user with an immutable id is never soft-matched');
      assert.equal(byId.get(adminLike)!.source, 'cloud', 'an administrator is never soft-matched');
      // no duplicates: one cloud object per AD object, immutable ids unique
      const dup = await store.query<{ dn: string; n: string }>(
        `SELECT on_prem_dn AS dn, count(*) AS n FROM directory_objects WHERE tenant_id = $1 AND deleted_at IS NULL AND source = 'onprem' GROUP BY on_prem_dn HAVING count(*) > 1`, [tenant.tenantId]);
      assert.deepEqual(dup.rows, []);
      const ids = await store.query<{ n: string; d: string }>('SELECT count(immutable_id) AS n, count(DISTINCT immutable_id) AS d FROM directory_objects WHERE tenant_id = $1', [tenant.tenantId]);
      assert.equal(ids.rows[0]!.n, ids.rows[0]!.d);
      // the takeover preview now reports everything as synchronized hard matches
      const again = JSON.parse((await runCli(['connect', 'takeover', '--preview', '--config', files.configPath, '--json'])).stdout);
      assert.equal(again.soft + again.new + again.takenOver, 0, JSON.stringify(again));
    });

    test('hard-match takeover of a cloud-managed object can be blocked', async () => {
      // an object converted to cloud-managed (as when directory synchronization is turned off) keeps its immutable id
      const id = hardIds[0]!;
      await t.cloud.context.store.query(`UPDATE directory_objects SET source = 'cloud' WHERE id = $1`, [id]);
      await t.call('PATCH', '/api/v1/tenant', { token, body: { blockHardMatchTakeover: true } });
      const preview = JSON.parse((await runCli(['connect', 'takeover', '--preview', '--config', files.configPath, '--json'])).stdout);
      assert.equal(preview.refused, 2, 'the administrator, and the blocked takeover');
      await t.call('PATCH', '/api/v1/tenant', { token, body: { blockHardMatchTakeover: false } });
      const tenantView = await t.call('GET', '/api/v1/tenant', { token });
      assert.deepEqual([tenantView.body.blockSoftMatch, tenantView.body.blockHardMatchTakeover], [false, false]);
    });
  });
}
