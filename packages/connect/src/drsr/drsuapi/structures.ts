/**
 * The MS-DRSR structures several drsuapi messages share: DSNAME (5.50),
 * USN_VECTOR (5.206 / "USN_VECTOR"), SCHEMA_PREFIX_TABLE with its
 * PrefixTableEntry and OID_t, and the up-to-dateness vectors. Each has a
 * `write…` for requests and/or a `read…` for replies, laid out as MIDL
 * lays out the IDL of MS-DRSR section 5 in NDR 2.0.
 */
import type { NdrReader } from '../ndr/ndr-reader.ts';
import type { NdrWriter } from '../ndr/ndr-writer.ts';
import { PrefixTable } from './prefix-table.ts';
import type { PrefixTableEntry } from './prefix-table.ts';

/** A DSNAME to send: any of GUID, SID, DN (MS-DRSR 5.50); unset parts are zero or empty. */
export interface DsNameInput {
  /** The object's objectGUID, 16 wire bytes. */
  guid?: Buffer | null;
  /** The object's objectSid in binary form (at most 28 bytes). */
  sid?: Buffer | null;
  /** The object's distinguished name. */
  dn?: string | null;
}

/** A DSNAME as received. */
export interface DsName {
  guid: Buffer;
  /** The SID bytes (SidLen of them), empty when there is none. */
  sid: Buffer;
  dn: string;
}

/** USN_VECTOR (MS-DRSR 5.206): the watermark of a replication cycle. */
export interface UsnVector {
  usnHighObjUpdate: bigint;
  usnReserved: bigint;
  usnHighPropUpdate: bigint;
}

export const zeroUsnVector = (): UsnVector => ({ usnHighObjUpdate: 0n, usnReserved: 0n, usnHighPropUpdate: 0n });

/** UPTODATE_CURSOR_V1 (MS-DRSR 5.198): what the client has seen of one DC. */
export interface UpToDateCursorV1 {
  uuidDsa: Buffer;
  usnHighPropUpdate: bigint;
}

/** UPTODATE_CURSOR_V2 (MS-DRSR 5.199), as replies carry them. */
export interface UpToDateCursorV2 extends UpToDateCursorV1 {
  /** DSTIME: seconds since 1601-01-01. */
  timeLastSyncSuccess: bigint;
}

/** The size of the fixed part of a DSNAME: structLen, SidLen, Guid, Sid, NameLen. */
const DSNAME_FIXED = 4 + 4 + 16 + 28 + 4;
/** NT4SID (MS-DRSR 5.136) is 28 bytes. */
const NT4SID_SIZE = 28;

/**
 * DSNAME (MS-DRSR 5.50), a conformant structure: maximum count (NameLen + 1),
 * structLen, SidLen, Guid, Sid (NT4SID, 28 bytes), NameLen, StringName with
 * its terminating NUL. structLen counts the structure as NDR marshals it:
 * the maximum count, the fixed part and the characters, NUL included —
 * what Samba computes (ndr_size_drsuapi_DsReplicaObjectIdentifier) and
 * checks: one 4 bytes short is refused with ERROR_INVALID_PARAMETER.
 */
export function writeDsName(w: NdrWriter, name: DsNameInput): void {
  const guid = name.guid ?? Buffer.alloc(16);
  const sid = name.sid ?? Buffer.alloc(0);
  const dn = name.dn ?? '';
  if (sid.length > NT4SID_SIZE) throw new RangeError(`a SID in a DSNAME has at most ${NT4SID_SIZE} bytes, not ${sid.length}`);
  const chars = Buffer.from(dn, 'utf16le');
  const nameLen = chars.length / 2;
  w.conformance(nameLen + 1).align(4);
  w.u32(4 + DSNAME_FIXED + 2 * (nameLen + 1));
  w.u32(sid.length);
  w.guid(guid);
  w.bytes(Buffer.concat([sid, Buffer.alloc(NT4SID_SIZE - sid.length)]));
  w.u32(nameLen);
  w.bytes(chars).u16(0);
}

export function readDsName(r: NdrReader, what: string): DsName {
  const max = r.conformance(2, `${what}.StringName`, 10485761 + 1);
  r.align(4, what);
  const structLen = r.u32(`${what}.structLen`);
  const sidLen = r.u32(`${what}.SidLen`);
  const guid = r.guid(`${what}.Guid`);
  const sidBytes = r.bytes(NT4SID_SIZE, `${what}.Sid`);
  const nameLen = r.u32(`${what}.NameLen`);
  if (sidLen > NT4SID_SIZE) throw r.malformed(`${what}.SidLen`, `is ${sidLen}; an NT4SID holds at most ${NT4SID_SIZE} bytes`);
  if (max !== nameLen + 1) throw r.malformed(`${what}.StringName`, `has ${max} characters where NameLen ${nameLen} calls for ${nameLen + 1}`);
  const dn = r.wideChars(max, `${what}.StringName`);
  void structLen; // informational: DCs size it differently for names sent with a SID or not; the counts above are what NDR checks
  return { guid, sid: sidBytes.subarray(0, sidLen), dn };
}

