/**
 * The raw search (ad/ldap/raw-search.ts) sends ldapts's SearchRequest
 * itself and reads its answer through three internals of ldapts
 * (_ensureConnected, _nextMessageId, _send) and its MessageParser's hook
 * for entries kept as bytes (ad/ldap/entry-bytes.ts). Against a real Samba DC over LDAPS, these tests
 * guard that all of it still holds after an upgrade of ldapts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Change, Attribute as LdapAttribute } from 'ldapts';
import { AdConnection } from '../../src/ad/connection.ts';
import { decodeEntry } from '../../src/ad/attributes.ts';
import { guidToString } from '../../src/ad/guid.ts';
import { adminClient } from '../../../../scripts/test-dc/seed.ts';
import { agentConfig, smallDc, type AgentFiles, type SmallDirectory, type TestDc } from '../helpers/ad.ts';

describe('raw search', () => {
  let dc: TestDc;
  let seed: SmallDirectory;
  let files: AgentFiles;
  let conn: AdConnection;

  before(async () => {
    ({ dc, seed } = await smallDc());
    files = agentConfig(dc);
    conn = await AdConnection.open(files.loaded.config.activeDirectory, files.loaded.secrets.adPassword);
  });
  after(async () => {
    await conn?.close();
    files?.cleanup();
    await dc?.stop();
  });

  test('every value comes as the bytes the DC sent', async () => {
    const user = seed.users[0]!;
    const { entries } = await conn.search({ base: user.dn, scope: 'base', filter: '(objectClass=*)', attributes: ['objectGUID', 'objectSid', 'displayName', 'proxyAddresses', 'objectClass'] });
    assert.equal(entries.length, 1);
    const e = entries[0]!;
    assert.equal(e.dn.toLowerCase(), user.dn.toLowerCase());
    const guid = e.attributes.get('objectguid')!;
    assert.equal(guid.values[0]!.length, 16, 'objectGUID: 16 bytes');
    const classes = e.attributes.get('objectclass')!;
    assert.ok(classes.values.length >= 4);
    assert.deepEqual(classes.values.map((v) => v.toString('utf8').toLowerCase()).sort(), ['organizationalperson', 'person', 'top', 'user']);
    const decoded = decodeEntry(e);
    assert.deepEqual(decoded.problems, []);
    assert.equal(decoded.guid, guidToString(guid.values[0]!));
    assert.equal(decoded.attributes.displayName?.[0], e.attributes.get('displayname')!.values[0]!.toString('utf8'));
  });

  test('a value that starts with a byte order mark keeps it (ldapts\'s own reading drops it)', async () => {
    const user = seed.users[1]!;
    const withBom = '\uFEFFZoë with a byte order mark';
    const admin = await adminClient(dc);
    try {
      await admin.modify(user.dn, [new Change({ operation: 'replace', modification: new LdapAttribute({ type: 'description', values: [withBom] }) })]);
    } finally {
      await admin.unbind();
    }
    const { entries } = await conn.search({ base: user.dn, scope: 'base', filter: '(objectClass=*)', attributes: ['objectGUID', 'description'] });
    const description = entries[0]!.attributes.get('description')!;
    assert.deepEqual([...description.values[0]!.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'the DC kept the mark');
    assert.equal(decodeEntry(entries[0]!).attributes.description?.[0], withBom);
  });
});
