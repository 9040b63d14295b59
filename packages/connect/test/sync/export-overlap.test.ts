/**
 * The export's overlap, watched from inside the agent: with one operation
 * per batch, a batch of objects goes out while the one before it is still
 * with the cloud; two batches naming the same object are never in flight
 * together; memberships go out only when nothing else is in flight. The
 * watch wraps CloudClient.sendEncodedBatch and passes every call to the real cloud,
 * which applies it. One store: the behaviour is the agent's.
 *
 * And the rounds of a sync that exports while it imports: a round's export
 * runs while the next round plans, and sends only its own plan's items.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Attribute, Change } from 'ldapts';
import type { SyncBatchRequest, SyncBatchResponse } from '@skybridge/protocol';
import { AdImporter } from '../../src/ad/importer.ts';
import { CloudClient } from '../../src/cloud/cloud-client.ts';
import { loadCredentials } from '../../src/cloud/credentials-file.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { ConnectorSpace } from '../../src/space/connector-space.ts';
import { SyncEngine } from '../../src/sync/engine.ts';
import { phases } from '../../src/sync/export-store.ts';
import { immutableIdOf } from '../../src/sync/source-anchor.ts';
import { userEntry } from '../../../../scripts/test-dc/seed.ts';
import { asDomainAdmin, startSyncWorld, stopSyncWorld, type SyncWorld } from '../helpers/sync.ts';

/** A user's planned creation recorded as exported without going to the cloud (as if the cloud had lost it). */
function exportedWithoutTheCloud(space: ConnectorSpace, store: SyncEngine['store'], guid: string): void {
  const item = store.next(1000).find((i) => i.guid === guid && i.body.kind === 'upsert');
  assert.ok(item && item.body.kind === 'upsert', `${guid} is planned`);
  const body = item.body;
  space.transaction(() => {
    store.putFromOutbox(item.id, { guid, immutableId: body.immutableId, type: 'user', hash: body.hash, objectId: null });
    store.doneRange(item.phase, item.id, item.id);
  });
}

