/**
 * Delta import with DirSync against a real Samba DC: every kind of change,
 * made over LDAPS by an administrator, arrives in the connector space.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Attribute, Change, type Client } from 'ldapts';
import { AdImporter } from '../../src/ad/importer.ts';
import { ConnectorSpace } from '../../src/space/connector-space.ts';
import { adminClient, addMembers, userEntry } from '../../../../scripts/test-dc/seed.ts';
import { agentConfig, smallDc, type AgentFiles, type SmallDirectory, type TestDc } from '../helpers/ad.ts';

describe('delta import (DirSync)', () => {
  let dc: TestDc;
  let seed: SmallDirectory;
  let files: AgentFiles;
  let space: ConnectorSpace;
  let importer: AdImporter;
  let admin: Client;

  before(async () => {
    ({ dc, seed } = await smallDc());
    files = agentConfig(dc, { pageSize: 100 });
    space = ConnectorSpace.open(files.loaded.config.stateDirectory);
    importer = new AdImporter(files.loaded.config.activeDirectory, files.loaded.secrets.adPassword, space);
    admin = await adminClient(dc);
  });
  after(async () => {
    await admin?.unbind();
    space?.close();
    files?.cleanup();
    await dc?.stop();
  });

  test('changes made while the full import reads come in the next delta', async () => {
    const late = userEntry({ index: 5000, ou: seed.ous.sales, dnsDomain: dc.dnsDomain });
    const early = seed.users[0]!;
    let writes: Promise<unknown> | undefined;
    const during = new AdImporter(files.loaded.config.activeDirectory, files.loaded.secrets.adPassword, space, {
      onProgress: (p) => {
        if (p.phase !== 'reading' || writes) return;
        // After the first page: change an object and add one, on another connection.
        writes = Promise.all([
          admin.modify(early.dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: ['Changed During Full Import'] }) })),
          admin.add(late.dn, late.attributes),
        ]);
      },
    });
    const full = await during.run('full');
    assert.equal(full.kind, 'full');
    await writes;
    const delta = await importer.run('delta');
    assert.equal(delta.kind, 'delta');
    assert.equal(space.getByDn(early.dn)!.attributes.title?.[0], 'Changed During Full Import');
    assert.ok(space.getByDn(late.dn), 'the user added during the read');
  });

  test('an added user arrives whole', async () => {
    const e = userEntry({ index: 5001, ou: seed.ous.engineering, dnsDomain: dc.dnsDomain, commaName: true });
    await admin.add(e.dn, e.attributes);
    const s = await importer.run('delta');
    assert.equal(s.added, 1);
    const o = space.getByDn(e.dn)!;
    assert.equal(o.attributes.userPrincipalName?.[0], e.user.userPrincipalName);
    assert.equal(o.attributes.proxyAddresses?.length, 3);
    assert.equal(o.scope, null);
  });

  test('an attribute change and a cleared attribute', async () => {
    const u = seed.users[1]!;
    await admin.modify(u.dn, [
      new Change({ operation: 'replace', modification: new Attribute({ type: 'department', values: ['Recherche & Développement'] }) }),
      new Change({ operation: 'delete', modification: new Attribute({ type: 'telephoneNumber', values: [] }) }),
    ]);
    const s = await importer.run('delta');
    assert.equal(s.updated, 1);
    const o = space.getByDn(u.dn)!;
    assert.equal(o.attributes.department?.[0], 'Recherche & Développement');
    assert.equal(o.attributes.telephoneNumber, undefined);
    assert.equal(o.attributes.givenName?.[0], u.givenName, 'attributes DirSync did not send are kept');
  });

  test('a rename and a move keep the anchor and update member values', async () => {
    const u = seed.users[2]!;
    const guid = space.getByDn(u.dn)!.guid;
    const renamed = `CN=Renamed Person,${seed.ous.sales}`;
    await admin.modifyDN(u.dn, renamed);
    let s = await importer.run('delta');
    assert.equal(s.renamed, 1);
    assert.equal(space.get(guid)!.dn, renamed);
    const security = space.getByDn(seed.groups.security)!;
    assert.ok(space.members(security.guid).some((m) => m.memberDn === renamed), 'the group lists the new DN');
    const moved = `CN=Renamed Person,${seed.ous.engineering}`;
    await admin.modifyDN(renamed, moved);
    s = await importer.run('delta');
    assert.equal(s.renamed, 1);
    assert.equal(space.get(guid)!.dn, moved);
    assert.equal(space.getByDn(renamed), undefined);
  });

  test('an OU rename gives every object below it its new DN', async () => {
    const before = [...space.changedSince(0)].filter((o) => !o.deleted && o.dn.endsWith(`,${seed.ous.engineering}`));
    assert.ok(before.length >= 10);
    const newOu = `OU=R&D,${seed.ous.staff}`;
    await admin.modifyDN(seed.ous.engineering, newOu);
    const s = await importer.run('delta');
    assert.ok(s.renamed >= before.length + 1, `the OU and its ${before.length} objects (got ${s.renamed})`);
    for (const o of before) {
      const now = space.get(o.guid)!;
      assert.equal(now.dn, o.dn.slice(0, o.dn.length - seed.ous.engineering.length) + newOu);
    }
    const engineers = space.getByDn(seed.groups.nested)!;
    const members = space.members(engineers.guid);
    assert.ok(members.length >= 10);
    assert.ok(members.every((m) => m.memberDn.endsWith(newOu)), 'member values follow the OU rename');
    // Renaming back keeps later tests' DNs valid.
    await admin.modifyDN(newOu, seed.ous.engineering);
    await importer.run('delta');
    assert.equal(space.getByDn(seed.commaUser.dn)?.guid, before.find((o) => o.dn === seed.commaUser.dn)?.guid);
  });

  test('a deletion becomes a tombstone', async () => {
    const u = seed.users[3]!;
    const guid = space.getByDn(u.dn)!.guid;
    await admin.del(u.dn);
    const s = await importer.run('delta');
    assert.equal(s.deleted, 1);
    assert.equal(space.get(guid)!.deleted, true);
    assert.equal(space.getByDn(u.dn), undefined);
    const security = space.getByDn(seed.groups.security)!;
    assert.ok(!space.members(security.guid).some((m) => m.memberDn === u.dn), 'no longer a member');
  });

  test('one member added to and removed from a 3,001-member group arrives as a value delta', async () => {
    const large = space.getByDn(seed.groups.large)!;
    const count = space.memberCount(large.guid);
    const extra = seed.users[4]!.dn;
    await addMembers(admin, seed.groups.large, [extra]);
    let s = await importer.run('delta');
    assert.equal(s.memberValuesAdded, 1);
    assert.equal(s.memberValuesRemoved, 0);
    assert.equal(s.rangeRequests, 0, 'no re-read of the member list');
    assert.equal(space.memberCount(large.guid), count + 1);
    await admin.modify(seed.groups.large, new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [extra] }) }));
    s = await importer.run('delta');
    assert.equal(s.memberValuesRemoved, 1);
    assert.equal(s.rangeRequests, 0);
    assert.equal(space.memberCount(large.guid), count);
  });

  test('a cookie the DC refuses leads to a full import that deletes nothing', async () => {
    const before = space.counts();
    space.setMeta('dirsync.cookie', Buffer.from('not a cookie at all').toString('base64'));
    const s = await importer.run('delta');
    assert.equal(s.kind, 'full');
    assert.match(s.reason ?? '', /cookie/);
    assert.equal(s.deleted, 0);
    assert.deepEqual(space.counts(), before);
    const next = await importer.run('delta');
    assert.equal(next.kind, 'delta');
  });
});
