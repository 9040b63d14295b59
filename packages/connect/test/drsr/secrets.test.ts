/**
 * From an encrypted unicodePwd to the cloud hash: the secret layers of
 * MS-DRSR (session-key MD5 + RC4, CRC32, the RID-keyed DES layer) checked
 * against impacket's decryption as an oracle, damaged secrets refused, and
 * the synchronized hash on every case of vectors/phs.json (the team's
 * independently computed vectors, copied from the brief's shared/vectors).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, ntHash, rc4, ridDes } from '../../src/drsr/crypto/primitives.ts';
import { decryptHashHistory, decryptNtHash, decryptSecretValue, ridOf } from '../../src/drsr/secrets/decrypt-secret.ts';
import { ConnectError } from '../../src/errors.ts';
import { ntHashMatches, parsePasswordHash, passwordHashFromNtHash, passwordHashFromNtHashAsync } from '@skybridge/protocol';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** What a DC does to a secret before sending it (the inverse of the agent's steps). */
function encryptLikeDc(sessionKey: Buffer, data: Buffer): Buffer {
  const salt = randomBytes(16);
  const key = createHash('md5').update(sessionKey).update(salt).digest();
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32LE(crc32(data));
  return Buffer.concat([salt, rc4(key, Buffer.concat([checksum, data]))]);
}

const isInvalid = (e: unknown) => e instanceof ConnectError && e.code === 'drsr_secret_invalid';

test('an encrypted unicodePwd decrypts to the NT hash, as impacket decrypts it', async () => {
  const sessionKey = randomBytes(16);
  const rid = 1107;
  const nt = await ntHash('Alic3Pass!x');
  const value = encryptLikeDc(sessionKey, ridDes('encrypt', nt, rid));
  assert.equal(hex(decryptNtHash(sessionKey, value, rid, 'CN=Alice')), hex(nt));
  const script = `
import binascii
from impacket.dcerpc.v5 import drsuapi
class Dce:
    def get_session_key(self): return binascii.unhexlify('${hex(sessionKey)}')
plain = drsuapi.DecryptAttributeValue(Dce(), binascii.unhexlify('${hex(value)}'))
print(binascii.hexlify(drsuapi.removeDESLayer(plain, ${rid})).decode())
`;
  assert.equal(execFileSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' }).trim(), hex(nt));
});

test('a password history decrypts hash by hash; the RID comes from the objectSid', async () => {
  const sessionKey = randomBytes(16);
  const sid = Buffer.from('010500000000000515000000a1b2c3d4e5f60718293a4b5c53040000', 'hex');
  const rid = ridOf(sid, 'CN=Bob');
  assert.equal(rid, 1107);
  const hashes = [await ntHash('new'), await ntHash('old')];
  const value = encryptLikeDc(sessionKey, Buffer.concat(hashes.map((h) => ridDes('encrypt', h, rid))));
  assert.deepEqual(decryptHashHistory(sessionKey, value, rid, 'CN=Bob').map(hex), hashes.map(hex));
  assert.throws(() => ridOf(Buffer.from('0105', 'hex'), 'CN=Bob'), isInvalid);
});

test('a wrong session key, a flipped bit, a short value or a wrong length are refused with the object named', async () => {
  const sessionKey = randomBytes(16);
  const value = encryptLikeDc(sessionKey, ridDes('encrypt', await ntHash('x'), 500));
  assert.throws(() => decryptNtHash(randomBytes(16), value, 500, 'CN=Carol'), (e) => isInvalid(e) && /CN=Carol.*CRC32/.test((e as Error).message));
  const flipped = Buffer.from(value);
  flipped[flipped.length - 1]! ^= 0x01;
  assert.throws(() => decryptNtHash(sessionKey, flipped, 500, 'CN=Carol'), isInvalid);
  assert.throws(() => decryptSecretValue(sessionKey, value.subarray(0, 19), 'CN=Carol'), isInvalid);
  assert.throws(() => decryptNtHash(sessionKey, encryptLikeDc(sessionKey, Buffer.alloc(15)), 500, 'CN=Carol'), (e) => isInvalid(e) && /15 bytes/.test((e as Error).message));
});

test('the synchronized hash matches every case of phs.json, and verifies the right password only', async () => {
  const vectors = JSON.parse(readFileSync(join(import.meta.dirname, 'vectors/phs.json'), 'utf8')) as {
    cases: { password: string; ntHashHex: string; saltHex: string; iterations: number; hashHex: string; formatted: string }[];
  };
  assert.ok(vectors.cases.length >= 5);
  for (const c of vectors.cases) {
    const nt = await ntHash(c.password);
    assert.equal(hex(nt), c.ntHashHex, `NT hash of ${c.password}`);
    const formatted = passwordHashFromNtHash(nt, Buffer.from(c.saltHex, 'hex'), c.iterations);
    assert.equal(formatted, c.formatted, c.password);
    assert.equal(await passwordHashFromNtHashAsync(nt, Buffer.from(c.saltHex, 'hex'), c.iterations), c.formatted, `${c.password} (on the thread pool)`);
    const parsed = parsePasswordHash(formatted)!;
    assert.equal(hex(parsed.hash), c.hashHex);
    assert.ok(ntHashMatches(nt, parsed));
    assert.ok(!ntHashMatches(await ntHash(`${c.password} `), parsed));
  }
  const fresh = passwordHashFromNtHash(await ntHash('p'));
  assert.match(fresh, /^v1;PPH1_MD4,[0-9a-f]{20},1000,[0-9a-f]{64};$/);
  assert.notEqual(fresh, passwordHashFromNtHash(await ntHash('p')), 'a fresh salt each time');
  for (const bad of ['', 'v2;PPH1_MD4,00112233445566778899,1000,' + '0'.repeat(64) + ';', 'v1;PPH1_MD4,0011,1000,' + '0'.repeat(64) + ';', 'v1;PPH1_MD4,00112233445566778899,99999999,' + '0'.repeat(64) + ';']) {
    assert.equal(parsePasswordHash(bad), undefined, bad);
  }
});
