/**
 * The legacy primitives MS-DRSR still needs to read a password hash
 * (MS-DRSR 4.1.10.6.11, MS-SAMR 2.2.11.1): MD4 (the NT hash itself, and
 * NTLM), RC4 (the secret's outer encryption), DES with keys derived from the
 * user's RID (the inner layer), and CRC32 (the check over the decrypted
 * value). Node's OpenSSL 3 keeps MD4, RC4 and DES in its legacy provider,
 * reachable only with a runtime flag; so MD4 comes from hash-wasm and DES
 * from des.js (well-kept packages), RC4 is the short textbook algorithm, and
 * CRC32 is zlib's. Each is checked against published vectors in the tests.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';
import { createMD4 } from 'hash-wasm';
import { DES } from 'des.js';

const md4Hasher = createMD4();

/** MD4 (RFC 1320). */
export async function md4(data: Uint8Array): Promise<Buffer> {
  const h = await md4Hasher;
  h.init();
  h.update(data);
  return Buffer.from(h.digest('binary'));
}

/** The NT hash of a password: MD4 of its UTF-16LE encoding. */
export const ntHash = (password: string): Promise<Buffer> => md4(Buffer.from(password, 'utf16le'));

/**
 * An RC4 keystream that keeps its state between calls: NTLM's sealing
 * handles (MS-NLMP 3.4.3) run one stream across every message of a
 * connection in each direction.
 */
export class Rc4 {
  readonly #s = new Uint8Array(256);
  #i = 0;
  #j = 0;

  constructor(key: Uint8Array) {
    if (key.length === 0 || key.length > 256) throw new RangeError('an RC4 key has 1 to 256 bytes');
    const s = this.#s;
    for (let i = 0; i < 256; i++) s[i] = i;
    for (let i = 0, j = 0; i < 256; i++) {
      j = (j + s[i]! + key[i % key.length]!) & 0xff;
      [s[i], s[j]] = [s[j]!, s[i]!];
    }
  }

  /** XOR `data` with the next bytes of the keystream (encryption and decryption are the same). */
  update(data: Uint8Array): Buffer {
    const s = this.#s;
    const out = Buffer.alloc(data.length);
    let i = this.#i;
    let j = this.#j;
    for (let n = 0; n < data.length; n++) {
      i = (i + 1) & 0xff;
      j = (j + s[i]!) & 0xff;
      [s[i], s[j]] = [s[j]!, s[i]!];
      out[n] = data[n]! ^ s[(s[i]! + s[j]!) & 0xff]!;
    }
    this.#i = i;
    this.#j = j;
    return out;
  }
}

/** RC4 (the keystream of RFC 6229's vectors) over `data` with `key`, from a fresh state. */
export const rc4 = (key: Uint8Array, data: Uint8Array): Buffer => new Rc4(key).update(data);

/** One DES block (8 bytes) in ECB mode with an 8-byte key. */
export function desBlock(mode: 'encrypt' | 'decrypt', key: Uint8Array, block: Uint8Array): Buffer {
  if (key.length !== 8 || block.length !== 8) throw new RangeError('DES takes an 8-byte key and an 8-byte block');
  const c = DES.create({ type: mode, key, padding: false });
  return Buffer.from([...c.update(block), ...c.final()]);
}

/** CRC32 (IEEE 802.3), as MS-DRSR checks a decrypted secret. */
export const crc32 = (data: Uint8Array): number => zlibCrc32(data) >>> 0;

/**
 * A 7-byte value spread into an 8-byte DES key, each byte's low bit set for
 * odd parity (MS-SAMR 2.2.11.1.2).
 */
export function desKeyFrom7(k: Uint8Array): Buffer {
  if (k.length !== 7) throw new RangeError('a DES key is spread from 7 bytes');
  const raw = [
    k[0]! >> 1,
    ((k[0]! & 0x01) << 6) | (k[1]! >> 2),
    ((k[1]! & 0x03) << 5) | (k[2]! >> 3),
    ((k[2]! & 0x07) << 4) | (k[3]! >> 4),
    ((k[3]! & 0x0f) << 3) | (k[4]! >> 5),
    ((k[4]! & 0x1f) << 2) | (k[5]! >> 6),
    ((k[5]! & 0x3f) << 1) | (k[6]! >> 7),
    k[6]! & 0x7f,
  ];
  return Buffer.from(raw.map((b) => {
    const v = (b << 1) & 0xfe;
    let ones = 0;
    for (let x = v; x; x >>= 1) ones += x & 1;
    return ones % 2 === 0 ? v | 1 : v;
  }));
}

/**
 * The two DES keys derived from a RID (MS-SAMR 2.2.11.1.3): with I the RID's
 * four little-endian bytes, Key1 = I0 I1 I2 I3 I0 I1 I2 and
 * Key2 = I3 I0 I1 I2 I3 I0 I1, each spread to 8 bytes.
 */
export function ridKeys(rid: number): [Buffer, Buffer] {
  if (!Number.isInteger(rid) || rid < 0 || rid > 0xffffffff) throw new RangeError(`a RID is an unsigned 32-bit integer, not ${rid}`);
  const i = Buffer.alloc(4);
  i.writeUInt32LE(rid);
  return [desKeyFrom7(Buffer.from([i[0]!, i[1]!, i[2]!, i[3]!, i[0]!, i[1]!, i[2]!])), desKeyFrom7(Buffer.from([i[3]!, i[0]!, i[1]!, i[2]!, i[3]!, i[0]!, i[1]!]))];
}

/** Removes (or adds) the RID-keyed DES layer of a 16-byte hash (MS-SAMR 2.2.11.1.1): two blocks, one under each key. */
export function ridDes(mode: 'encrypt' | 'decrypt', hash: Uint8Array, rid: number): Buffer {
  if (hash.length !== 16) throw new RangeError(`a hash under the RID layer has 16 bytes, not ${hash.length}`);
  const [k1, k2] = ridKeys(rid);
  return Buffer.concat([desBlock(mode, k1, hash.subarray(0, 8)), desBlock(mode, k2, hash.subarray(8, 16))]);
}
