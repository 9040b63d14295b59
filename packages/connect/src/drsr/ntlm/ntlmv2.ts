/**
 * NTLMv2 response and key computation (MS-NLMP 3.3.2, 3.4.5).
 */
import { createHash, createHmac } from 'node:crypto';
import { md4, rc4 } from '../crypto/primitives.ts';
import { NegotiateFlag, hasFlag } from './flags.ts';

const hmacMd5 = (key: Uint8Array, ...data: Uint8Array[]): Buffer => {
  const h = createHmac('md5', key);
  for (const d of data) h.update(d);
  return h.digest();
};
const md5 = (...data: Uint8Array[]): Buffer => {
  const h = createHash('md5');
  for (const d of data) h.update(d);
  return h.digest();
};

/** NTOWFv2: HMAC-MD5 keyed by the NT hash over UNICODE(Uppercase(User) + UserDom). */
export async function ntowfV2(password: string, user: string, domain: string): Promise<Buffer> {
  return ntowfV2FromHash(await md4(Buffer.from(password, 'utf16le')), user, domain);
}

export const ntowfV2FromHash = (ntHash: Uint8Array, user: string, domain: string): Buffer =>
  hmacMd5(ntHash, Buffer.from(user.toUpperCase() + domain, 'utf16le'));

export interface NtlmV2Input {
  /** NTOWFv2 of the account (ResponseKeyNT = ResponseKeyLM). */
  responseKey: Buffer;
  serverChallenge: Buffer;
  clientChallenge: Buffer;
  /** FILETIME: 100 ns ticks since 1601-01-01 UTC. */
  time: bigint;
  /** The AV pairs the client sends (encoded, with MsvAvEOL). */
  targetInfo: Buffer;
}

export interface NtlmV2Responses {
  ntChallengeResponse: Buffer;
  lmChallengeResponse: Buffer;
  ntProofStr: Buffer;
  sessionBaseKey: Buffer;
}

/** ComputeResponse for NTLMv2 (MS-NLMP 3.3.2). */
export function computeNtlmV2Response(input: NtlmV2Input): NtlmV2Responses {
  const head = Buffer.alloc(28);
  head[0] = 1; // Responserversion
  head[1] = 1; // HiResponserversion
  head.writeBigUInt64LE(input.time, 8);
  input.clientChallenge.copy(head, 16);
  const temp = Buffer.concat([head, input.targetInfo, Buffer.alloc(4)]);
  const ntProofStr = hmacMd5(input.responseKey, input.serverChallenge, temp);
  return {
    ntProofStr,
    ntChallengeResponse: Buffer.concat([ntProofStr, temp]),
    lmChallengeResponse: Buffer.concat([hmacMd5(input.responseKey, input.serverChallenge, input.clientChallenge), input.clientChallenge]),
    sessionBaseKey: hmacMd5(input.responseKey, ntProofStr),
  };
}

/**
 * The exported session key and what the AUTHENTICATE_MESSAGE carries for
 * it. With NTLMv2 the key-exchange key is the session base key; with
 * KEY_EXCH the client picks a random key and sends it RC4-encrypted.
 */
export function exportedSessionKey(flags: number, sessionBaseKey: Buffer, randomKey: Buffer): { exported: Buffer; encrypted: Buffer } {
  if (!hasFlag(flags, NegotiateFlag.KEY_EXCH)) return { exported: sessionBaseKey, encrypted: Buffer.alloc(0) };
  return { exported: randomKey, encrypted: rc4(sessionBaseKey, randomKey) };
}

const magic = (text: string) => Buffer.from(`${text}\0`, 'latin1');
const CLIENT_SIGN = magic('session key to client-to-server signing key magic constant');
const SERVER_SIGN = magic('session key to server-to-client signing key magic constant');
const CLIENT_SEAL = magic('session key to client-to-server sealing key magic constant');
const SERVER_SEAL = magic('session key to server-to-client sealing key magic constant');

export interface SessionKeys {
  clientSign: Buffer;
  serverSign: Buffer;
  clientSeal: Buffer;
  serverSeal: Buffer;
}

/** SIGNKEY and SEALKEY (MS-NLMP 3.4.5.2, 3.4.5.3) with extended session security. */
export function sessionKeys(flags: number, exported: Buffer): SessionKeys {
  const sealBase = hasFlag(flags, NegotiateFlag.NEGOTIATE_128)
    ? exported
    : hasFlag(flags, NegotiateFlag.NEGOTIATE_56)
      ? exported.subarray(0, 7)
      : exported.subarray(0, 5);
  return {
    clientSign: md5(exported, CLIENT_SIGN),
    serverSign: md5(exported, SERVER_SIGN),
    clientSeal: md5(sealBase, CLIENT_SEAL),
    serverSeal: md5(sealBase, SERVER_SEAL),
  };
}

/** The MIC over the three messages (MS-NLMP 3.1.5.1.2). */
export const messageIntegrityCode = (exported: Buffer, negotiate: Buffer, challenge: Buffer, authenticate: Buffer): Buffer =>
  hmacMd5(exported, negotiate, challenge, authenticate);

/** The signature's checksum before its RC4 layer: HMAC-MD5(SigningKey, SeqNum + Message)[0..8]. */
export const macChecksum = (signKey: Buffer, seqNum: number, message: Uint8Array): Buffer => {
  const seq = Buffer.alloc(4);
  seq.writeUInt32LE(seqNum >>> 0);
  return hmacMd5(signKey, seq, message).subarray(0, 8);
};
