/**
 * Full import against a real Samba AD DC over LDAPS, as the least-privileged
 * connector account. Samba's own tools read the DC's database as oracles.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AdImporter } from '../../src/ad/importer.ts';
import { ConnectorSpace } from '../../src/space/connector-space.ts';
import { agentConfig, smallDc, type AgentFiles, type SmallDirectory, type TestDc } from '../helpers/ad.ts';

const run = promisify(execFile);

/** objectGUID and objectSid as Samba reports them, read from the DC's own database. */
async function oracle(dc: TestDc, sam: string): Promise<{ guid: string; sid: string }> {
  const { stdout } = await run('samba-tool', ['user', 'show', sam, '-H', `${dc.dir}/private/sam.ldb`, `--configfile=${dc.dir}/etc/smb.conf`, '--attributes=objectGUID,objectSid']);
  return { guid: /objectGUID: (\S+)/.exec(stdout)![1]!, sid: /objectSid: (\S+)/.exec(stdout)![1]! };
}

describe('full import', () => {
  let dc: TestDc;
  let seed: SmallDirectory;
  let files: AgentFiles;
  let space: ConnectorSpace;
  let importer: AdImporter;

  before(async () => {
    ({ dc, seed } = await smallDc());
    files = agentConfig(dc, { rangeStep: 100, pageSize: 200, excludedContainers: [seed.ous.excluded] });
    space = ConnectorSpace.open(files.loaded.config.stateDirectory);
    importer = new AdImporter(files.loaded.config.activeDirectory, files.loaded.secrets.adPassword, space);
  });
  after(async () => {
    space?.close();
    files?.cleanup();
    await dc?.stop();
  });

  test('reads every object of the domain, with DirSync as change tracking', async () => {
    const s = await importer.run('auto');
    assert.equal(s.kind, 'full');
    assert.equal(s.reason, 'nothing was imported yet');
    assert.equal(s.tracking, 'dirsync');
    assert.equal(s.problems, 0);
    assert.equal(s.deleted, 0);
    assert.ok(s.searches > 3, 'paged: several pages of 200');
    // Everything the seed created is there, by DN.
    for (const u of seed.users) assert.ok(space.getByDn(u.dn), `${u.dn} imported`);
    assert.equal(s.added, s.objectsRead);
    assert.equal(space.counts().objects, s.objectsRead);
  });

  test('decodes objectGUID and objectSid as Samba does', async () => {
    for (const u of [seed.users[0]!, seed.commaUser, seed.noUpnUser]) {
      const o = space.getByDn(u.dn)!;
      const expected = await oracle(dc, u.sAMAccountName);
      assert.equal(o.guid, expected.guid);
      assert.deepEqual(o.attributes.objectSid, [expected.sid]);
    }
  });

  test('keeps non-ASCII values, escaped DNs and multi-valued attributes exactly', () => {
    const comma = space.getByDn(seed.commaUser.dn)!;
    assert.match(comma.dn, /^CN=[^,]+\\, /, 'the comma in the CN stays escaped in the DN');
    assert.equal(comma.attributes.givenName?.[0], seed.commaUser.givenName);
    assert.equal(comma.attributes.sn?.[0], seed.commaUser.sn);
    const zurich = seed.users.find((u) => space.getByDn(u.dn)?.attributes.l?.[0] === 'Zürich');
    assert.ok(zurich, 'a user in Zürich');
    const u0 = space.getByDn(seed.users[0]!.dn)!;
    assert.equal(u0.attributes.proxyAddresses?.length, 3);
    assert.ok(u0.attributes.proxyAddresses?.includes(`SMTP:${seed.users[0]!.mail}`));
    assert.equal(u0.kind, 'user');
    const special = [...space.changedSince(0)].find((o) => o.kind === 'organizationalUnit' && o.dn.startsWith('OU=Müller\\, Söhne & Co'));
    assert.ok(special, 'the OU with a comma and umlauts');
  });

  test('keeps account state: disabled, expired, no UPN', () => {
    const disabled = space.getByDn(seed.disabledUser.dn)!;
    assert.equal(Number(disabled.attributes.userAccountControl?.[0]) & 2, 2);
    const expired = space.getByDn(seed.expiredUser.dn)!;
    assert.ok(BigInt(expired.attributes.accountExpires![0]!) > 0n);
    const noUpn = space.getByDn(seed.noUpnUser.dn)!;
    assert.equal(noUpn.attributes.userPrincipalName, undefined);
    assert.equal(noUpn.scope, null, 'a user without a UPN is still synchronized');
  });

  test('applies default scoping', () => {
    const scopeOf = (dn: string) => space.getByDn(dn)?.scope;
    assert.equal(scopeOf(seed.skipped.aadUser), 'reserved-name');
    assert.equal(scopeOf(seed.skipped.msolUser), 'reserved-name');
    assert.equal(scopeOf(`CN=Administrator,CN=Users,${dc.baseDn}`), 'critical-system-object');
    assert.equal(scopeOf(`CN=krbtgt,CN=Users,${dc.baseDn}`), 'critical-system-object');
    assert.equal(scopeOf(seed.contacts.plain), 'contact-not-mail-enabled');
    assert.equal(scopeOf(seed.contacts.mailEnabled), null);
    assert.equal(scopeOf(seed.ous.staff), 'container');
    const excluded = [...space.changedSince(0)].filter((o) => o.dn.endsWith(seed.ous.excluded) && o.dn !== seed.ous.excluded);
    assert.ok(excluded.length > 0 && excluded.every((o) => o.scope === 'excluded-container'));
    const computer = space.getByDn(seed.computers[0]!)!;
    assert.equal(computer.kind, 'computer');
    assert.equal(computer.scope, null);
  });

  test('reads a 3,001-member group completely: 100 values with its entry, the rest in ranges of 2,000', async () => {
    const large = space.getByDn(seed.groups.large)!;
    assert.equal(space.memberCount(large.guid), seed.largeGroupMembers);
    const last = space.runs(1)[0]!;
    // 100–2,099, then 2,100–3,000: Samba answers the width asked, and reads the whole list for each answer
    assert.equal(last.summary.rangeRequests, 2, `two range round trips after the first 100 values (got ${last.summary.rangeRequests})`);
    // Nested groups are member values like any other.
    const parent = space.getByDn(seed.groups.parent)!;
    const members = space.members(parent.guid).map((m) => m.memberDn).sort();
    assert.deepEqual(members, [seed.groups.nested, seed.groups.security].sort());
  });

  test('a second import is a delta that finds nothing; a forced full import changes nothing', async () => {
    const delta = await importer.run('auto');
    assert.equal(delta.kind, 'delta');
    assert.equal(delta.objectsRead, 0);
    const seqBefore = space.currentSeq;
    const again = await importer.run('full');
    assert.equal(again.added + again.updated + again.renamed + again.deleted, 0);
    assert.equal(again.unchanged, again.objectsRead);
    assert.equal(again.memberValuesRemoved, 0);
    const large = space.getByDn(seed.groups.large)!;
    assert.equal(space.memberCount(large.guid), seed.largeGroupMembers);
    assert.ok(space.currentSeq >= seqBefore);
    assert.equal([...space.changedSince(seqBefore)].length, 0, 'no object changed');
  });
});
