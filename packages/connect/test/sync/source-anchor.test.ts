/**
 * The source anchor end to end: switching from objectGUID to
 * mS-DS-ConsistencyGuid with stamping changes no immutable id; stamping
 * needs exactly "Write mS-DS-ConsistencyGuid" on users, and says so without it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import type { CreatedTenant } from '@skybridge/cloud';
import { storeKinds } from '../../../cloud/test/helpers/stores.ts';
import { startTestCloud, type TestCloud } from '../../../cloud/test/helpers/cloud.ts';
import { runCli } from '../../../cloud/test/helpers/cli.ts';
import { adminClient } from '../../../../scripts/test-dc/seed.ts';
import { grantOnRunningDc } from '../../../../scripts/test-dc/test-dc.ts';
import { consistencyGuidAttributeId } from '../../src/ad/consistency-guid.ts';
import { smallDc, type AgentFiles, type SmallDirectory, type TestDc } from '../helpers/ad.ts';
import { registeredAgent } from '../helpers/sync.ts';

for (const kind of storeKinds) {
  describe(`source anchor: objectGUID to mS-DS-ConsistencyGuid with stamping (${kind})`, () => {
    let dc: TestDc;
    let seed: SmallDirectory;
    let t: TestCloud;
    let tenant: CreatedTenant;
    let token: string;
    let files: AgentFiles;

    const sync = async () => {
      const res = await runCli(['connect', 'sync', '--config', files.configPath, '--json']);
      return { ...res, json: res.code === 0 ? JSON.parse(res.stdout) : null };
    };
    /** immutable id of every synced user, by UPN */
    const cloudAnchors = async () => {
      const { rows } = await t.cloud.context.store.query<{ upn: string; immutable_id: string }>(
        `SELECT upn, immutable_id FROM directory_objects WHERE tenant_id = $1 AND source = 'onprem' AND object_type = 'user' AND deleted_at IS NULL ORDER BY upn`, [tenant.tenantId]);
      return new Map(rows.map((r) => [r.upn, r.immutable_id]));
    };
    const adValues = async (dn: string) => {
      const client = await adminClient(dc);
      try {
        const { searchEntries } = await client.search(dn, { scope: 'base', attributes: ['objectGUID', 'mS-DS-ConsistencyGuid'], explicitBufferAttributes: ['objectGUID', 'mS-DS-ConsistencyGuid'] });
        const e = searchEntries[0]!;
        const b64 = (v: unknown) => (v === undefined || (Array.isArray(v) && !v.length) ? undefined : Buffer.from(v as Buffer).toString('base64'));
        return { objectGUID: b64(e.objectGUID), consistencyGuid: b64(e['mS-DS-ConsistencyGuid']) };
      } finally {
        await client.unbind();
      }
    };

    before(async () => {
      ({ dc, seed } = await smallDc());
      t = await startTestCloud(kind);
      tenant = await t.createTenant('anchors');
      token = await t.token(tenant);
      files = await registeredAgent(dc, t, token);
    });
    after(async () => {
      files?.cleanup();
      await t?.close();
      await dc?.stop();
    });

    test('stamping without the right stops with the grant to make; with it, every exported user is stamped and no immutable id changes', async () => {
      const first = await sync();
      assert.equal(first.code, 0, first.stderr);
      const before = await cloudAnchors();
      assert.ok(before.size > 30);
      const sample = seed.users.find((u) => u.userPrincipalName && u.dn.endsWith(seed.ous.sales))!;
      assert.equal((await adValues(sample.dn)).consistencyGuid, undefined);

      const c = parse(readFileSync(files.configPath, 'utf8')) as Record<string, any>;
      c.sync = { sourceAnchor: 'mS-DS-ConsistencyGuid', stampConsistencyGuid: true };
      writeFileSync(files.configPath, stringify(c));
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
