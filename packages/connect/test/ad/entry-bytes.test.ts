/**
 * The raw search keeps entries as the BER the DC sent and reads them itself
 * (ad/ldap/entry-bytes.ts). What it reads must be what ldapts reads from the
 * same bytes: these tests build search result messages with ldapts's own
 * writer, pass them through ldapts's MessageParser, and compare.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageParser, PagedResultsControl, SearchEntry, SearchRequest, FilterParser } from 'ldapts';
import { EntryBytes, entryDn, firstValue, keepEntryBytes, readEntry } from '../../src/ad/ldap/entry-bytes.ts';
import { entryMessage } from '../helpers/ldap-messages.ts';
import { ConnectError } from '../../src/errors.ts';

const hex = (h: string) => Buffer.from(h, 'hex');

function request(messageId: number): SearchRequest {
  return new SearchRequest({ messageId, baseDN: 'DC=corp,DC=example,DC=com', scope: 'sub', filter: FilterParser.parseString('(objectClass=*)'), attributes: [], sizeLimit: 0, timeLimit: 0, controls: [] });
}

/** Feeds `data` to a MessageParser in chunks of `chunk` bytes; returns the messages it emitted. */
function parse(data: Buffer, requests: SearchRequest[], chunk = data.length): unknown[] {
  const parser = new MessageParser();
  const out: unknown[] = [];
  parser.on('message', (m: unknown) => out.push(m));
  parser.on('error', (err: Error) => { throw err; });
  const details = new Map(requests.map((r) => [String(r.messageId), { message: r }]));
  for (let i = 0; i < data.length; i += chunk) parser.read(data.subarray(i, i + chunk), details);
  return out;
}

const cases: [string, Buffer[]][] = [
  ['objectGUID', [hex('8a0f2c1e9b3d4f5ea1c2d3e4f5a6b7c8')]],
  ['objectSid', [hex('010500000000000515000000a1b2c3d4e5f60718293a4b5c51040000')]],
  ['displayName', [Buffer.from('Zoë Ångström 🙂')]],
  ['proxyAddresses', ['SMTP:a@example.com', 'smtp:b@example.com', ''].map((s) => Buffer.from(s))],
  ['description', [Buffer.from('\uFEFFwith a byte order mark')]],
  ['bad', [hex('c080'), hex('eda080'), hex('ff')]],
  ['member;range=0-*', []],
  ['thumbnailPhoto', [Buffer.alloc(70_000, 7)]],
];

test('an entry read from its bytes has the DN, attribute types and value bytes ldapts reads', () => {
  const dn = "CN=Zoë O'Brien\\, Jr.,OU=Bench,DC=corp,DC=example,DC=com";
  const message = entryMessage(7, dn, cases);
  const [theirs] = parse(message, [request(7)]) as SearchEntry[];
  const marked = request(7);
  keepEntryBytes(marked);
  const [ours] = parse(message, [marked]) as EntryBytes[];
  assert.ok(theirs instanceof SearchEntry && !(theirs instanceof EntryBytes), 'an unmarked request gets ldapts\'s own entry');
  assert.ok(ours instanceof EntryBytes && ours instanceof SearchEntry, 'a marked request gets the bytes (still a SearchEntry, which ldapts collects)');
  const read = readEntry(ours.bytes);
  assert.equal(read.dn, theirs.name);
  assert.deepEqual([...read.attributes.keys()], theirs.attributes.map((a) => a.type.toLowerCase()));
  for (const a of theirs.attributes) {
    const mine = read.attributes.get(a.type.toLowerCase())!;
    assert.equal(mine.type, a.type);
    assert.deepEqual(mine.values, a.parsedBuffers, a.type);
  }
});

