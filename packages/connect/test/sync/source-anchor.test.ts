/**
 * The source anchor end to end: switching from objectGUID to
 * mS-DS-ConsistencyGuid with stamping changes no immutable id; stamping
 * needs exactly "Write mS-DS-ConsistencyGuid" on users, and says so without it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CreatedTenant } from '@skybridge/cloud';
import { storeKinds } from '../../../cloud/test/helpers/stores.ts';
import type { TestCloud } from '../../../cloud/test/helpers/cloud.ts';
import { grantOnRunningDc } from '../../../../scripts/test-dc/test-dc.ts';
import { consistencyGuidAttributeId } from '../../src/ad/consistency-guid.ts';
import type { AgentFiles, SmallDirectory, TestDc } from '../helpers/ad.ts';
import { adBinaryValues, editAgentConfig, syncCli, startSyncWorld, stopSyncWorld } from '../helpers/sync.ts';

for (const kind of storeKinds) {
  describe(`source anchor: objectGUID to mS-DS-ConsistencyGuid with stamping (${kind})`, () => {
    let dc: TestDc;
    let seed: SmallDirectory;
    let t: TestCloud;
    let tenant: CreatedTenant;
    let token: string;
    let files: AgentFiles;

    const sync = () => syncCli(files.configPath);
    /** immutable id of every synced user, by UPN */
    const cloudAnchors = async () => {
      const { rows } = await t.cloud.context.store.query<{ upn: string; immutable_id: string }>(
        `SELECT upn, immutable_id FROM directory_objects WHERE tenant_id = $1 AND source = 'onprem' AND object_type = 'user' AND deleted_at IS NULL ORDER BY upn`, [tenant.tenantId]);
      return new Map(rows.map((r) => [r.upn, r.immutable_id]));
    };
    const adValues = async (dn: string) => {
      const v = await adBinaryValues(dc, dn, ['objectGUID', 'mS-DS-ConsistencyGuid']);
      return { objectGUID: v.objectGUID, consistencyGuid: v['mS-DS-ConsistencyGuid'] };
    };

    before(async () => {
      ({ dc, seed, t, tenant, token, files } = await startSyncWorld(kind, 'anchors'));
    });
    after(() => stopSyncWorld({ files, t, dc }));

    test('stamping without the right stops with the grant to make; with it, every exported user is stamped and no immutable id changes', async () => {
      const first = await sync();
      assert.equal(first.code, 0, first.stderr);
      const before = await cloudAnchors();
      assert.ok(before.size > 30);
      const sample = seed.users.find((u) => u.userPrincipalName && u.dn.endsWith(seed.ous.sales))!;
      assert.equal((await adValues(sample.dn)).consistencyGuid, undefined);

      editAgentConfig(files.configPath, (c) => { c.sync = { sourceAnchor: 'mS-DS-ConsistencyGuid', stampConsistencyGuid: true }; });
      const refused = await sync();
      assert.equal(refused.code, 3, refused.stderr);
      assert.match(refused.stderr, /may not write mS-DS-ConsistencyGuid/);
      assert.match(refused.stderr, /Write mS-DS-ConsistencyGuid" on descendant user objects/);
      assert.deepEqual(await cloudAnchors(), before, 'the switch itself changed no immutable id');

      // the administrator's grant: write that one attribute on descendant objects. On Windows the entry is limited to
      // user objects (dsacls /I:S /G account:WP;mS-DS-ConsistencyGuid;user); Samba does not apply an inherited entry
      // limited to an object class (it stays inherit-only on the user), so here it covers every descendant object.
      await grantOnRunningDc(dc, dc.baseDn, (sid) => `(OA;CI;WP;${consistencyGuidAttributeId};;${sid})`);
      const stamped = await sync();
      assert.equal(stamped.code, 0, stamped.stderr);
      assert.equal(stamped.json.sync.stamped, before.size, 'every exported user is stamped once');
      const ad = await adValues(sample.dn);
      assert.equal(ad.consistencyGuid, ad.objectGUID, 'the stamped value is the objectGUID bytes');
      assert.equal(before.get(sample.userPrincipalName!), ad.objectGUID);

      // the next cycle imports the stamped values: same immutable ids, nothing to export, nothing left to stamp
      const after = await sync();
      assert.equal(after.code, 0, after.stderr);
      assert.equal(after.json.sync.export.created, 0);
      assert.equal(after.json.sync.export.updated, 0);
      assert.equal(after.json.sync.stamped, 0);
      assert.deepEqual(await cloudAnchors(), before);
    });
  });
}
