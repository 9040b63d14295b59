/**
 * The legacy primitives of MS-DRSR's secret decryption, on published
 * vectors (RFC 1320, RFC 6229, FIPS 46 / the classic DES example, CRC32's
 * check value) and, for the RID-keyed DES layer, against impacket's
 * implementation (Debian python3-impacket) as an independent oracle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { crc32, desBlock, desKeyFrom7, md4, ntHash, rc4, ridDes, ridKeys } from '../../src/drsr/crypto/primitives.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('MD4: the RFC 1320 test suite; the NT hash of a password', async () => {
  const suite: [string, string][] = [
    ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
    ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
    ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
    ['message digest', 'd9130a8164549fe818874806e1c7014b'],
    ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
    ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', 'e33b4ddc9c38f2199c3e7b164fcc0536'],
  ];
  for (const [input, digest] of suite) assert.equal(hex(await md4(Buffer.from(input))), digest, `MD4("${input}")`);
  // MS-NLMP 4.2.2.1.2: NTOWFv1 of "Password"
  assert.equal(hex(await ntHash('Password')), 'a4f49c406510bdcab6824ee7c30fd852');
});

test('RC4: RFC 6229 keystreams; encryption and decryption are one operation', () => {
  const zeros = Buffer.alloc(32);
  assert.equal(hex(rc4(Buffer.from('0102030405', 'hex'), zeros).subarray(0, 16)), 'b2396305f03dc027ccc3524a0a1118a8');
  assert.equal(hex(rc4(Buffer.from('0102030405', 'hex'), zeros).subarray(16, 32)), '6982944f18fc82d589c403a47a0d0919');
  assert.equal(hex(rc4(Buffer.from('0102030405060708', 'hex'), zeros).subarray(0, 16)), '97ab8a1bf0afb96132f2f67258da15a8');
  const key = randomBytes(16);
  const data = randomBytes(100);
  assert.deepEqual(rc4(key, rc4(key, data)), data);
  assert.throws(() => rc4(Buffer.alloc(0), data), /1 to 256 bytes/);
});

test('DES: the classic example and its inverse', () => {
  const key = Buffer.from('133457799bbcdff1', 'hex');
  const cipher = desBlock('encrypt', key, Buffer.from('0123456789abcdef', 'hex'));
  assert.equal(hex(cipher), '85e813540f0ab405');
  assert.equal(hex(desBlock('decrypt', key, cipher)), '0123456789abcdef');
  assert.throws(() => desBlock('encrypt', Buffer.alloc(7), Buffer.alloc(8)), /8-byte key/);
});

test('CRC32: the check value of "123456789"', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.alloc(0)), 0);
});

test('7-byte keys are spread with odd parity; RID keys follow MS-SAMR 2.2.11.1.3', () => {
  for (const b of desKeyFrom7(randomBytes(7))) {
    let ones = 0;
    for (let x = b; x; x >>= 1) ones += x & 1;
    assert.equal(ones % 2, 1, 'odd parity');
  }
  assert.equal(hex(desKeyFrom7(Buffer.alloc(7))), '0101010101010101');
  const [k1, k2] = ridKeys(500);
  assert.equal(k1.length, 8);
  assert.notDeepEqual(k1, k2);
  assert.throws(() => ridKeys(-1), /unsigned 32-bit/);
  const hash = randomBytes(16);
  assert.deepEqual(ridDes('decrypt', ridDes('encrypt', hash, 1105), 1105), hash, 'the layer comes off as it went on');
});

const impacket = '/usr/lib/python3/dist-packages/impacket/dcerpc/v5/drsuapi.py';
test('the RID-keyed DES layer comes off as impacket removes it (independent oracle)', { skip: existsSync(impacket) ? false : 'python3-impacket is not installed (.ci/run installs it)' }, () => {
  const cases = [[500, randomBytes(16)], [1105, randomBytes(16)], [0x12345678, randomBytes(16)], [4294967295, randomBytes(16)]] as const;
  const script = 'import sys, binascii\nfrom impacket.dcerpc.v5.drsuapi import removeDESLayer\nfor line in sys.stdin:\n    rid, h = line.split()\n    print(binascii.hexlify(removeDESLayer(bytes.fromhex(h), int(rid))).decode())\n';
  const out = execFileSync('/usr/bin/python3', ['-c', script], { input: cases.map(([rid, h]) => `${rid} ${hex(h)}`).join('\n') + '\n', encoding: 'utf8' }).trim().split('\n');
  cases.forEach(([rid, h], i) => assert.equal(hex(ridDes('decrypt', h, rid)), out[i], `RID ${rid}`));
});
