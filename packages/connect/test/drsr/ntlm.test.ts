/**
 * NTLMv2 (MS-NLMP) on the specification's published example (4.2.4:
 * user "User", domain "Domain", password "Password", server challenge
 * 0123456789abcdef, client challenge aa…, random session key 55…), and
 * the sealing streams of several messages in both directions against
 * impacket's implementation as an independent oracle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { decodeAvPairs } from '../../src/drsr/ntlm/av-pairs.ts';
import { NtlmClient } from '../../src/drsr/ntlm/client.ts';
import { AvId, NegotiateFlag, clientFlags } from '../../src/drsr/ntlm/flags.ts';
import { decodeChallenge, encodeNegotiate } from '../../src/drsr/ntlm/messages.ts';
import { computeNtlmV2Response, exportedSessionKey, ntowfV2, sessionKeys } from '../../src/drsr/ntlm/ntlmv2.ts';
import { NtlmSessionSecurity } from '../../src/drsr/ntlm/session-security.ts';
import { ConnectError } from '../../src/errors.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const h = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** The CHALLENGE_MESSAGE of MS-NLMP 4.2.4.3. */
const specChallenge = h(`
  4e544c4d53535000 02000000 0c000c00 38000000 33828ae2 0123456789abcdef
  0000000000000000 24002400 44000000 060070170000000f
  53006500720076006500720002000c0044006f006d00610069006e00
  01000c0053006500720076006500720000000000`);
const randomSessionKey = Buffer.alloc(16, 0x55);
const clientChallenge = Buffer.alloc(8, 0xaa);
const serverChallenge = h('0123456789abcdef');

test('MS-NLMP 4.2.4.3: the example CHALLENGE_MESSAGE decodes to its flags, challenge, target name and AV pairs', () => {
  const c = decodeChallenge(specChallenge);
  assert.equal(c.flags, 0xe28a8233);
  assert.equal(hex(c.serverChallenge), '0123456789abcdef');
  assert.equal(c.targetName, 'Server');
  const pairs = decodeAvPairs(c.targetInfo);
  assert.deepEqual(pairs.map((p) => [p.id, p.value.toString('utf16le')]), [[AvId.NB_DOMAIN_NAME, 'Domain'], [AvId.NB_COMPUTER_NAME, 'Server']]);
});

test('MS-NLMP 4.2.4.1 and 4.2.4.2: NTOWFv2, LMv2 and NTLMv2 responses, session base key, encrypted session key', async () => {
  const responseKey = await ntowfV2('Password', 'User', 'Domain');
  assert.equal(hex(responseKey), '0c868a403bfd7a93a3001ef22ef02e3f');
  const r = computeNtlmV2Response({ responseKey, serverChallenge, clientChallenge, time: 0n, targetInfo: decodeChallenge(specChallenge).targetInfo });
  assert.equal(hex(r.lmChallengeResponse), '86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa');
  assert.equal(hex(r.ntProofStr), '68cd0ab851e51c96aabc927bebef6a1c');
  assert.equal(hex(r.sessionBaseKey), '8de40ccadbc14a82f15cb0ad0de95ca3');
  const key = exportedSessionKey(0xe28a8233, r.sessionBaseKey, randomSessionKey);
  assert.equal(hex(key.encrypted), 'c5dad2544fc9799094ce1ce90bc9d03e');
  assert.deepEqual(key.exported, randomSessionKey);
});

test('MS-NLMP 4.2.4.4: sealing and signing keys, and GSS_WrapEx of "Plaintext"', () => {
  const keys = sessionKeys(0xe28a8233, randomSessionKey);
  assert.equal(hex(keys.clientSeal), '59f600973cc4960a25480a7c196e4c58');
  assert.equal(hex(keys.clientSign), '4788dc861b4782f35d43fd98fe1a2d39');
  const security = new NtlmSessionSecurity(0xe28a8233, randomSessionKey);
  const { sealed, signature } = security.seal(Buffer.from('Plaintext', 'utf16le'));
  assert.equal(hex(sealed), '54e50165bf1936dc996020c1811b0f06fb5f');
  assert.equal(hex(signature), '010000007fb38ec5c55d497600000000');
});

