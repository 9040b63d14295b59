/** Decoding what a DC sends: anchors, ranges, value deltas, and values that must be refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEntry, parseRange } from '../../src/ad/attributes.ts';
import { dnKey, descendantRange, isWithin, rdnValue, splitDn } from '../../src/ad/dn.ts';
import { guidToBytes, guidToString, sidToString } from '../../src/ad/guid.ts';
import type { RawEntry } from '../../src/ad/ldap/raw-search.ts';

const entry = (dn: string, attrs: Record<string, (string | Buffer)[]>): RawEntry => ({
  dn,
  attributes: new Map(Object.entries(attrs).map(([type, values]) => [type.toLowerCase(), { type, values: values.map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(v))) }])),
});

// MS-DTYP 2.3.4.2: {6B29FC40-CA47-1067-B31D-00DD010662DA} is stored as 40 FC 29 6B 47 CA 67 10 B3 1D 00 DD 01 06 62 DA.
const guidBytes = Buffer.from('40fc296b47ca6710b31d00dd010662da', 'hex');

test('objectGUID: the mixed-endian string form of MS-DTYP, both ways', () => {
  assert.equal(guidToString(guidBytes), '6b29fc40-ca47-1067-b31d-00dd010662da');
  assert.deepEqual(guidToBytes('6B29FC40-CA47-1067-B31D-00DD010662DA'), guidBytes);
});

test('objectSid: S-1-5-21-… from its binary form', () => {
  const sid = Buffer.from('010500000000000515000000a065cf7e784b9b5ffe77c87001020000', 'hex');
  assert.equal(sidToString(sid), 'S-1-5-21-2127521184-1604012920-1892186110-513');
  assert.throws(() => sidToString(sid.subarray(0, 20)), /sub-authorities/);
});

test('member;range=…: the parts of a ranged answer', () => {
  assert.deepEqual(parseRange('member;range=0-999'), { name: 'member', range: { low: 0, high: 999 } });
  assert.deepEqual(parseRange('member;range=3000-*'), { name: 'member', range: { low: 3000, high: null } });
  assert.deepEqual(parseRange('member'), { name: 'member', range: undefined });
});

test('DirSync value deltas are told apart from ranged reads', () => {
  const raw = entry('CN=G,DC=x', { objectGUID: [guidBytes], 'member;range=1-1': ['CN=A,DC=x'], 'member;range=0-0': ['CN=B,DC=x'] });
  const delta = decodeEntry(raw, { dirsyncIncremental: true });
  assert.deepEqual(delta.memberDelta, { added: ['CN=A,DC=x'], removed: ['CN=B,DC=x'] });
  assert.equal(delta.guid, '6b29fc40-ca47-1067-b31d-00dd010662da');
  const ranged = decodeEntry(entry('CN=G,DC=x', { objectGUID: [guidBytes], 'member;range=0-999': ['CN=A,DC=x'] }));
  assert.deepEqual(ranged.member, { values: ['CN=A,DC=x'], range: { low: 0, high: 999 } });
});

test('bytes that are not UTF-8 are refused, naming the object and attribute, never replaced', () => {
  const d = decodeEntry(entry('CN=Pat,OU=Staff,DC=x', { objectGUID: [guidBytes], description: [Buffer.from([0x41, 0xff, 0xfe])], sn: ['Lee'] }));
  assert.equal(d.problems.length, 1);
  assert.equal(d.problems[0]!.code, 'invalid_utf8');
  assert.equal(d.problems[0]!.attribute, 'description');
  assert.match(d.problems[0]!.message, /^CN=Pat,OU=Staff,DC=x: description holds bytes that are not UTF-8/);
  assert.equal(d.attributes.description, undefined);
});

test('an objectGUID of the wrong length is refused', () => {
  const d = decodeEntry(entry('CN=Pat,DC=x', { objectGUID: [Buffer.alloc(15)] }));
  assert.equal(d.guid, undefined);
  assert.equal(d.problems[0]!.code, 'invalid_binary');
});

test('attributes nobody asked for are ignored; names take their schema spelling', () => {
  const d = decodeEntry(entry('CN=Pat,DC=x', { objectGUID: [guidBytes], parentGUID: [guidBytes], instanceType: ['4'], SAMACCOUNTNAME: ['pat'] }));
  assert.deepEqual(Object.keys(d.attributes), ['sAMAccountName']);
  assert.deepEqual(d.problems, []);
});

test('DNs: escaped commas, subtree keys, RDN values', () => {
  const dn = 'CN=Lee\\, Pat,OU=Müller\\2C Söhne,DC=corp,DC=example,DC=com';
  assert.deepEqual(splitDn(dn), ['CN=Lee\\, Pat', 'OU=Müller\\2C Söhne', 'DC=corp', 'DC=example', 'DC=com']);
  assert.equal(rdnValue(dn), 'Lee, Pat');
  assert.equal(dnKey(dn), dnKey('cn=lee\\, pat,ou=MÜLLER\\, SÖHNE,dc=corp,dc=example,dc=com'), 'case and escape form do not matter');
  const [lo, hi] = descendantRange(dnKey('OU=Müller\\, Söhne,DC=corp,DC=example,DC=com'));
  const k = dnKey(dn);
  assert.ok(k >= lo && k < hi);
  assert.ok(isWithin(dn, 'DC=corp,DC=example,DC=com'));
  assert.ok(!isWithin('CN=x,OU=Staff2,DC=corp', 'OU=Staff,DC=corp'));
});

test('DNs: semicolons, spaces around separators, empty RDNs, an escaped backslash before a comma, a trailing backslash', () => {
  assert.deepEqual(splitDn('CN=a ; OU=b , DC=c'), ['CN=a', 'OU=b', 'DC=c']);
  assert.deepEqual(splitDn('CN=a,,DC=c,'), ['CN=a', 'DC=c']);
  assert.deepEqual(splitDn('CN=back\\\\,DC=c'), ['CN=back\\\\', 'DC=c'], 'an escaped backslash does not escape the comma after it');
  assert.deepEqual(splitDn('CN=end\\'), ['CN=end\\']);
  assert.equal(dnKey('CN=Zoë\\2c Pat , DC=Example'), 'dc=example\u0001cn=zoë, pat');
  assert.equal(dnKey('CN=Plain,DC=Example'), 'dc=example\u0001cn=plain', 'no escape: the value as it is, lower-cased');
  assert.ok(isWithin('CN=x,OU=Staff,DC=corp', 'ou=staff,dc=CORP'));
  assert.ok(isWithin('OU=Staff,DC=corp', 'OU=Staff,DC=corp'), 'an entry is within itself');
  assert.ok(!isWithin('DC=corp', 'OU=Staff,DC=corp'));
});