export function writeUsnVector(w: NdrWriter, v: UsnVector): void {
  w.align(8).i64(v.usnHighObjUpdate).i64(v.usnReserved).i64(v.usnHighPropUpdate);
}

export function readUsnVector(r: NdrReader, what: string): UsnVector {
  r.align(8, what);
  return {
    usnHighObjUpdate: r.i64(`${what}.usnHighObjUpdate`),
    usnReserved: r.i64(`${what}.usnReserved`),
    usnHighPropUpdate: r.i64(`${what}.usnHighPropUpdate`),
  };
}

/**
 * UPTODATE_VECTOR_V1_EXT (MS-DRSR 5.200): maximum count, dwVersion 1,
 * dwReserved1, cNumCursors, dwReserved2, then the cursors.
 */
export function writeUpToDateVectorV1(w: NdrWriter, cursors: readonly UpToDateCursorV1[]): void {
  w.conformance(cursors.length).align(8);
  w.u32(1).u32(0).u32(cursors.length).u32(0);
  for (const c of cursors) w.align(8).guid(c.uuidDsa).i64(c.usnHighPropUpdate);
}

/** UPTODATE_VECTOR_V2_EXT (MS-DRSR 5.201). */
export function readUpToDateVectorV2(r: NdrReader, what: string): { dwVersion: number; cursors: UpToDateCursorV2[] } {
  const max = r.conformance(32, `${what}.rgCursors`, 1048576);
  r.align(8, what);
  const dwVersion = r.u32(`${what}.dwVersion`);
  r.u32(`${what}.dwReserved1`);
  const count = r.u32(`${what}.cNumCursors`);
  r.u32(`${what}.dwReserved2`);
  if (count !== max) throw r.malformed(`${what}.cNumCursors`, `is ${count} but the array holds ${max}`);
  const cursors: UpToDateCursorV2[] = [];
  for (let i = 0; i < count; i++) {
    r.align(8, what);
    cursors.push({
      uuidDsa: r.guid(`${what}.rgCursors[${i}].uuidDsa`),
      usnHighPropUpdate: r.i64(`${what}.rgCursors[${i}].usnHighPropUpdate`),
      timeLastSyncSuccess: r.i64(`${what}.rgCursors[${i}].timeLastSyncSuccess`),
    });
  }
  return { dwVersion, cursors };
}

/**
 * SCHEMA_PREFIX_TABLE (MS-DRSR 5.180 in the current numbering): PrefixCount
 * and a pointer to PrefixTableEntry[PrefixCount], each { ndx, OID_t { length,
 * pointer to elements[length] } }. An empty table goes as 0 and NULL.
 */
export function writePrefixTable(w: NdrWriter, entries: readonly PrefixTableEntry[]): void {
  w.u32(entries.length);
  w.pointer(entries.length > 0 ? entries : null, (w, list) => {
    w.conformance(list.length);
    for (const e of list) {
      w.u32(e.ndx);
      w.u32(e.prefix.length);
      w.pointer(e.prefix.length > 0 ? e.prefix : null, (w, bytes) => {
        w.conformance(bytes.length).bytes(bytes);
      });
    }
  });
}

/**
 * Reads a SCHEMA_PREFIX_TABLE. Its entries are pointees, read after the
 * enclosing top-level construct: the array returned is filled in by then,
 * and only then can it become a {@link PrefixTable}.
 */
export function readPrefixTable(r: NdrReader, what: string): PrefixTableEntry[] {
  const entries: Array<{ ndx: number; prefix: Buffer }> = [];
  const count = r.u32(`${what}.PrefixCount`);
  r.checkCount(count, 0, `${what}.PrefixCount`, 1048576);
  const present = r.pointer(`${what}.pPrefixEntry`, () => {
    const max = r.conformance(12, `${what}.pPrefixEntry`, 1048576);
    if (max !== count) throw r.malformed(`${what}.pPrefixEntry`, `holds ${max} entries where PrefixCount is ${count}`);
    for (let i = 0; i < max; i++) {
      const at = `${what}.pPrefixEntry[${i}]`;
      const ndx = r.u32(`${at}.ndx`);
      if (ndx > 0xffff) throw r.malformed(`${at}.ndx`, `is ${ndx}; a prefix index fits the upper 16 bits of an ATTRTYP`);
      const length = r.u32(`${at}.prefix.length`);
      const entry: { ndx: number; prefix: Buffer } = { ndx, prefix: Buffer.alloc(0) };
      entries.push(entry);
      r.pointer(`${at}.prefix.elements`, () => {
        const n = r.conformance(1, `${at}.prefix.elements`, 10000);
        if (n !== length) throw r.malformed(`${at}.prefix.elements`, `holds ${n} bytes where length is ${length}`);
        entry.prefix = r.bytes(n, `${at}.prefix.elements`);
      });
    }
  });
  if (!present && count !== 0) throw r.malformed(`${what}.pPrefixEntry`, `is NULL where PrefixCount is ${count}`);
  return entries;
}

/** The table of entries read by {@link readPrefixTable}, once the top-level construct is done. */
export const prefixTableOf = (entries: readonly PrefixTableEntry[]): PrefixTable => new PrefixTable(entries);
