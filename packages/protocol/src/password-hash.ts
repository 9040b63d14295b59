/**
 * The synchronized password hash (brief §2): what the agent derives from a
 * user's NT hash and sends, and what the cloud keeps and verifies against.
 *
 *   v1;PPH1_MD4,<salt hex>,<iterations>,<PBKDF2-HMAC-SHA256 hex>;
 *
 * The PBKDF2 input is the NT hash as 32 uppercase hex characters in
 * UTF-16LE, the salt 10 random bytes, the output 32 bytes: the layout
 * DSInternals' OrgIdHash reverse-engineered from Microsoft's agent, so a
 * hash taken from one product verifies in the other. The format is
 * versioned; the cloud may wrap it in a stronger layer of its own.
 */
import { pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

export const PASSWORD_HASH_SALT_BYTES = 10;
export const PASSWORD_HASH_ITERATIONS = 1000;
/** Bounds the cloud accepts, so a hostile agent cannot make verification arbitrarily slow. */
export const PASSWORD_HASH_MAX_ITERATIONS = 100_000;

export interface PasswordHash {
  salt: Buffer;
  iterations: number;
  hash: Buffer;
}

/** The v1 derivation: PBKDF2-HMAC-SHA256 over the NT hash's uppercase hex in UTF-16LE. */
export const derivePasswordHash = (ntHash: Uint8Array, salt: Buffer, iterations: number): Buffer =>
  pbkdf2Sync(Buffer.from(Buffer.from(ntHash).toString('hex').toUpperCase(), 'utf16le'), salt, iterations, 32, 'sha256');

/** The cloud hash of an NT hash (16 bytes), with a fresh salt unless one is given (tests, vectors). */
export function passwordHashFromNtHash(ntHash: Uint8Array, salt: Buffer = randomBytes(PASSWORD_HASH_SALT_BYTES), iterations = PASSWORD_HASH_ITERATIONS): string {
  if (ntHash.length !== 16) throw new RangeError('an NT hash has 16 bytes');
  return formatPasswordHash({ salt, iterations, hash: derivePasswordHash(ntHash, salt, iterations) });
}

const pbkdf2Async = promisify(pbkdf2);

/** As passwordHashFromNtHash, on libuv's thread pool: many at once use every core. */
export async function passwordHashFromNtHashAsync(ntHash: Uint8Array, salt: Buffer = randomBytes(PASSWORD_HASH_SALT_BYTES), iterations = PASSWORD_HASH_ITERATIONS): Promise<string> {
  if (ntHash.length !== 16) throw new RangeError('an NT hash has 16 bytes');
  const hash = await pbkdf2Async(Buffer.from(Buffer.from(ntHash).toString('hex').toUpperCase(), 'utf16le'), salt, iterations, 32, 'sha256');
  return formatPasswordHash({ salt, iterations, hash });
}

export const formatPasswordHash = (h: PasswordHash): string => `v1;PPH1_MD4,${h.salt.toString('hex')},${h.iterations},${h.hash.toString('hex')};`;

const FORMAT = /^v1;PPH1_MD4,([0-9a-f]{20}),([1-9][0-9]{0,6}),([0-9a-f]{64});$/;

/** Parses a synchronized hash; undefined when it is not one this version knows. */
export function parsePasswordHash(text: string): PasswordHash | undefined {
  const m = FORMAT.exec(text);
  if (!m) return undefined;
  const iterations = Number(m[2]);
  if (iterations > PASSWORD_HASH_MAX_ITERATIONS) return undefined;
  return { salt: Buffer.from(m[1]!, 'hex'), iterations, hash: Buffer.from(m[3]!, 'hex') };
}

/** Whether an NT hash (of a typed password) matches a synchronized hash, in constant time. */
export function ntHashMatches(ntHash: Uint8Array, stored: PasswordHash): boolean {
  return timingSafeEqual(derivePasswordHash(ntHash, stored.salt, stored.iterations), stored.hash);
}
