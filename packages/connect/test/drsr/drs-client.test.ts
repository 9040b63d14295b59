/**
 * The DRSR client against the Samba DC, over the network as an unprivileged
 * process: endpoint mapper, NTLM-sealed DCE/RPC, DRSBind, DRSCrackNames and
 * DRSGetNCChanges. NT hashes it reads (EXOP_REPL_OBJ, EXOP_REPL_SECRET and
 * watermarked pages) equal what Samba's own tool reports from the DC's
 * database (samba-tool user getpassword: a test oracle only) and
 * MD4(UTF-16LE(password)); the rights are checked with a clear error.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { Attribute, Change } from 'ldapts';
import { grantOnRunningDc } from '../../../../scripts/test-dc/test-dc.ts';
import { unicodePwd, userEntry } from '../../../../scripts/test-dc/seed.ts';
import { smallDc, type SmallDirectory, type TestDc } from '../helpers/ad.ts';
import { asDomainAdmin } from '../helpers/sync.ts';
import { DrsClient } from '../../src/drsr/drs-client.ts';
import { DrsHashSource } from '../../src/drsr/drs-hash-source.ts';
import { attributeValues, type ReplicatedObject } from '../../src/drsr/drsuapi/get-nc-changes.ts';
import { ATTRIBUTE_OID } from '../../src/drsr/drsuapi/prefix-table.ts';
import { DS_FQDN_1779_NAME, DS_UNIQUE_ID_NAME } from '../../src/drsr/drsuapi/constants.ts';
import { guidFromString, guidToString } from '../../src/drsr/ndr/guid.ts';
import { ntHash } from '../../src/drsr/crypto/primitives.ts';
import { decryptNtHash, ridOf } from '../../src/drsr/secrets/decrypt-secret.ts';
import { ConnectError } from '../../src/errors.ts';
import { zeroUsnVector, type UsnVector } from '../../src/drsr/drsuapi/structures.ts';

const run = promisify(execFile);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** Right to read secrets: DS-Replication-Get-Changes-All. */
const getChangesAll = (sid: string) => `(OA;;CR;1131f6ad-9c07-11d1-f79f-00c04fc2dcd2;;${sid})`;
const SECRET_ATTRIBUTES = [ATTRIBUTE_OID.objectSid, ATTRIBUTE_OID.unicodePwd, ATTRIBUTE_OID.sAMAccountName];