describe('export overlap (pglite)', () => {
  let w: SyncWorld;
  before(async () => {
    w = await startSyncWorld('pglite', 'overlap');
  });
  after(() => stopSyncWorld(w));

  test('batches of objects overlap, never two naming one object; two planned versions of a user arrive in order', async () => {
    const loaded = loadConfig(w.files.configPath);
    const space = ConnectorSpace.open(join(loaded.config.stateDirectory, 'connect'));
    const cloud = new CloudClient(loadCredentials(loaded.config.cloud!.credentialsFile!), { ca: readFileSync(loaded.config.cloud!.caFile!, 'utf8') });
    const inFlight = new Map<number, { ids: string[]; members: boolean }>();
    let calls = 0;
    let mostInFlight = 0;
    const sameObjectTwice: string[] = [];
    const membersAlongside: number[] = [];
    const send = cloud.sendEncodedBatch.bind(cloud);
    cloud.sendEncodedBatch = async (key: string, epoch: number, operationsJson: string): Promise<SyncBatchResponse> => {
      const operations = JSON.parse(operationsJson) as SyncBatchRequest['operations'];
      const ids = operations.map((o) => o.immutableId);
      const members = operations.some((o) => o.op === 'upsert' && o.members);
      for (const other of inFlight.values()) sameObjectTwice.push(...ids.filter((id) => other.ids.includes(id)));
      if (inFlight.size && (members || [...inFlight.values()].some((b) => b.members))) membersAlongside.push(calls);
      const n = calls++;
      inFlight.set(n, { ids, members });
      mostInFlight = Math.max(mostInFlight, inFlight.size);
      try {
        return await send(key, epoch, operationsJson);
      } finally {
        inFlight.delete(n);
      }
    };
    const user = w.seed.users.find((u) => u.userPrincipalName && u.dn.includes(w.seed.ous.sales))!;
    process.env.SKYBRIDGE_SYNC_BATCH_OPERATIONS = '1';
    try {
      // plan without exporting, then change the user twice and plan after each: the outbox ends with two
      // versions of it, one after the other (one batch each, so the second would overlap the first)
      const staging = new SyncEngine(space, { ...loaded.config.sync, staging: true }, cloud);
      await new AdImporter(loaded.config.activeDirectory, loaded.secrets.adPassword, space).run('full');
      await staging.cycle();
      for (const title of ['First version', 'Second version']) {
        await asDomainAdmin(w.dc, (client) => client.modify(user.dn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: [title] }) })]));
        await new AdImporter(loaded.config.activeDirectory, loaded.secrets.adPassword, space).run();
        const planned = await staging.cycle();
        assert.equal(planned.plan.upserts, 1, JSON.stringify(planned.plan));
      }

      const summary = await new SyncEngine(space, loaded.config.sync, cloud).cycle();
      assert.equal(summary.export!.errors, 0, JSON.stringify(summary.export));
      assert.ok(summary.export!.created > 40, JSON.stringify(summary.export));
      assert.ok(summary.export!.memberChanges > 0, JSON.stringify(summary.export));
      assert.deepEqual(summary.pending, { objects: 0, members: 0, deletes: 0 });
    } finally {
      delete process.env.SKYBRIDGE_SYNC_BATCH_OPERATIONS;
      space.close();
    }
    assert.equal(mostInFlight, 2, 'a batch of objects goes out while the one before it is with the cloud');
    assert.deepEqual(sameObjectTwice, [], 'no object is in two batches in flight at once');
    assert.deepEqual(membersAlongside, [], 'memberships go out alone');
    const found = await w.t.call('GET', `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${user.userPrincipalName}"`)}&attributes=title`, { token: w.token });
    assert.equal(found.body.Resources[0].title, 'Second version');
  });

  test('a round exports while the next one plans, and sends only its own plan: a new member goes out after its user', async () => {
    const loaded = loadConfig(w.files.configPath);
    const space = ConnectorSpace.open(join(loaded.config.stateDirectory, 'connect'));
    const cloud = new CloudClient(loadCredentials(loaded.config.cloud!.credentialsFile!), { ca: readFileSync(loaded.config.cloud!.caFile!, 'utf8') });
    const engine = new SyncEngine(space, loaded.config.sync, cloud);
    const salesTeam = `CN=Sales Team,${w.seed.ous.groups}`;
    const existing = w.seed.users.find((u) => u.userPrincipalName && u.dn.includes(w.seed.ous.engineering))!;
    const joiner = userEntry({ index: 4100, ou: w.seed.ous.sales, dnsDomain: w.dc.dnsDomain });
    // The first round's member batch waits with the cloud until the next round has planned the joiner and its link
    let memberBatchHeld!: () => void;
    const held = new Promise<void>((r) => { memberBatchHeld = r; });
    let releaseMemberBatch!: () => void;
    const release = new Promise<void>((r) => { releaseMemberBatch = r; });
    let heldAt = -1;
    const sent: { ids: string[]; members: number }[] = [];
    const send = cloud.sendEncodedBatch.bind(cloud);
    cloud.sendEncodedBatch = async (key: string, epoch: number, operationsJson: string): Promise<SyncBatchResponse> => {
      const operations = JSON.parse(operationsJson) as SyncBatchRequest['operations'];
      const members = operations.reduce((n, o) => n + (o.op === 'upsert' ? (o.members?.add?.length ?? 0) : 0), 0);
      sent.push({ ids: operations.map((o) => o.immutableId), members });
      if (members && heldAt < 0) {
        heldAt = engine.store.lastPlannedId();
        memberBatchHeld();
        await release;
      }
      return send(key, epoch, operationsJson);
    };
    const importer = () => new AdImporter(loaded.config.activeDirectory, loaded.secrets.adPassword, space).run();
    /** waits until `ready`, failing (rather than hanging the sync) after 30 s */
    const within = async (what: string, ready: () => boolean | Promise<boolean>) => {
      for (let waited = 0; !(await ready()); waited += 50) {
        if (waited > 30_000) throw new Error(`waited 30 s for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    let isHeld = false;
    void held.then(() => { isHeld = true; });
    /** member changes planned after the held batch's round: the next round's */
    const laterMemberItems = space.db.prepare('SELECT count(*) AS n FROM outbox WHERE id > ? AND phase = ?');
    const importing = (async () => {
      try {
        // round 1: an exported user joins Sales Team (a member change only)
        await asDomainAdmin(w.dc, (client) => client.modify(salesTeam, [new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [existing.dn] }) })]));
        await importer();
        await within("the first round's member batch", () => isHeld);
        // round 2, planned while round 1's member batch is with the cloud: a new user, and its link to Sales Team
        await asDomainAdmin(w.dc, async (client) => {
          await client.add(joiner.dn, joiner.attributes);
          await client.modify(salesTeam, [new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [joiner.dn] }) })]);
        });
        await importer();
        await within("the second round's plan of the joiner's link", () => Number((laterMemberItems.get(heldAt, phases.members) as { n: number }).n) > 0);
      } finally {
        releaseMemberBatch();
      }
    })();
    let joinerId: string;
    try {
      const summary = await engine.cycleWhileImporting(importing);
      assert.equal(summary.export!.errors, 0, JSON.stringify(summary.export));
      assert.deepEqual(summary.pending, { objects: 0, members: 0, deletes: 0 });
      joinerId = immutableIdOf(space.getByDn(joiner.dn)!, loaded.config.sync.sourceAnchor);
    } finally {
      releaseMemberBatch();
      space.close();
    }
    // the joiner went out before the batch that names it as a member, and in its own round (after the held batch)
    const userBatch = sent.findIndex((b) => b.ids.includes(joinerId) && !b.members);
    assert.ok(userBatch > sent.findIndex((b) => b.members > 0), JSON.stringify(sent));
    assert.ok(sent.slice(userBatch + 1).some((b) => b.members > 0), `a member batch after the joiner's creation: ${JSON.stringify(sent)}`);
    const group = await w.t.call('GET', `/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "Sales Team"')}&membersCount=10000`, { token: w.token });
    const memberIds = new Set((group.body.Resources[0].members as { value: string }[]).map((m) => m.value));
    for (const upn of [existing.userPrincipalName, joiner.user.userPrincipalName]) {
      const user = await w.t.call('GET', `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${upn}"`)}&attributes=id`, { token: w.token });
      assert.equal(user.body.totalResults, 1, `${upn} is in the cloud`);
      assert.ok(memberIds.has(user.body.Resources[0].id), `${upn} is a member of Sales Team in the cloud`);
    }
  });

  test("an export that succeeds leaves the rule error a later plan recorded, and clears the cloud's", async () => {
    const loaded = loadConfig(w.files.configPath);
    const space = ConnectorSpace.open(join(loaded.config.stateDirectory, 'connect'));
    const cloud = new CloudClient(loadCredentials(loaded.config.cloud!.credentialsFile!), { ca: readFileSync(loaded.config.cloud!.caFile!, 'utf8') });
    const [ruled, refused] = w.seed.users.filter((u) => u.userPrincipalName && u.dn.includes(w.seed.ous.engineering)).slice(1, 3) as [typeof w.seed.users[0], typeof w.seed.users[0]];
    try {
      // both planned (staging: nothing exported), as a round whose export is still to come
      for (const u of [ruled, refused]) {
        await asDomainAdmin(w.dc, (client) => client.modify(u.dn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: ['Planned'] }) })]));
      }
      await new AdImporter(loaded.config.activeDirectory, loaded.secrets.adPassword, space).run();
      const staging = new SyncEngine(space, { ...loaded.config.sync, staging: true }, cloud);
      assert.equal((await staging.cycle()).plan.upserts, 2);
      // meanwhile a later plan finds a rule error on one, and the cloud had refused the other before
      const guidOfUser = (dn: string) => space.getByDn(dn)!.guid;
      staging.store.setError({ guid: guidOfUser(ruled.dn), dn: ruled.dn, category: 'rule', code: 'rule_failed', message: 'recorded by a later plan', attribute: 'title' });
      staging.store.setError({ guid: guidOfUser(refused.dn), dn: refused.dn, category: 'duplicate_attribute', code: 'duplicate_value', message: 'recorded by an earlier export', attribute: 'mail' });
      const summary = await new SyncEngine(space, loaded.config.sync, cloud).cycle();
      assert.equal(summary.export!.updated, 2, JSON.stringify(summary.export));
      assert.equal(staging.store.error(guidOfUser(ruled.dn))?.code, 'rule_failed', 'the rule error stays until a plan clears it');
      assert.equal(staging.store.error(guidOfUser(refused.dn)), undefined, "the cloud's error is over once the cloud took the object");
    } finally {
      space.close();
    }
  });

  test('members the cloud lost come back as new, with their links to the group as they are then', async () => {
    const loaded = loadConfig(w.files.configPath);
    const space = ConnectorSpace.open(join(loaded.config.stateDirectory, 'connect'));
    const cloud = new CloudClient(loadCredentials(loaded.config.cloud!.credentialsFile!), { ca: readFileSync(loaded.config.cloud!.caFile!, 'utf8') });
    const salesTeam = `CN=Sales Team,${w.seed.ous.groups}`;
    // two new members of Sales Team the cloud does not hold although the agent recorded them as exported
    // (as if the cloud had lost them): the group's member change naming them is made without them
    const [lost, leaver] = [4300, 4301].map((index) => userEntry({ index, ou: w.seed.ous.sales, dnsDomain: w.dc.dnsDomain })) as [ReturnType<typeof userEntry>, ReturnType<typeof userEntry>];
    const memberChange = (operation: 'add' | 'delete', dn: string) => new Change({ operation, modification: new Attribute({ type: 'member', values: [dn] }) });
    const importer = () => new AdImporter(loaded.config.activeDirectory, loaded.secrets.adPassword, space).run();
    try {
      await asDomainAdmin(w.dc, async (client) => {
        for (const u of [lost, leaver]) {
          await client.add(u.dn, u.attributes);
          await client.modify(salesTeam, [memberChange('add', u.dn)]);
        }
      });
      await importer();
      const staging = new SyncEngine(space, { ...loaded.config.sync, staging: true }, cloud);
      await staging.cycle();
      const store = staging.store;
      const guids = [lost, leaver].map((u) => space.getByDn(u.dn)!.guid);
      for (const guid of guids) exportedWithoutTheCloud(space, store, guid);
      const engine = new SyncEngine(space, loaded.config.sync, cloud);
      const groupGuid = space.getByDn(salesTeam)!.guid;
      const first = await engine.cycle();
      assert.equal(first.export!.errors, 1, JSON.stringify(first.export));
      const error = store.error(groupGuid);
      assert.deepEqual(error && { code: error.code, attribute: error.attribute }, { code: 'member_not_found', attribute: 'members' });
      assert.deepEqual(guids.map((g) => [store.peek(g), store.error(g)?.code]), [[undefined, 'missing_in_cloud'], [undefined, 'missing_in_cloud']], 'forgotten as exported, to go again as new');
      assert.deepEqual(store.memberRetries(groupGuid, '', 10).sort(), [...guids].sort(), 'their links wait to go again');

      // one of them leaves the group: both come back, the one still in the group as its member, the leaver not
      await asDomainAdmin(w.dc, (client) => client.modify(salesTeam, [memberChange('delete', leaver.dn)]));
      await importer();
      const healed = await engine.cycle();
      assert.equal(healed.export!.errors, 0, JSON.stringify({ export: healed.export, errors: store.errors() }));
      assert.equal(healed.export!.created, 2, JSON.stringify(healed.export));
      assert.deepEqual(healed.pending, { objects: 0, members: 0, deletes: 0 });
      assert.equal(store.error(groupGuid), undefined);
      assert.deepEqual(guids.map((g) => store.error(g)), [undefined, undefined]);
      assert.deepEqual(store.memberRetries(groupGuid, '', 10), []);
    } finally {
      space.close();
    }
    const group = await w.t.call('GET', `/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "Sales Team"')}&membersCount=10000`, { token: w.token });
    const memberIds = new Set((group.body.Resources[0].members as { value: string }[]).map((m) => m.value));
    const idOf = async (u: typeof lost) => (await w.t.call('GET', `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${u.user.userPrincipalName}"`)}&attributes=id`, { token: w.token })).body.Resources[0].id as string;
    assert.ok(memberIds.has(await idOf(lost)), 'the lost member is a member of Sales Team in the cloud again');
    // sending the first change itself again after the removal would have made the leaver a member again
    assert.ok(!memberIds.has(await idOf(leaver)), 'the member who left is not');
  });

  test("a lost member that leaves the group before it goes again: the group's error ends in the cloud too", async () => {
    const loaded = loadConfig(w.files.configPath);
    const space = ConnectorSpace.open(join(loaded.config.stateDirectory, 'connect'));
    const cloud = new CloudClient(loadCredentials(loaded.config.cloud!.credentialsFile!), { ca: readFileSync(loaded.config.cloud!.caFile!, 'utf8') });
    const salesTeam = `CN=Sales Team,${w.seed.ous.groups}`;
    const lost = userEntry({ index: 4302, ou: w.seed.ous.sales, dnsDomain: w.dc.dnsDomain });
    const memberChange = (operation: 'add' | 'delete') => new Change({ operation, modification: new Attribute({ type: 'member', values: [lost.dn] }) });
    const importer = () => new AdImporter(loaded.config.activeDirectory, loaded.secrets.adPassword, space).run();
    const cloudErrors = async () => (await w.t.call('GET', '/api/v1/sync/errors?limit=1000', { token: w.token })).body.items as { code: string; onPremisesDistinguishedName: string | null }[];
    try {
      await asDomainAdmin(w.dc, async (client) => {
        await client.add(lost.dn, lost.attributes);
        await client.modify(salesTeam, [memberChange('add')]);
      });
      await importer();
      // recorded as exported without the cloud holding it (as if the cloud had lost it)
      const staging = new SyncEngine(space, { ...loaded.config.sync, staging: true }, cloud);
      await staging.cycle();
      const store = staging.store;
      exportedWithoutTheCloud(space, store, space.getByDn(lost.dn)!.guid);
      const engine = new SyncEngine(space, loaded.config.sync, cloud);
      const groupGuid = space.getByDn(salesTeam)!.guid;
      await engine.cycle();
      assert.equal(store.error(groupGuid)?.code, 'member_not_found');
      assert.ok((await cloudErrors()).some((e) => e.onPremisesDistinguishedName === salesTeam && e.code === 'member_not_found'), 'the cloud lists the group');

      // it leaves the group before the next cycle: that cycle creates it and sends only a removal, which the cloud
      // makes in full; nothing is owed any more, and the cloud is told so (a member change naming no member)
      await asDomainAdmin(w.dc, (client) => client.modify(salesTeam, [memberChange('delete')]));
      await importer();
      const healed = await engine.cycle();
      assert.equal(healed.export!.errors, 0, JSON.stringify({ export: healed.export, errors: store.errors() }));
      assert.deepEqual(healed.pending, { objects: 0, members: 0, deletes: 0 });
      assert.equal(store.error(groupGuid), undefined);
      assert.deepEqual(store.memberRetries(groupGuid, '', 10), []);
      assert.deepEqual((await cloudErrors()).filter((e) => e.onPremisesDistinguishedName === salesTeam), [], "the cloud's entry for the group is gone");
    } finally {
      space.close();
    }
  });
});
