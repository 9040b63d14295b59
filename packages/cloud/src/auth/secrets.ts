import { createHash, randomBytes, randomInt, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/** A random secret of 256 bits, URL-safe, with a prefix that tells what it is (like `sbs_` for a client secret). */
export const randomSecret = (prefix: string): string => `${prefix}${randomBytes(32).toString('base64url')}`;

/**
 * Hash of a high-entropy secret (client secrets, registration and operator
 * tokens). These are 256-bit random values, so one SHA-256 is enough; only the
 * hash is ever stored.
 */
export const hashSecret = (secret: string): string => `sha256$${createHash('sha256').update(secret, 'utf8').digest('base64url')}`;

export function verifySecret(storedHash: string, presented: unknown): boolean {
  if (typeof presented !== 'string' || !storedHash.startsWith('sha256$')) return false;
  const a = Buffer.from(hashSecret(presented));
  const b = Buffer.from(storedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}

// scrypt parameters for human passwords (cloud-only users): N=2^15, r=8, p=1 (OWASP's minimum is 2^17 with r=8 for 128 MiB; we keep memory at 32 MiB per hash and raise N with hardware).
const N = 2 ** 15;
const r = 8;
const p = 1;

/** Hash of a human-chosen password, memory-hard and salted, in a versioned self-describing format. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password.normalize('NFC'), salt, 32, { N, r, p, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, rr, pp, saltB64, keyB64] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(keyB64, 'base64url');
  const key = await scryptAsync(password.normalize('NFC'), Buffer.from(saltB64, 'base64url'), expected.length, {
    N: Number(n), r: Number(rr), p: Number(pp), maxmem: 256 * 1024 * 1024,
  });
  return timingSafeEqual(key, expected);
}

/** A one-time password an administrator can type: 16 characters from an unambiguous alphabet. */
export function oneTimePassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';
  let out = '';
  for (let i = 0; i < 16; i++) out += alphabet[randomInt(alphabet.length)];
  return `${out.slice(0, 8)}-${out.slice(8)}!`;
}
