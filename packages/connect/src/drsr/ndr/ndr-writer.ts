/**
 * An NDR 2.0 marshaller (C706 chapter 14; transfer syntax
 * 8a885d04-1ceb-11c9-9fe8-08002b104860 version 2, as MS-RPCE 2.2.5 uses it):
 * little-endian integers, ASCII characters, IEEE floats; 32-bit pointers and
 * counts.
 *
 * What it does:
 * - every primitive of n bytes is aligned to n (C706 14.2.2); a structure is
 *   aligned by the caller to the largest alignment of its members (14.3.3),
 *   with {@link NdrWriter.align};
 * - unique and full pointers (14.3.10, 14.3.12) are a 4-byte non-zero
 *   referent id (0x00020000, 0x00020004, …) or 0 for NULL; the pointee of an
 *   embedded pointer is deferred (14.3.12.3): it is written after the
 *   top-level construct that holds the pointer, pointees in the order their
 *   pointers were written, each pointee followed at once by the pointees of
 *   its own embedded pointers (depth first, as MIDL and Samba's pidl do).
 *   The deferral runs on an explicit stack, not on recursion;
 * - conformant arrays (14.3.3.2) and structures ending in one (14.3.7.1): the
 *   maximum count goes first, aligned to 4, then the structure or elements
 *   aligned to their own alignment;
 * - conformant varying strings of wchar_t ([string], 14.3.4.2): maximum
 *   count, offset 0, actual count, the UTF-16LE characters and their NUL.
 *
 * Alignment gaps are written as zero bytes. For tests that compare our bytes
 * with another marshaller's, the writer remembers where it put referent ids
 * and alignment gaps (both have no fixed value on the wire).
 */


import { DeferredPointees } from './deferral.ts';

/** The first referent id, as MIDL numbers them; each further one is 4 more. */
export const FIRST_REFERENT_ID = 0x00020000;

export class NdrWriter extends DeferredPointees {
  private buf: Buffer = Buffer.alloc(256);
  private length = 0;
  private nextReferent = FIRST_REFERENT_ID;
  /** Where referent ids (non-NULL pointers) were written. */
  readonly referentOffsets: number[] = [];
  /** Alignment gaps written, as [start, end) pairs. */
  readonly gaps: Array<[number, number]> = [];

  /** The number of bytes written so far (the octet stream index of the next byte). */
  get offset(): number {
    return this.length;
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = Buffer.alloc(size);
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }

  /** Writes zero bytes up to the next multiple of n (C706 14.2.2). */
  align(n: 1 | 2 | 4 | 8): this {
    const pad = (n - (this.length % n)) % n;
    if (pad > 0) {
      this.reserve(pad);
      this.buf.fill(0, this.length, this.length + pad);
      this.gaps.push([this.length, this.length + pad]);
      this.length += pad;
    }
    return this;
  }

  u8(value: number): this {
    checkUnsigned(value, 0xff, 'an unsigned small');
    this.reserve(1);
    this.buf.writeUInt8(value, this.length);
    this.length += 1;
    return this;
  }

  u16(value: number): this {
    checkUnsigned(value, 0xffff, 'an unsigned short');
    this.align(2).reserve(2);
    this.buf.writeUInt16LE(value, this.length);
    this.length += 2;
    return this;
  }

  u32(value: number): this {
    checkUnsigned(value, 0xffffffff, 'an unsigned long');
    this.align(4).reserve(4);
    this.buf.writeUInt32LE(value, this.length);
    this.length += 4;
    return this;
  }

  i32(value: number): this {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new RangeError(`a long is a signed 32-bit integer, not ${value}`);
    this.align(4).reserve(4);
    this.buf.writeInt32LE(value, this.length);
    this.length += 4;
    return this;
  }

  /** An unsigned hyper (ULONGLONG, ULARGE_INTEGER), aligned to 8. */
  u64(value: bigint | number): this {
    const v = BigInt(value);
    if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`an unsigned hyper is an unsigned 64-bit integer, not ${v}`);
    this.align(8).reserve(8);
    this.buf.writeBigUInt64LE(v, this.length);
    this.length += 8;
    return this;
  }

  /** A hyper (LONGLONG: USN, DSTIME), aligned to 8. */
  i64(value: bigint | number): this {
    const v = BigInt(value);
    if (v < -0x8000000000000000n || v > 0x7fffffffffffffffn) throw new RangeError(`a hyper is a signed 64-bit integer, not ${v}`);
    this.align(8).reserve(8);
    this.buf.writeBigInt64LE(v, this.length);
    this.length += 8;
    return this;
  }

  /** Bytes as they are (a fixed array of byte; no alignment). */
  bytes(data: Uint8Array): this {
    this.reserve(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
    return this;
  }

  /** A GUID (UUID): a structure aligned to 4, here its 16 wire bytes. */
  guid(bytes: Uint8Array): this {
    if (bytes.length !== 16) throw new RangeError(`a GUID has 16 bytes, not ${bytes.length}`);
    return this.align(4).bytes(bytes);
  }

  /** A context handle (C706 appendix N, MS-RPCE 2.2.4.6): 20 bytes, aligned to 4. */
  contextHandle(bytes: Uint8Array): this {
    if (bytes.length !== 20) throw new RangeError(`a context handle has 20 bytes, not ${bytes.length}`);
    return this.align(4).bytes(bytes);
  }

  /** The maximum count of a conformant array or structure (14.3.3.2), aligned to 4. */
  conformance(count: number): this {
    return this.u32(count);
  }

  /**
   * A unique (or full, or embedded ref) pointer: 0 for a NULL value, else a
   * fresh referent id, and the pointee is written later by `writePointee`
   * (deferred to after the enclosing construct, 14.3.12.3).
   */
  pointer<T>(value: T | null | undefined, writePointee: (w: NdrWriter, value: T) => void): this {
    if (value === null || value === undefined) return this.u32(0);
    if (this.deferred === null) throw new Error('an embedded pointer is written outside NdrWriter.topLevel()');
    this.u32(this.nextReferent);
    this.referentOffsets.push(this.length - 4);
    this.nextReferent += 4;
    this.defer(() => writePointee(this, value), 'written outside NdrWriter.topLevel()');
    return this;
  }

  /**
   * A top-level unique pointer (an [in, unique] parameter, 14.3.12.1): the
   * referent id, then the pointee at once, its embedded pointees after it.
   */
  topLevelPointer<T>(value: T | null | undefined, writePointee: (w: NdrWriter, value: T) => void): this {
    if (value === null || value === undefined) return this.u32(0);
    this.u32(this.nextReferent);
    this.referentOffsets.push(this.length - 4);
    this.nextReferent += 4;
    return this.topLevel(() => writePointee(this, value));
  }


  /**
   * A conformant varying string of wchar_t ([string] wchar_t*, 14.3.4.2):
   * maximum count, offset 0, actual count (both counting the terminating
   * NUL), then the characters in UTF-16LE and the NUL.
   */
  wideString(text: string): this {
    const body = Buffer.from(text + '\0', 'utf16le');
    const count = body.length / 2;
    return this.u32(count).u32(0).u32(count).bytes(body);
  }

  /** The bytes written. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }
}

function checkUnsigned(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${what} is an integer from 0 to ${max}, not ${value}`);
}
