/**
 * Users of an Active Directory domain the tenant has not verified, end to
 * end against the Samba DC: they sync with their names on the tenant's
 * initial domain (as in Microsoft 365), the sync reports it, and verifying
 * the domain gives them their own userPrincipalName without another export.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CreatedTenant } from '@skybridge/cloud';
import type { TestCloud } from '../../../cloud/test/helpers/cloud.ts';
import type { AgentFiles, SmallDirectory, TestDc } from '../helpers/ad.ts';
import { syncCli, startSyncWorld, stopSyncWorld } from '../helpers/sync.ts';

describe('synced users on an unverified domain (pglite)', () => {
  let dc: TestDc;
  let seed: SmallDirectory;
  let t: TestCloud;
  let tenant: CreatedTenant;
  let token: string;
  let files: AgentFiles;
  const upns = async () => {
    const { rows } = await t.cloud.context.store.query<{ upn: string; dn: string }>(
      `SELECT upn, on_prem_dn AS dn FROM directory_objects WHERE tenant_id = $1 AND source = 'onprem' AND object_type = 'user' AND deleted_at IS NULL`, [tenant.tenantId]);
    return new Map(rows.map((r) => [r.dn, r.upn]));
  };

  before(async () => {
    ({ dc, seed, t, tenant, token, files } = await startSyncWorld('pglite', 'unverified', { verifyDomain: false }));
  });
  after(() => stopSyncWorld({ files, t, dc }));

  test('they sync on the initial domain, reported; verifying the domain restores every UPN', async () => {
    const first = await syncCli(files.configPath);
    assert.equal(first.code, 0, first.stderr);
    const onDomain = seed.users.filter((u) => u.userPrincipalName?.toLowerCase().endsWith(`@${dc.dnsDomain.toLowerCase()}`));
    assert.ok(onDomain.length > 10);
    let now = await upns();
    for (const u of onDomain) {
      const cloudUpn = now.get(u.dn);
      assert.ok(cloudUpn, `${u.dn} synced`);
      assert.match(cloudUpn!, new RegExp(`@${tenant.initialDomain.replace(/\./g, '\\.')}$`), `${u.dn} waits on the initial domain`);
      const [local, got] = [u.userPrincipalName!.split('@')[0]!.toLowerCase(), cloudUpn!.split('@')[0]!.toLowerCase()];
      assert.ok(got === local || (got.startsWith(local) && /^\d{4}$/.test(got.slice(local.length))), `${cloudUpn} keeps the name of ${u.userPrincipalName}`);
    }
    const errors = (await t.call('GET', '/api/v1/sync/errors?limit=1000', { token })).body.items;
    assert.ok(errors.filter((e: { code: string }) => e.code === 'upn_domain_unverified').length >= onDomain.length);
    assert.match(errors.find((e: { code: string }) => e.code === 'upn_domain_unverified').message, new RegExp(`${dc.dnsDomain.replace(/\./g, '\\.')}, which is not a verified domain`, 'i'));

    await t.addVerifiedDomain(tenant.tenantId, dc.dnsDomain);
    now = await upns();
    for (const u of onDomain) assert.equal(now.get(u.dn)?.toLowerCase(), u.userPrincipalName!.toLowerCase(), `${u.dn} has its own UPN back`);
    assert.ok(!(await t.call('GET', '/api/v1/sync/errors?limit=1000', { token })).body.items.some((e: { code: string }) => e.code === 'upn_domain_unverified'));

    // the next delta changes nothing in the cloud
    const again = await syncCli(files.configPath);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json.sync.export?.created ?? 0, 0);
    for (const u of onDomain) assert.equal((await upns()).get(u.dn)?.toLowerCase(), u.userPrincipalName!.toLowerCase());
  });
});
