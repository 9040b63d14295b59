/**
 * The agent replaces ldapts's Attribute.parse (ad/ldap/attribute-values.ts)
 * with one that reads values without an exception per binary value. It must
 * give what ldapts's own gives, value for value: these tests parse the same
 * BER with both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attribute, BerReader, BerWriter } from 'ldapts';
import '../../src/ad/ldap/raw-search.ts';
import { ldaptsParse, strictText } from '../../src/ad/ldap/attribute-values.ts';

/** Parses one attribute's BER with the given parse. */
function parsed(parse: (reader: BerReader) => void, type: string, values: Buffer[]): { type: string; buffers: Buffer[]; values: (string | Buffer)[] } {
  const writer = new BerWriter();
  new Attribute({ type, values }).write(writer);
  const attribute = new Attribute();
  parse.call(attribute, new BerReader(writer.buffer));
  return { type: attribute.type, buffers: attribute.parsedBuffers, values: attribute.values };
}

function same(type: string, values: Buffer[]): void {
  const ours = parsed(Attribute.prototype.parse, type, values);
  const theirs = parsed(ldaptsParse, type, values);
  assert.deepEqual(ours, theirs, `${type}: ${values.map((v) => v.toString('hex')).join(' ')}`);
}

test('the raw search installs the replacement on ldapts\'s Attribute', () => {
  assert.notEqual(Attribute.prototype.parse, ldaptsParse);
});

test('text, a byte order mark, bytes that are not UTF-8 and empty values read as ldapts reads them', () => {
  const hex = (h: string) => Buffer.from(h, 'hex');
  const cases: [string, Buffer[]][] = [
    ['displayName', [Buffer.from('Zoë Ångström 🙂')]],
    ['proxyAddresses', ['SMTP:a@example.com', 'smtp:b@example.com', ''].map((s) => Buffer.from(s))],
    ['description', [Buffer.from('\uFEFFwith a byte order mark'), Buffer.from('\uFEFF'), Buffer.from('\uFEFF\uFEFFtwo marks')]],
    ['objectGUID', [hex('8a0f2c1e9b3d4f5ea1c2d3e4f5a6b7c8')]],
    ['objectSid', [hex('010500000000000515000000a1b2c3d4e5f60718293a4b5c51040000')]],
    ['bad', [hex('c080'), hex('eda080'), hex('f4908080'), hex('e282'), hex('80'), hex('efbb'), hex('efbbbfff')]],
    ['thumbnailPhoto;binary', [Buffer.from('text sent as binary')]],
    ['member;range=0-*', []],
  ];
  for (const [type, values] of cases) same(type, values);
});

test('random bytes read as ldapts reads them', () => {
  // a seeded generator: the same 3,000 values every run, biased towards UTF-8 lead and continuation bytes
  let state = 0x5eed;
  const next = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 8) & 0xff;
  const alphabet = [0x41, 0x7f, 0x80, 0xbf, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xbb, 0xf0, 0xf4, 0xf5, 0xff];
  for (let i = 0; i < 3000; i++) {
    const bytes = Buffer.from(Array.from({ length: next() % 12 }, () => (next() & 1 ? alphabet[next() % alphabet.length]! : next())));
    same('description', [bytes]);
  }
});

test('strictText keeps the bytes of what is not UTF-8 and drops one leading byte order mark', () => {
  assert.equal(strictText(Buffer.from('\uFEFFabc')), 'abc');
  assert.equal(strictText(Buffer.from('abc')), 'abc');
  assert.equal(strictText(Buffer.alloc(0)), '');
  const bytes = Buffer.from([0xff, 0x00]);
  assert.equal(strictText(bytes), bytes);
});