test('an entry split across reads, and the controls after it, parse as before', () => {
  const first = entryMessage(9, 'CN=a,DC=corp,DC=example,DC=com', cases, true);
  const second = entryMessage(9, 'CN=b,DC=corp,DC=example,DC=com', [['cn', [Buffer.from('b')]]]);
  const marked = request(9);
  keepEntryBytes(marked);
  for (const chunk of [5, 13, 1000, first.length + second.length]) {
    const messages = parse(Buffer.concat([first, second]), [marked], chunk) as EntryBytes[];
    assert.equal(messages.length, 2, `chunks of ${chunk}`);
    assert.deepEqual(messages.map((m) => readEntry(m.bytes).dn), ['CN=a,DC=corp,DC=example,DC=com', 'CN=b,DC=corp,DC=example,DC=com']);
    const paged = messages[0]!.controls?.[0];
    assert.ok(paged instanceof PagedResultsControl, 'the control after the entry is read');
    assert.equal(paged.value?.cookie?.toString(), 'cookie');
    assert.equal(readEntry(messages[0]!.bytes).attributes.get('thumbnailphoto')!.values[0]!.length, 70_000);
  }
});

test('bytes that are not a valid entry are refused with the protocol error, never read past', () => {
  const good = entryMessage(3, 'CN=x,DC=corp,DC=example,DC=com', [['cn', [Buffer.from('x')]], ['sn', [Buffer.from('y')]]]);
  const marked = request(3);
  keepEntryBytes(marked);
  const bytes = (parse(good, [marked]) as EntryBytes[])[0]!.bytes;
  const bad: [string, Buffer][] = [
    ['cut short', bytes.subarray(0, bytes.length - 2)],
    ['wrong tag', Buffer.concat([Buffer.from([0x05]), bytes.subarray(1)])],
    ['indefinite length', Buffer.from([0x04, 0x80, 0x00, 0x00])],
    ['length past the end', Buffer.from([0x04, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x41])],
    ['empty', Buffer.alloc(0)],
  ];
  for (const [what, b] of bad) {
    assert.throws(() => readEntry(b), (err: unknown) => err instanceof ConnectError && err.code === 'ad_protocol_error' && /not valid BER/.test(err.message), what);
  }
  // a value set whose last value runs past the set
  const tampered = Buffer.from(bytes);
  const at = tampered.indexOf(Buffer.from([0x04, 0x01, 0x79])); // sn's value "y"
  tampered[at + 1] = 0x05;
  assert.throws(() => readEntry(tampered), /not valid BER/);
});

test('an entry\'s DN and one attribute\'s first value are read without reading the rest', () => {
  const marked = request(4);
  keepEntryBytes(marked);
  const dn = 'CN=Zoë,OU=Bench,DC=corp,DC=example,DC=com';
  const bytes = (parse(entryMessage(4, dn, [['cn', [Buffer.from('Zoë')]], ['objectGUIDx', [Buffer.from('not it')]], ['OBJECTGUID', cases[0]![1]], ['member;range=0-*', []]]), [marked]) as EntryBytes[])[0]!.bytes;
  assert.equal(entryDn(bytes), dn);
  assert.deepEqual(firstValue(bytes, 'objectGUID'), cases[0]![1][0], 'the description is compared without case');
  assert.equal(firstValue(bytes, 'member'), undefined, 'a description with options is another description');
  assert.equal(firstValue(bytes, 'member;range=0-*'), undefined, 'an attribute sent without values has no first value');
  assert.equal(firstValue(bytes, 'sn'), undefined);
});

test('an entry whose attribute list claims more bytes than its message holds is refused, not read into the next message', () => {
  const marked = request(6);
  keepEntryBytes(marked);
  const first = entryMessage(6, 'CN=a,DC=corp,DC=example,DC=com', [['cn', [Buffer.from('a')]]]);
  const second = entryMessage(6, 'CN=b,DC=corp,DC=example,DC=com', [['cn', [Buffer.from('b')]]]);
  // the attribute list's length byte (short form) of the first message, made 40 bytes longer
  const at = first.indexOf(Buffer.from('CN=a,DC=corp,DC=example,DC=com')) + 'CN=a,DC=corp,DC=example,DC=com'.length;
  assert.equal(first[at], 0x30);
  const tampered = Buffer.from(first);
  tampered[at + 1] = tampered[at + 1]! + 40;
  assert.throws(() => parse(Buffer.concat([tampered, second]), [marked]), (err: unknown) => err instanceof ConnectError && /runs past its container/.test(err.message));
});
