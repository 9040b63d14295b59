/**
 * Synchronized passwords in the cloud (password hash synchronization).
 *
 * The agent sends the v1 hash (@skybridge/protocol password-hash.ts:
 * PBKDF2 over the NT hash with a per-user salt). The cloud keeps it under a
 * keyed layer of its own: HMAC-SHA256 with a key derived from the
 * deployment's sealing key, which lives outside the directory table, so a
 * copy of that table alone (a backup, a read-only injection) gives nothing
 * to crack offline. Stored format, versioned:
 *
 *   k1;PPH1_MD4,<salt hex>,<iterations>;<HMAC hex>
 *
 * A sign-in recomputes the chain from the typed password:
 * MD4(UTF-16LE) → PBKDF2 with the stored salt and iterations → HMAC → compare.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { createMD4 } from 'hash-wasm';
import { derivePasswordHash, parsePasswordHash } from '@skybridge/protocol';

const md4 = createMD4();

const layerKey = (sealingKey: Buffer): Buffer => Buffer.from(hkdfSync('sha256', sealingKey, Buffer.alloc(0), 'skybridge synced password hash k1', 32));

const layer = (key: Buffer, hash: Buffer): Buffer => createHmac('sha256', key).update(hash).digest();

/** The stored form of an agent's v1 hash; undefined when the hash is not one this version reads. */
export function wrapSyncedHash(sealingKey: Buffer, v1: string): string | undefined {
  const parsed = parsePasswordHash(v1);
  if (!parsed) return undefined;
  return `k1;PPH1_MD4,${parsed.salt.toString('hex')},${parsed.iterations};${layer(layerKey(sealingKey), parsed.hash).toString('hex')}`;
}

const STORED = /^k1;PPH1_MD4,([0-9a-f]{20}),([0-9]{1,7});([0-9a-f]{64})$/;

export async function ntHashOf(password: string): Promise<Buffer> {
  const h = await md4;
  h.init();
  h.update(Buffer.from(password, 'utf16le'));
  return Buffer.from(h.digest('binary'));
}

/** Whether a typed password matches a stored synchronized hash (constant time in the comparison). */
export async function verifySyncedPassword(sealingKey: Buffer, stored: string, password: string): Promise<boolean> {
  const m = STORED.exec(stored);
  if (!m) return false;
  const salt = Buffer.from(m[1]!, 'hex');
  const iterations = Number(m[2]);
  const nt = await ntHashOf(password);
  return timingSafeEqual(layer(layerKey(sealingKey), derivePasswordHash(nt, salt, iterations)), Buffer.from(m[3]!, 'hex'));
}
