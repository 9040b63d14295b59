/**
 * An NDR 2.0 unmarshaller (C706 chapter 14, MS-RPCE 2.2.5), the mirror of
 * {@link NdrWriter}, written for input from the network: a domain
 * controller's reply, or whatever answers in its place.
 *
 * - Every read is bounds-checked; a short or inconsistent stub throws a
 *   ConnectError 'drsr_malformed_reply' that names what was being read and
 *   where, never a RangeError.
 * - Every count (conformance, actual count, a structure's own counters) is
 *   checked against the bytes that remain, at the smallest size an element
 *   can have on the wire, before anything is allocated for it: a count of
 *   0x7fffffff in a 100-byte stub fails at once.
 * - Pointees are read where NDR puts them (deferred, depth first, 14.3.12.3),
 *   on an explicit stack: a linked list of thousands of entries costs no
 *   stack depth.
 * - Every pointee read consumes at least its referent id's 4 bytes, so the
 *   work done is bounded by the stub's length.
 */
import { DeferredPointees } from './deferral.ts';
import { ConnectError } from '../../errors.ts';


export class NdrReader extends DeferredPointees {
  private readonly buf: Buffer;
  private pos = 0;
  /** What is being decoded, for error messages ("IDL_DRSGetNCChanges reply"). */
  readonly context: string;

  constructor(stub: Buffer, context: string) {
    super();
    this.buf = stub;
    this.context = context;
  }

  /** The octet stream index of the next byte. */
  get offset(): number {
    return this.pos;
  }

  /** Bytes left after the next one to read. */
  get remaining(): number {
    return this.buf.length - this.pos;
  }

  /** The error for a stub that does not decode; `what` names the field. */
  malformed(what: string, detail?: string): ConnectError {
    const why = detail ?? `runs past the end of the ${this.buf.length}-byte stub`;
    return new ConnectError('drsr_malformed_reply', `The domain controller's ${this.context} is malformed: ${what} at offset ${this.pos} ${why}`, {
      fix: 'check that the agent talks to a domain controller, not to something in its place; if it does, report this with a network trace',
    });
  }

  private need(n: number, what: string): void {
    if (n > this.buf.length - this.pos) throw this.malformed(what);
  }

  /** Skips the alignment gap up to the next multiple of n. */
  align(n: 1 | 2 | 4 | 8, what = 'alignment padding'): this {
    const pad = (n - (this.pos % n)) % n;
    this.need(pad, what);
    this.pos += pad;
    return this;
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf.readUInt8(this.pos++);
  }

  u16(what: string): number {
    this.align(2, what).need(2, what);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.align(4, what).need(4, what);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  i32(what: string): number {
    this.align(4, what).need(4, what);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** An unsigned hyper (ULONGLONG, ULARGE_INTEGER). */
  u64(what: string): bigint {
    this.align(8, what).need(8, what);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A hyper (LONGLONG: USN, DSTIME). */
  i64(what: string): bigint {
    this.align(8, what).need(8, what);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /** n bytes as they are (a copy: decoded values do not pin the stub). */
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** A GUID's 16 wire bytes, aligned to 4. */
  guid(what: string): Buffer {
    return this.align(4, what).bytes(16, what);
  }

  /** A context handle's 20 bytes, aligned to 4. */
  contextHandle(what: string): Buffer {
    return this.align(4, what).bytes(20, what);
  }

  /** A boolean32 (BOOL): any non-zero long is true. */
  bool(what: string): boolean {
    return this.u32(what) !== 0;
  }

  /**
   * A count of elements to come, each at least `minElementSize` bytes on the
   * wire: refused if they cannot fit in what remains (or exceed `max`, the
   * IDL's [range]), before anything is allocated for them.
   */
  checkCount(count: number, minElementSize: number, what: string, max = Number.MAX_SAFE_INTEGER): number {
    if (count > max) throw this.malformed(what, `is ${count}, more than the ${max} its type allows`);
    if (count * minElementSize > this.remaining) {
      throw this.malformed(what, `is ${count}, more than the ${this.remaining} bytes left in the stub can hold`);
    }
    return count;
  }

  /** The maximum count of a conformant array or structure (14.3.3.2), checked as {@link checkCount}. */
  conformance(minElementSize: number, what: string, max?: number): number {
    return this.checkCount(this.u32(`${what} (maximum count)`), minElementSize, what, max);
  }

  /**
   * A unique (or embedded ref) pointer: false for NULL; otherwise
   * `readPointee` runs later, where NDR defers the pointee to (after the
   * enclosing construct, depth first).
   */
  pointer(what: string, readPointee: () => void): boolean {
    const id = this.u32(`${what} (referent id)`);
    if (id === 0) return false;
    this.defer(readPointee, 'read outside NdrReader.topLevel()');
    return true;
  }

  /** A top-level unique pointer: its referent id, then the pointee at once. */
  topLevelPointer(what: string, readPointee: () => void): boolean {
    const id = this.u32(`${what} (referent id)`);
    if (id === 0) return false;
    this.topLevel(readPointee);
    return true;
  }


  /**
   * A conformant varying string of wchar_t ([string], 14.3.4.2): maximum
   * count, offset, actual count, characters. The offset must be 0, the actual
   * count within the maximum; the terminating NUL, if there, is dropped.
   */
  wideString(what: string): string {
    const max = this.u32(`${what} (maximum count)`);
    const offset = this.u32(`${what} (offset)`);
    const actual = this.u32(`${what} (actual count)`);
    if (offset !== 0) throw this.malformed(what, `has offset ${offset}; a [string] starts at 0`);
    if (actual > max) throw this.malformed(what, `has ${actual} characters, more than its maximum count ${max}`);
    this.checkCount(actual, 2, what);
    return dropNul(this.bytes(actual * 2, what).toString('utf16le'));
  }

  /** `count` UTF-16LE characters (a conformant wchar_t array), the trailing NUL dropped. */
  wideChars(count: number, what: string): string {
    this.checkCount(count, 2, what);
    return dropNul(this.align(2, what).bytes(count * 2, what).toString('utf16le'));
  }
}

const dropNul = (s: string): string => (s.endsWith('\0') ? s.slice(0, -1) : s);
