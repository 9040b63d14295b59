/**
 * Decryption of secret attributes in a DRSGetNCChanges reply (MS-DRSR
 * 4.1.10.6.22 and 5.62, with DRS_EXT_STRONG_ENCRYPTION negotiated):
 *
 *   value  = Salt (16) | CheckSum (4) | EncryptedData
 *   key    = MD5(session key | Salt)
 *   plain  = RC4(key, CheckSum | EncryptedData) = CRC32 (4, LE) | data
 *
 * and, for the password hashes (unicodePwd, dBCSPwd, ntPwdHistory,
 * lmPwdHistory), the DES layer keyed from the object's RID (MS-SAMR
 * 2.2.11.1.3) under it. Nothing here is logged or written anywhere.
 */
import { createHash } from 'node:crypto';
import { ConnectError } from '../../errors.ts';
import { crc32, rc4, ridDes } from '../crypto/primitives.ts';

const SALT = 16;

/** Removes the session-key RC4 layer and checks the CRC32; `subject` names the object in errors. */
export function decryptSecretValue(sessionKey: Buffer, value: Buffer, subject: string): Buffer {
  if (value.length < SALT + 4) {
    throw new ConnectError('drsr_secret_invalid', `the encrypted secret of ${subject} is ${value.length} bytes, shorter than its salt and checksum`, { subject });
  }
  const key = createHash('md5').update(sessionKey).update(value.subarray(0, SALT)).digest();
  const plain = rc4(key, value.subarray(SALT));
  const data = plain.subarray(4);
  if (plain.readUInt32LE(0) !== crc32(data)) {
    throw new ConnectError('drsr_secret_invalid', `the secret of ${subject} fails its CRC32 check (wrong session key, or altered)`, { subject });
  }
  return data;
}

/** The NT hash from an encrypted unicodePwd value. */
export function decryptNtHash(sessionKey: Buffer, value: Buffer, rid: number, subject: string): Buffer {
  const data = decryptSecretValue(sessionKey, value, subject);
  if (data.length !== 16) {
    throw new ConnectError('drsr_secret_invalid', `the password hash of ${subject} is ${data.length} bytes where an NT hash has 16`, { subject });
  }
  return ridDes('decrypt', data, rid);
}

/** The NT hashes of a password history (ntPwdHistory): 16 bytes each, newest first. */
export function decryptHashHistory(sessionKey: Buffer, value: Buffer, rid: number, subject: string): Buffer[] {
  const data = decryptSecretValue(sessionKey, value, subject);
  if (data.length % 16) throw new ConnectError('drsr_secret_invalid', `the password history of ${subject} is not a whole number of hashes`, { subject });
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += 16) out.push(ridDes('decrypt', data.subarray(at, at + 16), rid));
  return out;
}

/** The RID of an object: the last sub-authority of its binary SID. */
export function ridOf(sid: Buffer, subject: string): number {
  if (sid.length < 12 || sid[0] !== 1 || sid.length !== 8 + 4 * sid[1]! || sid[1]! < 1) {
    throw new ConnectError('drsr_secret_invalid', `the objectSid of ${subject} is not a valid SID`, { subject });
  }
  return sid.readUInt32LE(sid.length - 4);
}
