/**
 * Samba DC → agent (the skybridge CLI, as an administrator runs it) → cloud,
 * on both stores: the initial sync, deltas (modify, rename, move, delete, a
 * one-member change), the delete threshold, dry run and staging mode. The
 * DC's own objectGUIDs, read over LDAP as the administrator, are the oracle
 * for the immutable ids.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { Change, Attribute, type Client } from 'ldapts';
import type { CreatedTenant } from '@skybridge/cloud';
import { storeKinds } from '../../../cloud/test/helpers/stores.ts';
import type { TestCloud } from '../../../cloud/test/helpers/cloud.ts';
import { spawn } from 'node:child_process';
import { cliMain, runCli } from '../../../cloud/test/helpers/cli.ts';
import { userEntry } from '../../../../scripts/test-dc/seed.ts';
import { guidToBytes, guidToString } from '../../src/ad/guid.ts';
import type { AgentFiles, SmallDirectory, TestDc } from '../helpers/ad.ts';
import { adBinaryValues, asDomainAdmin, editAgentConfig, syncCli, startSyncWorld, stopSyncWorld } from '../helpers/sync.ts';

const skybridgeUser = 'urn:skybridge:params:scim:schemas:extension:2.0:User';

for (const kind of storeKinds) {
  describe(`sync end to end: Samba DC to agent to cloud (${kind})`, () => {
    let dc: TestDc;
    let seed: SmallDirectory;
    let t: TestCloud;
    let tenant: CreatedTenant;
    let token: string;
    let files: AgentFiles;

    const scim = async (path: string) => {
      const res = await t.call('GET', `/scim/v2${path}`, { token });
      assert.ok(res.status === 200 || res.status === 404, `${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res;
    };
    const userByDn = async (dn: string) => {
      const res = await scim(`/Users?filter=${encodeURIComponent(`${skybridgeUser}:onPremisesDistinguishedName eq "${dn.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)}`);
      return res.body.Resources[0] as Record<string, any> | undefined;
    };
    const groupByName = async (name: string) => (await scim(`/Groups?filter=${encodeURIComponent(`displayName eq "${name}"`)}&membersCount=10000`)).body.Resources[0] as Record<string, any> | undefined;
    const sync = (...args: string[]) => syncCli(files.configPath, ...args);
    const setConfig = (change: (c: Record<string, any>) => void) => editAgentConfig(files.configPath, change);
    const objectGuidOf = async (dn: string) => (await adBinaryValues(dc, dn, ['objectGUID'])).objectGUID!;
    const ldap = (fn: (client: Client) => Promise<unknown>) => asDomainAdmin(dc, fn);

    before(async () => {
      ({ dc, seed, t, tenant, token, files } = await startSyncWorld(kind, 'contoso'));
    });
    after(() => stopSyncWorld({ files, t, dc }));

    test('the initial sync exports users, groups and contacts with the default rules', async () => {
      const res = await sync();
      assert.equal(res.code, 0, res.stderr);
      const s = res.json.sync;
      assert.equal(s.export.errors, 0, JSON.stringify(res.json.errors));
      assert.ok(s.export.created > 40, JSON.stringify(s));
      // the change feed read back after the export shows every object as the agent wrote it
      assert.equal(s.confirmation.confirmed, s.export.created, JSON.stringify(s.confirmation));
      assert.equal(s.confirmation.changedInCloud, 0);
      // every user with a UPN, as AD has it; the immutable id is base64 of AD's objectGUID
      const sample = seed.users.find((u) => u.userPrincipalName && u.dn.includes(seed.ous.sales))!;
      const cloudUser = await userByDn(sample.dn);
      assert.ok(cloudUser, `${sample.dn} is in the cloud`);
      assert.equal(cloudUser.userName, sample.userPrincipalName);
      assert.equal(cloudUser.externalId, await objectGuidOf(sample.dn));
      assert.equal(guidToString(Buffer.from(cloudUser.externalId, 'base64')), guidToString(guidToBytes(guidToString(Buffer.from(cloudUser.externalId, 'base64')))));
      assert.equal(cloudUser.name.givenName, sample.givenName);
      assert.equal(cloudUser.name.familyName, sample.sn);
      assert.equal(cloudUser.emails[0].value, sample.mail);
      assert.equal(cloudUser[skybridgeUser].onPremisesSyncEnabled, true);
      assert.equal(cloudUser[skybridgeUser].onPremisesDomainName, dc.dnsDomain);
      assert.match(cloudUser[skybridgeUser].onPremisesSecurityIdentifier, /^S-1-5-21-/);
      assert.equal((await userByDn(seed.disabledUser.dn))!.active, false);
      assert.equal((await userByDn(seed.commaUser.dn))!.userName, seed.commaUser.userPrincipalName);
      // not exported: no UPN (a sync error), AAD_/MSOL_ accounts, computers, contacts without mail
      assert.equal(await userByDn(seed.noUpnUser.dn), undefined);
      assert.ok(res.json.errors.some((e: { dn: string; code: string }) => e.dn === seed.noUpnUser.dn && e.code === 'missing_upn'));
      // what the cloud refused is readable through the admin API: nothing here (a missing UPN is the agent's own rule error)
      assert.deepEqual((await t.call('GET', '/api/v1/sync/errors', { token })).body.items, []);
      assert.equal(await userByDn(seed.skipped.aadUser), undefined);
      assert.equal(await userByDn(seed.skipped.msolUser), undefined);
      assert.equal(await userByDn(seed.computers[0]!), undefined);
      const contacts = await t.call('GET', '/api/v1/contacts?limit=1000', { token });
      assert.deepEqual(contacts.body.items.map((c: { mail: string }) => c.mail), ['partner@example.net']);
      // groups with their members, nested groups included
      const sales = await groupByName('Sales Team');
      assert.equal(sales!.members?.length, 10, JSON.stringify({ sales, sync: s }));
      const nested = await groupByName('Everyone Nested');
      assert.deepEqual(nested!.members.map((m: { display: string; type: string }) => `${m.type}:${m.display}`).sort(), ['Group:Engineers', 'Group:Sales Team']);
      assert.equal((await groupByName('All Staff (mail)'))!.members.length, 20);
      // the large group's members are contacts without mail: out of scope, so it is exported empty
      assert.equal((await groupByName('Large Group'))!.members, undefined);
      // a second cycle with nothing changed exports nothing
      const again = await sync();
      assert.equal(again.json.sync.export.batches, 0, JSON.stringify(again.json.sync));
    });

    test('deltas: a modify, a rename, a move, a delete and a one-member change', async () => {
      const [a, b, c, d] = seed.users.filter((u) => u.userPrincipalName && u.dn.includes(seed.ous.sales)).slice(10, 14) as [typeof seed.users[0], typeof seed.users[0], typeof seed.users[0], typeof seed.users[0]];
      const salesTeam = `CN=Sales Team,${seed.ous.groups}`;
      const member = seed.users[0]!;
      const renamed = b.dn.replace(/^CN=[^,]+/, 'CN=Renamed Person');
      const moved = c.dn.replace(seed.ous.sales, seed.ous.engineering);
      const joiner = userEntry({ index: 4000, ou: seed.ous.sales, dnsDomain: dc.dnsDomain });
      await ldap(async (client) => {
        // a new user who joins a group the cloud already holds
        await client.add(joiner.dn, joiner.attributes);
        await client.modify(salesTeam, [new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [joiner.dn] }) })]);
        await client.modify(a.dn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: ['Chief Tester'] }) })]);
        await client.modifyDN(b.dn, renamed.split(',')[0]!);
        await client.modifyDN(c.dn, moved);
        await client.del(d.dn);
        await client.modify(salesTeam, [new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [member.dn] }) })]);
      });
      const res = await sync();
      assert.equal(res.code, 0, res.stderr);
      const s = res.json.sync;
      assert.equal(s.plan.memberChanges, 2, 'one member change each (a removal, the new user joining), not the member list');
      assert.equal(s.plan.deletes, 1);
      assert.equal((await userByDn(a.dn))!.title, 'Chief Tester');
      assert.equal((await userByDn(renamed))!.userName, b.userPrincipalName);
      assert.equal((await userByDn(moved))!.userName, c.userPrincipalName);
      assert.equal(await userByDn(d.dn), undefined);
      const joinerCloud = await userByDn(joiner.dn);
      assert.equal(joinerCloud?.userName, joiner.user.userPrincipalName);
      assert.equal((await scim(`/Users?filter=${encodeURIComponent(`userName eq "${d.userPrincipalName}"`)}`)).body.totalResults, 0);
      const sales = await groupByName('Sales Team');
      assert.equal(sales!.members.length, 10);
      assert.ok(sales!.members.some((m: { value: string }) => m.value === joinerCloud!.id), 'the new user is a member');
      assert.ok(!sales!.members.some((m: { display: string }) => m.display === `${member.givenName} ${member.sn}`));
    });

    test('the delete threshold stops the export, shows the tenant an alert, and lets the deletions through once allowed (in the cloud, or on the agent)', async () => {
      setConfig((c) => { c.sync = { deleteThreshold: 1 }; });
      const sales = seed.users.filter((u) => u.userPrincipalName && u.dn.includes(seed.ous.sales));
      const alerts = async () => (await t.call('GET', '/api/v1/sync/alerts', { token })).body.items as Record<string, any>[];
      // 1. allowed by an administrator in the cloud
      const victims = sales.slice(15, 17);
      await ldap(async (client) => { for (const v of victims) await client.del(v.dn); });
      const stopped = await sync();
      assert.equal(stopped.code, 1);
      assert.match(stopped.stderr, /would delete 2 objects from the cloud, more than the delete threshold \(1\)/);
      assert.match(stopped.stderr, /allow-deletes/);
      for (const v of victims) assert.ok(await userByDn(v.dn), 'nothing deleted yet');
      const [alert] = await alerts();
      assert.equal(alert!.code, 'delete_threshold');
      assert.equal(alert!.pendingDeletions, 2);
      assert.equal(alert!.deleteThreshold, 1);
      assert.deepEqual(alert!.sample.map((d: { dn: string }) => d.dn).sort(), victims.map((v) => v.dn).sort());
      assert.equal(alert!.allowedDeletions, 0);
      const allow = await t.call('POST', '/api/v1/sync/allow-deletes', { token, body: {} });
      assert.equal(allow.status, 200, JSON.stringify(allow.body));
      assert.deepEqual(allow.body, { allowed: 2, pending: 2 });
      const allowed = await sync();
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.equal(allowed.json.sync.export.deleted, 2);
      for (const v of victims) assert.equal(await userByDn(v.dn), undefined);
      assert.deepEqual(await alerts(), [], 'the alert is over');
      assert.equal((await t.call('POST', '/api/v1/sync/allow-deletes', { token, body: {} })).body.code, 'invalid_request', 'nothing left to allow');

      // 2. allowed on the agent's server
      const more = [sales[14]!, sales[9]!];
      await ldap(async (client) => { for (const v of more) await client.del(v.dn); });
      assert.equal((await sync()).code, 1);
      const local = await runCli(['connect', 'allow-deletes', '--config', files.configPath]);
      assert.equal(local.code, 0, local.stderr);
      assert.match(local.stdout, /^2 deletions will go out at the next cycle/);
      const out = await sync();
      assert.equal(out.json.sync.export.deleted, 2);
      assert.deepEqual(await alerts(), []);

      // 3. the cause is fixed instead: the objects come back in scope, nothing is deleted, the alert goes
      setConfig((c) => { c.activeDirectory.excludedContainers = [seed.ous.engineering]; });
      const tripped = await sync();
      assert.equal(tripped.code, 1, 'excluding an OU by mistake trips the threshold');
      assert.equal((await alerts()).length, 1);
      setConfig((c) => { delete c.activeDirectory.excludedContainers; });
      const fixed = await sync();
      assert.equal(fixed.code, 0, fixed.stderr);
      assert.equal(fixed.json.sync.export.deleted, 0, 'no deletion went out');
      assert.deepEqual(await alerts(), []);
      setConfig((c) => { delete c.sync; });
    });

    test('a dry run reports the changes and makes none; staging mode exports nothing', async () => {
      const u = seed.users.filter((x) => x.userPrincipalName && x.dn.includes(seed.ous.sales))[17]!;
      await ldap(async (client) => client.modify(u.dn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'department', values: ['Dry Run'] }) })]));
      const dry = await sync('--dry-run');
      assert.equal(dry.code, 0, dry.stderr);
      const change = dry.json.changes.find((x: { dn: string }) => x.dn === u.dn);
      assert.equal(change.action, 'create-or-update');
      assert.equal(change.attributes.department, 'Dry Run');
      assert.notEqual((await userByDn(u.dn))!['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']?.department, 'Dry Run');
      // the report file holds every change, one JSON object per line
      const reportFile = `${files.dir}/dry-run.jsonl`;
      const reported = await sync('--dry-run', '--report', reportFile);
      assert.equal(reported.code, 0, reported.stderr);
      const lines = readFileSync(reportFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { dn: string; attributes?: Record<string, unknown> });
      assert.equal(lines.length, reported.json.counts.upserts + reported.json.counts.members + reported.json.counts.deletes);
      assert.equal(lines.find((l) => l.dn === u.dn)?.attributes?.department, 'Dry Run');
      assert.equal(statSync(reportFile).mode & 0o777, 0o600);

      // the single-object preview says the same, by DN; by UPN for an object already in step; and a rule error
      const preview = async (target: string) => JSON.parse((await runCli(['connect', 'preview', target, '--config', files.configPath, '--json'])).stdout);
      const one = await preview(u.dn);
      assert.equal(one.action, 'update');
      assert.equal(one.projection.attributes.department, 'Dry Run');
      assert.equal(one.imported.department[0], 'Dry Run');
      const other = seed.users.filter((x) => x.userPrincipalName && x.dn.includes(seed.ous.sales))[19]!;
      const inStep = await preview(other.userPrincipalName!.toUpperCase());
      assert.equal(inStep.action, 'none');
      assert.equal(inStep.dn, other.dn);
      assert.ok(inStep.exported.objectId);
      const broken = await preview(seed.noUpnUser.dn);
      assert.equal(broken.projection.code, 'missing_upn');
      assert.equal(broken.error.code, 'missing_upn');
      const missing = await runCli(['connect', 'preview', 'nobody@nowhere.example', '--config', files.configPath]);
      assert.equal(missing.code, 3);
      assert.match(missing.stderr, /no imported object has the DN or userPrincipalName nobody@nowhere.example/);

      setConfig((c) => { c.sync = { staging: true }; });
      const staged = await sync();
      assert.equal(staged.code, 0, staged.stderr);
      assert.equal(staged.json.sync.staging, true);
      assert.equal(staged.json.sync.pending.objects, 1);
      assert.notEqual((await userByDn(u.dn))!['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']?.department, 'Dry Run');

      setConfig((c) => { delete c.sync; });
      const real = await sync();
      assert.equal(real.json.sync.export.updated, 1);
      assert.equal((await userByDn(u.dn))!['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].department, 'Dry Run');
      const status = await runCli(['connect', 'status', '--config', files.configPath, '--json']);
      const st = JSON.parse(status.stdout);
      assert.deepEqual(st.pending, { objects: 0, members: 0, deletes: 0 });
      assert.ok(st.exported.user > 30);
    });

    test('a filter change: an excluded OU leaves the cloud, and comes back when the exclusion goes', async () => {
      const engineer = seed.commaUser;
      const before = await userByDn(engineer.dn);
      assert.ok(before);
      setConfig((c) => { c.activeDirectory.excludedContainers = [seed.ous.engineering]; });
      const narrowed = await sync();
      assert.equal(narrowed.code, 0, narrowed.stderr);
      assert.match(narrowed.json.import.reason ?? '', /containers changed/);
      assert.ok(narrowed.json.sync.export.deleted >= 10, JSON.stringify(narrowed.json.sync));
      assert.equal(await userByDn(engineer.dn), undefined);
      assert.equal((await groupByName('Engineers'))!.members, undefined, 'its members left the cloud with it');
      setConfig((c) => { delete c.activeDirectory.excludedContainers; });
      const widened = await sync();
      assert.equal(widened.code, 0, widened.stderr);
      const after = await userByDn(engineer.dn);
      assert.equal(after?.id, before.id, 'the same cloud object comes back (same immutable id)');
      assert.equal((await groupByName('Engineers'))!.members.length, 10, 'with its memberships');
    });

    test('directory synchronization turned off and on again: objects stay, then are taken back', async () => {
      const before = await t.call('GET', '/api/v1/tenant', { token });
      assert.equal(before.body.directorySynchronizationEnabled, true, 'the first lease turned it on');
      const count = async (filter: string) => (await scim(`/Users?filter=${encodeURIComponent(filter)}&count=0`)).body.totalResults as number;
      const synced = await count(`${skybridgeUser}:onPremisesSyncEnabled eq true`);
      const all = await count('userName pr');
      assert.ok(synced > 30);
      const off = await t.call('PATCH', '/api/v1/tenant', { token, body: { directorySynchronizationEnabled: false } });
      assert.equal(off.status, 200, JSON.stringify(off.body));
      assert.equal(off.body.directorySynchronizationEnabled, false);
      assert.equal(await count(`${skybridgeUser}:onPremisesSyncEnabled eq true`), 0);
      assert.equal(await count('userName pr'), all, 'every object stays, cloud-managed');
      // now an administrator may change a formerly synced user in the cloud
      const someone = (await scim(`/Users?filter=${encodeURIComponent(`${skybridgeUser}:onPremisesDistinguishedName pr`)}&count=1`)).body.Resources[0];
      const patched = await t.call('PATCH', `/scim/v2/Users/${someone.id}`, { token, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'Cloud Title' }] } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      const refused = await sync();
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /directory synchronization is turned off/);
      assert.match(refused.stderr, /sync --full/);

      assert.equal((await t.call('PATCH', '/api/v1/tenant', { token, body: { directorySynchronizationEnabled: true } })).body.directorySynchronizationEnabled, true);
      const full = await sync('--full');
      assert.equal(full.code, 0, full.stderr);
      assert.equal(await count(`${skybridgeUser}:onPremisesSyncEnabled eq true`), synced, 'the same objects are synchronized again');
      assert.equal(await count('userName pr'), all, 'and none was duplicated');
      const back = await t.call('GET', `/scim/v2/Users/${someone.id}`, { token });
      assert.equal(back.body[skybridgeUser].onPremisesSyncEnabled, true);
      assert.notEqual(back.body.title, 'Cloud Title', 'AD is the source again');
    });

    test('conflict quarantine and release: a duplicate proxy address or UPN syncs without the value, is reported, and comes back when the conflict clears', async () => {
      const shared = `smtp:shared-${Date.now()}@${dc.dnsDomain}`;
      const [one, two] = [4100, 4101].map((index) => userEntry({ index, ou: seed.ous.sales, dnsDomain: dc.dnsDomain }));
      await ldap(async (client) => {
        for (const e of [one!, two!]) {
          await client.add(e.dn, e.attributes);
          await client.modify(e.dn, [new Change({ operation: 'add', modification: new Attribute({ type: 'proxyAddresses', values: [shared] }) })]);
        }
      });
      const first = await sync();
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.json.sync.export.quarantined, 1, JSON.stringify(first.json.sync));
      const quarantined = first.json.errors.filter((e: { code: string }) => e.code === 'attribute_quarantined');
      assert.equal(quarantined.length, 1);
      assert.equal(quarantined[0].category, 'duplicate_attribute');
      const [waiter, holder] = quarantined[0].dn === one!.dn ? [one!, two!] : [two!, one!];
      // both are in the cloud; the address stays with the first, and the tenant's sync errors say so
      const proxies = async (dn: string) => ((await userByDn(dn))![skybridgeUser].proxyAddresses as string[]).map((a) => a.toLowerCase());
      assert.ok((await proxies(holder.dn)).includes(shared));
      assert.ok(!(await proxies(waiter.dn)).includes(shared));
      assert.ok((await t.call('GET', '/api/v1/sync/errors', { token })).body.items.some((e: { onPremisesDistinguishedName: string; code: string }) => e.onPremisesDistinguishedName === waiter.dn && e.code === 'attribute_quarantined'));
      // the holder lets the address go in AD: the waiter gets it in the cloud, and the agent's error clears
      await ldap((client) => client.modify(holder.dn, [new Change({ operation: 'delete', modification: new Attribute({ type: 'proxyAddresses', values: [shared] }) })]));
      assert.equal((await sync()).code, 0);
      assert.ok((await proxies(waiter.dn)).includes(shared), 'released to the waiter');
      assert.ok(!(await proxies(holder.dn)).includes(shared));
      const settled = await sync();
      assert.equal(settled.json.errors.filter((e: { code: string }) => e.code === 'attribute_quarantined').length, 0, JSON.stringify(settled.json.errors));

      // a UPN held by a cloud-managed user (soft match blocked): the synced user gets a placeholder on the initial domain until the cloud user goes
      assert.equal((await t.call('PATCH', '/api/v1/tenant', { token, body: { blockSoftMatch: true } })).status, 200);
      const clash = `clash@${tenant.initialDomain}`;
      const cloudUser = await t.call('POST', '/api/v1/users', { token, body: { userPrincipalName: clash, displayName: 'Cloud Clash' } });
      assert.equal(cloudUser.status, 201, JSON.stringify(cloudUser.body));
      await ldap((client) => client.modify(waiter.dn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'userPrincipalName', values: [clash] }) })]));
      const held = await sync();
      assert.equal(held.code, 0, held.stderr);
      assert.match((await userByDn(waiter.dn))!.userName, new RegExp(`^clash\\d{4}@${tenant.initialDomain.replace(/\./g, '\\.')}$`));
      assert.ok(held.json.errors.some((e: { dn: string; code: string; message: string }) => e.dn === waiter.dn && e.code === 'attribute_quarantined' && e.message.includes(cloudUser.body.id)));
      assert.equal((await t.call('DELETE', `/api/v1/users/${cloudUser.body.id}`, { token })).status, 204);
      assert.equal((await sync()).code, 0);
      assert.equal((await userByDn(waiter.dn))!.userName, clash, 'the UPN came back');
      assert.equal((await t.call('PATCH', '/api/v1/tenant', { token, body: { blockSoftMatch: false } })).status, 200);
    });

    test('the change feed confirms the exports; an object changed or lost in the cloud is noticed and sent again', async () => {
      const [edited, lost] = seed.users.filter((u) => u.userPrincipalName && u.dn.includes(seed.ous.sales)).slice(3, 5) as [typeof seed.users[0], typeof seed.users[0]];
      const editedId = (await userByDn(edited.dn))!.id;
      // an administrator sets a cloud-owned field on a synced user: a new version the agent did not write
      assert.equal((await t.call('PATCH', `/api/v1/users/${editedId}`, { token, body: { usageLocation: 'FR' } })).status, 200);
      // and the cloud loses another one (a restore from an older backup, say): tombstoned behind the agent's back, its
      // group memberships ended with it, as a deletion does
      const lostId = (await userByDn(lost.dn))!.id;
      const groupsOfLost = async () => (await t.cloud.context.store.query<{ group_id: string }>(
        'SELECT group_id FROM memberships WHERE member_id = $1 AND NOT removed ORDER BY group_id', [lostId])).rows.map((r) => r.group_id);
      const lostGroups = await groupsOfLost();
      assert.ok(lostGroups.length > 0, 'the lost user is a member of some group');
      await t.cloud.context.store.query(
        `UPDATE directory_objects SET deleted_at = now(), upn = NULL, version = version + 1, change_seq = (SELECT change_seq + 1 FROM tenants WHERE id = $1) WHERE id = $2`, [tenant.tenantId, lostId]);
      await t.cloud.context.store.query('UPDATE memberships SET removed = true WHERE member_id = $1', [lostId]);
      await t.cloud.context.store.query('UPDATE tenants SET change_seq = change_seq + 1 WHERE id = $1', [tenant.tenantId]);
      const noticed = await sync();
      assert.equal(noticed.code, 0, noticed.stderr);
      assert.equal(noticed.json.sync.confirmation.changedInCloud, 2, JSON.stringify(noticed.json.sync.confirmation));
      assert.deepEqual(noticed.json.errors.filter((e: { code: string }) => e.code === 'changed_in_cloud').map((e: { dn: string }) => e.dn).sort(), [edited.dn, lost.dn].sort());
      const repaired = await sync();
      assert.equal(repaired.code, 0, repaired.stderr);
      assert.equal(repaired.json.sync.export.created, 1, 'the lost user comes back');
      assert.equal((await userByDn(lost.dn))!.id, lostId, 'as the same cloud object');
      assert.deepEqual(await groupsOfLost(), lostGroups, 'in the groups it was in');
      assert.equal((await userByDn(edited.dn))!.id, editedId);
      assert.equal((await t.call('GET', `/api/v1/users/${editedId}`, { token })).body.usageLocation, 'FR', 'the cloud-owned field stays');
      assert.deepEqual(repaired.json.errors.filter((e: { code: string }) => e.code === 'changed_in_cloud'), []);
      assert.equal(repaired.json.sync.confirmation.changedInCloud, 0);
    });

    test('renaming an in-scope OU moves its objects in the cloud and deletes nothing', async () => {
      const count = async () => (await scim(`/Users?filter=${encodeURIComponent(`${skybridgeUser}:onPremisesSyncEnabled eq true`)}&count=0`)).body.totalResults as number;
      const before = await count();
      const engineer = seed.users.find((u) => u.userPrincipalName && u.dn.endsWith(seed.ous.engineering))!;
      const id = (await userByDn(engineer.dn))!.id;
      const renamedOu = seed.ous.engineering.replace(/^OU=Engineering/, 'OU=Research and Engineering');
      await ldap((client) => client.modifyDN(seed.ous.engineering, renamedOu.split(',')[0]!));
      const res = await sync();
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.json.sync.plan.deletes, 0, 'an OU rename is not a mass deletion');
      assert.ok(res.json.sync.export.updated >= 10, `its users get their new DN (${JSON.stringify(res.json.sync.export)})`);
      const moved = await userByDn(engineer.dn.replace(seed.ous.engineering, renamedOu));
      assert.equal(moved?.id, id, 'the same cloud object, with the new DN');
      assert.equal(await count(), before);
      await ldap((client) => client.modifyDN(renamedOu, seed.ous.engineering.split(',')[0]!));
      assert.equal((await sync()).json.sync.plan.deletes, 0);
    });

    test('run: each change arrives on its own, and the agent reports its cycles', async () => {
      const child = spawn(process.execPath, [cliMain, 'connect', 'run', '--config', files.configPath], { env: { ...process.env, SKYBRIDGE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => (out += d));
      child.stderr!.on('data', (d: Buffer) => (err += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        for (let i = 0; i < 100 && !/running/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
        assert.match(out, /running/, err);
        const u = seed.users.filter((x) => x.userPrincipalName && x.dn.includes(seed.ous.sales))[18]!;
        for (const title of ['Run One', 'Run Two', 'Run Three']) {
          await ldap(async (client) => client.modify(u.dn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: [title] }) })]));
          let seen: string | undefined;
          for (let i = 0; i < 300 && seen !== title; i++) {
            await new Promise((r) => setTimeout(r, 100));
            seen = (await userByDn(u.dn))?.title;
          }
          assert.equal(seen, title, `${title} reached the cloud (agent said: ${out} ${err})`);
        }
        const agents = await t.call('GET', '/api/v1/agents', { token });
        assert.ok(agents.body.items.some((a: { health?: { role?: string; lastCycle?: unknown } }) => a.health?.role === 'active' && a.health?.lastCycle), JSON.stringify(agents.body));
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(await exited, 0, err);
    });
  });
}