test('the client builds an AUTHENTICATE_MESSAGE the example values reproduce; with a server timestamp it adds MsvAvFlags and a MIC', async () => {
  const client = new NtlmClient({ user: 'User', domain: 'Domain', password: 'Password' }, { fixed: { clientChallenge, randomSessionKey, time: 0n } });
  const negotiate = client.negotiate();
  assert.equal(negotiate.readUInt32LE(12), clientFlags);
  const { message } = await client.authenticate(specChallenge);
  const ntLen = message.readUInt16LE(20);
  const ntOff = message.readUInt32LE(24);
  assert.equal(hex(message.subarray(ntOff, ntOff + 16)), '68cd0ab851e51c96aabc927bebef6a1c', 'NTProofStr of the example');
  const keyOff = message.readUInt32LE(56);
  assert.equal(hex(message.subarray(keyOff, keyOff + 16)), 'c5dad2544fc9799094ce1ce90bc9d03e');
  assert.ok(ntLen > 16);

  // the same challenge with a timestamp: MIC present, MsvAvFlags says so, LM response zeroed
  const info = Buffer.concat([h('02000c00'), Buffer.from('Domain', 'utf16le'), h('07000800'), h('0102030405060708'), h('00000000')]);
  const withTime = Buffer.concat([specChallenge.subarray(0, 40), Buffer.from([info.length, 0, info.length, 0, 0x38, 0, 0, 0]), specChallenge.subarray(48, 56), info]);
  const second = new NtlmClient({ user: 'User', domain: 'Domain', password: 'Password' });
  second.negotiate();
  const auth = (await second.authenticate(withTime)).message;
  assert.equal(auth.readUInt32LE(16), 72 + 16, 'payload starts after the MIC');
  assert.notEqual(hex(auth.subarray(72, 88)), '00'.repeat(16), 'MIC filled in');
  const lmOff = auth.readUInt32LE(16);
  assert.equal(hex(auth.subarray(lmOff, lmOff + 24)), '00'.repeat(24));
  const ntOff2 = auth.readUInt32LE(24);
  const temp = auth.subarray(ntOff2 + 16, ntOff2 + auth.readUInt16LE(20));
  assert.equal(temp.readBigUInt64LE(8), 0x0807060504030201n, 'the server timestamp is the response time');
  const pairs = decodeAvPairs(temp.subarray(28));
  assert.equal(pairs.find((p) => p.id === AvId.FLAGS)?.value.readUInt32LE(0), 2);
});

test('a challenge without sealing or extended session security is refused, and malformed challenges are clear errors', async () => {
  const weak = Buffer.from(specChallenge);
  weak.writeUInt32LE((0xe28a8233 & ~NegotiateFlag.SEAL) >>> 0, 20);
  const client = new NtlmClient({ user: 'u', domain: 'd', password: 'p' });
  client.negotiate();
  await assert.rejects(client.authenticate(weak), (e: unknown) => e instanceof ConnectError && e.code === 'drsr_auth_failed');
  for (const bad of [Buffer.alloc(0), encodeNegotiate(clientFlags), specChallenge.subarray(0, 50)]) {
    await assert.rejects(client.authenticate(bad), (e: unknown) => e instanceof ConnectError && e.code === 'drsr_protocol_error');
  }
});

test('sealing runs one RC4 stream per direction across messages, as impacket computes it; tampering fails the signature check', () => {
  const flags = clientFlags;
  const exported = h('000102030405060708090a0b0c0d0e0f');
  const messages = ['first message', 'a second, longer message '.repeat(20), 'x'].map((s) => Buffer.from(s));
  const script = `
import sys, binascii
from impacket import ntlm
from Cryptodome.Cipher import ARC4
flags = ${flags}
key = binascii.unhexlify('${hex(exported)}')
out = []
for mode in ('Client', 'Server'):
    sign = ntlm.SIGNKEY(flags, key, mode)
    seal = ntlm.SEALKEY(flags, key, mode)
    handle = ARC4.new(seal).encrypt
    for seq, m in enumerate([${messages.map((m) => `binascii.unhexlify('${hex(m)}')`).join(', ')}]):
        sealed, sig = ntlm.SEAL(flags, sign, seal, m, m, seq, handle)
        out.append(binascii.hexlify(sealed).decode() + ':' + binascii.hexlify(sig.getData()).decode())
print(' '.join(out))
`;
  const oracle = execFileSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' }).trim().split(' ');
  const client = new NtlmSessionSecurity(flags, exported);
  messages.forEach((m, i) => {
    const { sealed, signature } = client.seal(m);
    assert.equal(`${hex(sealed)}:${hex(signature)}`, oracle[i], `client message ${i}`);
  });
  // what the server sends, as impacket seals it, unseals and verifies here
  const reader = new NtlmSessionSecurity(flags, exported);
  messages.forEach((m, i) => {
    const [sealed, sig] = oracle[messages.length + i]!.split(':') as [string, string];
    const plain = reader.unseal(h(sealed));
    assert.deepEqual(plain, m);
    reader.verify(plain, h(sig));
  });
  const tampered = new NtlmSessionSecurity(flags, exported);
  const [sealed, sig] = oracle[messages.length]!.split(':') as [string, string];
  const plain = tampered.unseal(h(sealed));
  plain[0] = plain[0]! ^ 1;
  assert.throws(() => tampered.verify(plain, h(sig)), (e: unknown) => e instanceof ConnectError && e.code === 'drsr_integrity_failed');
});