describe('MS-DRSR client against the Samba DC', () => {
  let dc: TestDc;
  let seed: SmallDirectory;
  /** the oracle: the NT hash Samba keeps for an account, read from the DC's own database */
  const oracle = async (sam: string) => {
    const { stdout } = await run('samba-tool', ['user', 'getpassword', sam, '--attributes=unicodePwd', '-H', join(dc.dir, 'private', 'sam.ldb'), `--configfile=${join(dc.dir, 'etc', 'smb.conf')}`]);
    return hex(Buffer.from(/unicodePwd:: (\S+)/.exec(stdout)![1]!, 'base64'));
  };
  const as = (account: { userPrincipalName: string; password: string }) => DrsClient.connect({ host: dc.ip, credentials: { user: account.userPrincipalName, domain: '', password: account.password }, timeoutMs: 20_000 });
  const hashOf = (drs: DrsClient, o: ReplicatedObject) => {
    const value = attributeValues(o, ATTRIBUTE_OID.unicodePwd)?.[0];
    return value ? hex(decryptNtHash(drs.sessionKey, value, ridOf(o.sid, o.dn), o.dn)) : null;
  };

  before(async () => {
    ({ dc, seed } = await smallDc());
  });
  after(() => dc?.stop());

  test('without "Replicating Directory Changes All" secrets are refused with the right named; granted, the NT hashes equal the oracle\'s', async () => {
    const target = seed.passwordUsers[0]!;
    const before = await as(dc.connector);
    try {
      await assert.rejects(before.readObject({ dn: target.user.dn }, SECRET_ATTRIBUTES, target.user.dn), (e: unknown) =>
        e instanceof ConnectError && e.code === 'ad_missing_rights' && /Replicating Directory Changes All/.test(e.message) && e.subject === target.user.dn);
    } finally {
      await before.close();
    }
    await grantOnRunningDc(dc, dc.baseDn, getChangesAll);
    const drs = await as(dc.connector);
    try {
      for (const [i, { user, password }] of seed.passwordUsers.entries()) {
        const o = await drs.readObject({ dn: user.dn }, SECRET_ATTRIBUTES, user.dn);
        assert.equal(o.dn, user.dn);
        assert.deepEqual(attributeValues(o, ATTRIBUTE_OID.sAMAccountName), [Buffer.from(user.sAMAccountName, 'utf16le')]);
        const nt = hashOf(drs, o);
        assert.equal(nt, await oracle(user.sAMAccountName), `${user.sAMAccountName}: DRSR vs samba-tool`);
        assert.equal(nt, hex(await ntHash(password)), `${user.sAMAccountName}: DRSR vs MD4(password)`);
        // the first read of a connection learns the DC's prefix table; from then on only what was asked for comes back
        if (i > 0) assert.equal(o.attributes.length, 3, 'only the attributes asked for (partial attribute set under the DC\'s prefix table)');
      }
      // a user without a password has no unicodePwd to send
      const none = await drs.readObject({ dn: seed.users[0]!.dn }, SECRET_ATTRIBUTES, seed.users[0]!.dn);
      assert.equal(hashOf(drs, none), null);
    } finally {
      await drs.close();
    }
  });

  test('DRSCrackNames turns a DN into its GUID, and an object is read by that GUID alone', async () => {
    const drs = await as(dc.admin);
    try {
      const user = seed.passwordUsers[1]!;
      const [cracked] = await drs.crackNames(DS_FQDN_1779_NAME, DS_UNIQUE_ID_NAME, [user.user.dn]);
      assert.equal(cracked!.status, 0);
      assert.equal(cracked!.dnsDomainName, dc.dnsDomain);
      const guid = cracked!.name!.replace(/[{}]/g, '');
      const o = await drs.readObject({ guid: guidFromString(guid) }, SECRET_ATTRIBUTES, user.user.dn);
      assert.equal(guidToString(o.guid), guid);
      assert.equal(o.dn, user.user.dn);
      assert.equal(hashOf(drs, o), hex(await ntHash(user.password)));
    } finally {
      await drs.close();
    }
  });

  test('EXOP_REPL_SECRET, the read-only-DC path, is refused to an account that is not a read-only DC\'s, with the reason', async () => {
    const drs = await as(dc.admin);
    try {
      await assert.rejects(drs.readObject({ dn: seed.passwordUsers[0]!.user.dn }, SECRET_ATTRIBUTES, seed.passwordUsers[0]!.user.dn, 'secret'), (e: unknown) =>
        e instanceof ConnectError && e.code === 'ad_missing_rights' && /read-only/.test(e.message) && e.subject === seed.passwordUsers[0]!.user.dn);
      // the association stays usable: the EXOP_REPL_OBJ path still reads the secret
      const o = await drs.readObject({ dn: seed.passwordUsers[0]!.user.dn }, SECRET_ATTRIBUTES, seed.passwordUsers[0]!.user.dn);
      assert.equal(hashOf(drs, o), hex(await ntHash(seed.passwordUsers[0]!.password)));
    } finally {
      await drs.close();
    }
  });

  test('bulk: watermarked pages read every user\'s hash; after a password change over LDAP, the next page from the watermark carries the new one', async () => {
    const drs = await as(dc.connector);
    try {
      const nc = { dn: dc.baseDn };
      const hashes = new Map<string, string | null>();
      let from: UsnVector = zeroUsnVector();
      let pages = 0;
      for (let more = true; more; pages++) {
        assert.ok(pages < 100, 'the pages end');
        const page = await drs.changesAfter(nc, from, SECRET_ATTRIBUTES, { maxObjects: 100 });
        for (const o of page.objects) if (o.sid.length) hashes.set(o.dn, hashOf(drs, o));
        from = page.usnvecTo;
        more = page.fMoreData;
      }
      assert.ok(pages > 1, 'several pages');
      for (const { user, password } of seed.passwordUsers) assert.equal(hashes.get(user.dn), hex(await ntHash(password)), user.dn);
      assert.equal(hashes.get(seed.users[2]!.dn), null, 'no password, no hash');

      const changed = seed.passwordUsers[2]!;
      await asDomainAdmin(dc, (c) => c.modify(changed.user.dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'unicodePwd', values: [unicodePwd('Changed-Passw0rd!')] }) })));
      const fresh = userEntry({ index: 9100, ou: seed.ous.staff, dnsDomain: dc.dnsDomain, prefix: 'drs', password: 'Fresh-Passw0rd!' });
      await asDomainAdmin(dc, (c) => c.add(fresh.dn, fresh.attributes));
      const delta = await drs.changesAfter(nc, from, SECRET_ATTRIBUTES, { maxObjects: 100 });
      const seen = new Map(delta.objects.map((o) => [o.dn, hashOf(drs, o)]));
      assert.equal(seen.get(changed.user.dn), hex(await ntHash('Changed-Passw0rd!')));
      assert.equal(seen.get(fresh.dn), hex(await ntHash('Fresh-Passw0rd!')));
      assert.equal(seen.get(changed.user.dn), await oracle(changed.user.sAMAccountName));
      assert.ok(delta.objects.length < 10, `only what changed after the watermark (${delta.objects.length} objects)`);
    } finally {
      await drs.close();
    }
  });

  test('the hash source reads users by GUID; one that is gone is an error for that user only', async () => {
    const users = seed.passwordUsers.slice(0, 2); // the third one's password changed above
    const admin = await as(dc.admin);
    const guids = (await admin.crackNames(DS_FQDN_1779_NAME, DS_UNIQUE_ID_NAME, users.map((u) => u.user.dn))).map((c) => c.name!.replace(/[{}]/g, ''));
    await admin.close();
    const source = await DrsHashSource.open({ host: dc.ip, credentials: { user: dc.connector.userPrincipalName, domain: '', password: dc.connector.password } });
    try {
      const ghost = { guid: '0e9b4c5a-1111-4222-8333-944455556666', dn: `CN=Nobody,${seed.ous.staff}` };
      const results = await source.read([...users.map((u, i) => ({ guid: guids[i]!, dn: u.user.dn })), ghost]);
      assert.equal(results.length, users.length + 1);
      for (const [i, { password }] of users.entries()) {
        const r = results[i]!;
        assert.ok('ntHash' in r && r.ntHash, `user ${i}`);
        assert.equal(hex(r.ntHash), hex(await ntHash(password)));
      }
      const last = results[users.length]!;
      assert.ok('error' in last && last.error.subject === ghost.dn, `the missing user is an error for that user: ${JSON.stringify(last)}`);
    } finally {
      await source.close();
    }
  });

  test('a wrong password is a clear authentication error', async () => {
    await assert.rejects(as({ userPrincipalName: dc.connector.userPrincipalName, password: 'not-the-password' }), (e: unknown) =>
      e instanceof ConnectError && e.code === 'drsr_auth_failed' && /password/.test(e.fix ?? ''));
  });
});
