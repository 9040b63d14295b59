/**
 * Custom rules and filters end to end: Samba DC to agent to cloud, on both
 * stores. A rule transforms attributes, an attribute filter and a group
 * filter move objects out of and back into scope, and a rule change rescans
 * without --full.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Attribute, Change, type Client } from 'ldapts';
import type { CreatedTenant } from '@skybridge/cloud';
import { storeKinds } from '../../../cloud/test/helpers/stores.ts';
import type { TestCloud } from '../../../cloud/test/helpers/cloud.ts';
import { runCli } from '../../../cloud/test/helpers/cli.ts';
import { userEntry } from '../../../../scripts/test-dc/seed.ts';
import type { AgentFiles, SmallDirectory, TestDc } from '../helpers/ad.ts';
import { asDomainAdmin, editAgentConfig, syncCli, startSyncWorld, stopSyncWorld } from '../helpers/sync.ts';

const skybridgeUser = 'urn:skybridge:params:scim:schemas:extension:2.0:User';

for (const kind of storeKinds) {
  describe(`custom rules and filters end to end (${kind})`, () => {
    let dc: TestDc;
    let seed: SmallDirectory;
    let t: TestCloud;
    let tenant: CreatedTenant;
    let token: string;
    let files: AgentFiles;

    const scim = async (path: string) => {
      const res = await t.call('GET', `/scim/v2${path}`, { token });
      assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
      return res.body;
    };
    const userByDn = async (dn: string) => (await scim(`/Users?filter=${encodeURIComponent(`${skybridgeUser}:onPremisesDistinguishedName eq "${dn.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)}`)).Resources[0] as Record<string, any> | undefined;
    const syncedUsers = async () => (await scim(`/Users?filter=${encodeURIComponent(`${skybridgeUser}:onPremisesSyncEnabled eq true`)}&count=0`)).totalResults as number;
    const sync = async (...args: string[]) => {
      const res = await syncCli(files.configPath, ...args);
      assert.equal(res.code, 0, res.stderr);
      return res.json;
    };
    const setSync = (change: (s: Record<string, any>) => void) => editAgentConfig(files.configPath, (c) => change((c.sync ??= {})));
    const ldap = (fn: (client: Client) => Promise<unknown>) => asDomainAdmin(dc, fn);
    const salesUsers = () => seed.users.filter((u) => u.userPrincipalName && u.dn.endsWith(seed.ous.sales));

    before(async () => {
      ({ dc, seed, t, tenant, token, files } = await startSyncWorld(kind, 'contoso'));
      setSync((s) => {
        s.rules = [{
          name: 'Sales titles', objectType: 'user', precedence: 10, scope: 'DNComponent(dn, 2) == "Sales"',
          attributes: { jobTitle: 'UCase(title) & " (" & department & ")"', mailNickname: 'LCase(RemoveDiacritics(Left(givenName, 1) & sn))' },
        }];
        s.filter = { exclude: ['employeeType == "NoSync"'] };
      });
    });
    after(() => stopSyncWorld({ files, t, dc }));

    test('a custom rule transforms the attributes of the objects in its scope, and preview names it', async () => {
      const first = await sync();
      assert.equal(first.sync.export.errors, 0, JSON.stringify(first.errors));
      const sales = salesUsers()[0]!;
      const cloud = await userByDn(sales.dn);
      assert.match(cloud!.title, /^[A-Z .-]+ \([A-Za-z ]+\)$/, `a Sales user's title is upper case with the department: ${cloud!.title}`);
      assert.equal(cloud![skybridgeUser].mailNickname, `${sales.givenName[0]}${sales.sn}`.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase());
      const engineer = seed.users.find((u) => u.userPrincipalName && u.dn.endsWith(seed.ous.engineering))!;
      const engCloud = await userByDn(engineer.dn);
      assert.doesNotMatch(engCloud!.title, /\(/, 'outside the rule\'s scope the default rule gives the title');
      const preview = await runCli(['connect', 'preview', sales.userPrincipalName!, '--config', files.configPath]);
      assert.equal(preview.code, 0, preview.stderr);
      assert.match(preview.stdout, /jobTitle: ".*"\s+\(rule "Sales titles"\)/);
      assert.doesNotMatch(preview.stdout, /displayName: .*\(rule/);
    });

    test('an attribute filter takes an object out of the cloud, and back as the same object', async () => {
      const victim = salesUsers()[1]!;
      const before = await userByDn(victim.dn);
      assert.ok(before);
      const setFlag = (values: string[]) => ldap((c) => c.modify(victim.dn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'employeeType', values }) })]));
      await setFlag(['NoSync']);
      const out = await sync();
      assert.equal(out.sync.plan.deletes, 1);
      assert.equal(await userByDn(victim.dn), undefined);
      await setFlag([]);
      const back = await sync();
      assert.equal(back.sync.export.created, 1);
      assert.equal((await userByDn(victim.dn))!.id, before.id, 'the same cloud object comes back');
    });

    test('a rule change plans every object again without --full, and exports only the objects it changes', async () => {
      const users = await syncedUsers();
      setSync((s) => { s.rules[0].attributes.jobTitle = 'LCase(title)'; });
      const res = await sync();
      const inScope = salesUsers().length;
      assert.ok(res.sync.plan.objectsRead > users, `every object is read again (${res.sync.plan.objectsRead})`);
      assert.equal(res.sync.plan.upserts, inScope, `only the ${inScope} Sales users change`);
      const sales = salesUsers()[2]!;
      assert.equal((await userByDn(sales.dn))!.title, (await userByDn(sales.dn))!.title.toLowerCase());
      const next = await sync();
      assert.equal(next.sync.plan.objectsRead, next.errors.length, 'the next cycle is a delta again (only objects with errors are retried)');
    });

    test('group-based filtering: only the filter group\'s direct members sync; joining and leaving it moves a user in and out', async () => {
      const salesTeam = `CN=Sales Team,${seed.ous.groups}`;
      setSync((s) => { s.filter.groups = [salesTeam]; });
      const scoped = await sync();
      assert.ok(scoped.sync.plan.deletes > 10, `objects outside the group leave the cloud (${scoped.sync.plan.deletes})`);
      assert.equal(await syncedUsers(), 10, 'the ten members of Sales Team');
      const team = (await scim(`/Groups?filter=${encodeURIComponent('displayName eq "Sales Team"')}`)).Resources[0];
      assert.ok(team, 'the filter group itself syncs');
      const joiner = userEntry({ index: 4200, ou: seed.ous.sales, dnsDomain: dc.dnsDomain });
      const leaver = seed.users[0]!;
      await ldap(async (c) => {
        await c.add(joiner.dn, joiner.attributes);
        await c.modify(salesTeam, [new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [joiner.dn] }) })]);
        await c.modify(salesTeam, [new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [leaver.dn] }) })]);
      });
      await sync();
      assert.ok(await userByDn(joiner.dn), 'the new member is in the cloud');
      assert.equal(await userByDn(leaver.dn), undefined, 'the former member left it');
      assert.equal(await syncedUsers(), 10);
      // an unchanged member outside the group joins it later: in scope at the next delta
      const later = salesUsers().find((u) => !seed.users.slice(0, 10).includes(u))!;
      await ldap((c) => c.modify(salesTeam, [new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [later.dn] }) })]));
      await sync();
      assert.ok(await userByDn(later.dn));
      // without the group filter everything comes back
      setSync((s) => { s.filter.groups = []; });
      const widened = await sync();
      assert.ok(widened.sync.export.created > 10, JSON.stringify(widened.sync.export));
      assert.ok(await userByDn(leaver.dn));
    });
  });
}
