/**
 * Self-relative security descriptors (MS-DTYP 2.4.6) and the parts of their
 * DACL that prepare-ad adds: access-allowed object ACEs (2.4.4.3) granting a
 * control access right (an extended right such as "Replicating Directory
 * Changes") or a property write, to a SID. Only what an LDAP modify of
 * nTSecurityDescriptor with SD_FLAGS = DACL needs: read the DACL, add
 * entries in canonical order, write it back.
 */
import { ConnectError } from '../errors.ts';
import { guidToBytes, guidToString, sidToString } from './guid.ts';

export const AceType = { ACCESS_ALLOWED: 0x00, ACCESS_DENIED: 0x01, ACCESS_ALLOWED_OBJECT: 0x05, ACCESS_DENIED_OBJECT: 0x06 } as const;
export const AceFlag = { OBJECT_INHERIT: 0x01, CONTAINER_INHERIT: 0x02, NO_PROPAGATE_INHERIT: 0x04, INHERIT_ONLY: 0x08, INHERITED: 0x10 } as const;
/** ADS_RIGHT_* (MS-ADTS 5.1.3.2). */
export const AccessRight = { DS_CONTROL_ACCESS: 0x100, DS_READ_PROPERTY: 0x10, DS_WRITE_PROPERTY: 0x20, DS_LIST_CHILDREN: 0x4 } as const;
const ACE_OBJECT_TYPE_PRESENT = 0x1;
const ACE_INHERITED_OBJECT_TYPE_PRESENT = 0x2;
const SE_DACL_PRESENT = 0x0004;
const SE_SELF_RELATIVE = 0x8000;

export interface Ace {
  type: number;
  flags: number;
  mask: number;
  /** the right or property (object ACEs) */
  objectType?: string;
  /** the class of object it applies to (object ACEs, inherited) */
  inheritedObjectType?: string;
  /** binary SID of the trustee */
  sid: Buffer;
  /** an ACE of a type this module does not read, kept byte for byte */
  raw?: Buffer;
}

export interface SecurityDescriptor {
  control: number;
  owner: Buffer | null;
  group: Buffer | null;
  sacl: Buffer | null;
  daclRevision: number;
  dacl: Ace[] | null;
}

const bad = (what: string) => new ConnectError('ad_invalid_value', `the security descriptor is malformed (${what})`);

const sidLength = (b: Buffer, at: number) => {
  if (at + 8 > b.length) throw bad('SID');
  return 8 + 4 * b[at + 1]!;
};

function readAce(b: Buffer, at: number): { ace: Ace; size: number } {
  if (at + 4 > b.length) throw bad('ACE header');
  const type = b[at]!;
  const flags = b[at + 1]!;
  const size = b.readUInt16LE(at + 2);
  if (size < 8 || at + size > b.length) throw bad('ACE size');
  const body = b.subarray(at, at + size);
  if (type === AceType.ACCESS_ALLOWED || type === AceType.ACCESS_DENIED) {
    return { ace: { type, flags, mask: body.readUInt32LE(4), sid: Buffer.from(body.subarray(8, 8 + sidLength(body, 8))) }, size };
  }
  if (type === AceType.ACCESS_ALLOWED_OBJECT || type === AceType.ACCESS_DENIED_OBJECT) {
    const mask = body.readUInt32LE(4);
    const present = body.readUInt32LE(8);
    let p = 12;
    const ace: Ace = { type, flags, mask, sid: Buffer.alloc(0) };
    if (present & ACE_OBJECT_TYPE_PRESENT) { ace.objectType = guidToString(body.subarray(p, p + 16)); p += 16; }
    if (present & ACE_INHERITED_OBJECT_TYPE_PRESENT) { ace.inheritedObjectType = guidToString(body.subarray(p, p + 16)); p += 16; }
    ace.sid = Buffer.from(body.subarray(p, p + sidLength(body, p)));
    return { ace, size };
  }
  return { ace: { type, flags, mask: 0, sid: Buffer.alloc(0), raw: Buffer.from(body) }, size };
}

function writeAce(a: Ace): Buffer {
  if (a.raw) return a.raw;
  const parts: Buffer[] = [];
  const head = Buffer.alloc(8);
  head[0] = a.type;
  head[1] = a.flags;
  head.writeUInt32LE(a.mask >>> 0, 4);
  parts.push(head);
  if (a.type === AceType.ACCESS_ALLOWED_OBJECT || a.type === AceType.ACCESS_DENIED_OBJECT) {
    const present = Buffer.alloc(4);
    present.writeUInt32LE((a.objectType ? ACE_OBJECT_TYPE_PRESENT : 0) | (a.inheritedObjectType ? ACE_INHERITED_OBJECT_TYPE_PRESENT : 0));
    parts.push(present);
    if (a.objectType) parts.push(guidToBytes(a.objectType));
    if (a.inheritedObjectType) parts.push(guidToBytes(a.inheritedObjectType));
  }
  parts.push(a.sid);
  const out = Buffer.concat(parts);
  out.writeUInt16LE(out.length, 2);
  return out;
}

/** Parses a self-relative security descriptor as AD returns nTSecurityDescriptor. */
export function parseSecurityDescriptor(b: Buffer): SecurityDescriptor {
  if (b.length < 20 || b[0] !== 1) throw bad('header');
  const control = b.readUInt16LE(2);
  const at = (i: number) => b.readUInt32LE(i);
  const sid = (off: number) => (off ? Buffer.from(b.subarray(off, off + sidLength(b, off))) : null);
  const acl = (off: number) => {
    if (off + 8 > b.length) throw bad('ACL');
    return { size: b.readUInt16LE(off + 2), count: b.readUInt16LE(off + 4), revision: b[off]! };
  };
  const saclOff = at(12);
  const daclOff = at(16);
  let dacl: Ace[] | null = null;
  let daclRevision = 4;
  if (daclOff) {
    const { count, revision } = acl(daclOff);
    daclRevision = revision;
    dacl = [];
    let p = daclOff + 8;
    for (let i = 0; i < count; i++) {
      const { ace, size } = readAce(b, p);
      dacl.push(ace);
      p += size;
    }
  }
  return {
    control, owner: sid(at(4)), group: sid(at(8)),
    sacl: saclOff ? Buffer.from(b.subarray(saclOff, saclOff + acl(saclOff).size)) : null,
    daclRevision, dacl,
  };
}

/** Writes a self-relative security descriptor (owner, group, SACL, DACL in that order). */
export function serializeSecurityDescriptor(sd: SecurityDescriptor): Buffer {
  const aces = (sd.dacl ?? []).map(writeAce);
  const daclBody = Buffer.concat(aces);
  const daclHead = Buffer.alloc(8);
  daclHead[0] = sd.daclRevision;
  daclHead.writeUInt16LE(8 + daclBody.length, 2);
  daclHead.writeUInt16LE(aces.length, 4);
  const dacl = sd.dacl ? Buffer.concat([daclHead, daclBody]) : null;
  const header = Buffer.alloc(20);
  header[0] = 1;
  header.writeUInt16LE((sd.control | SE_SELF_RELATIVE | (dacl ? SE_DACL_PRESENT : 0)) & 0xffff, 2);
  let offset = 20;
  const parts: Buffer[] = [header];
  const place = (field: number, value: Buffer | null) => {
    if (!value) return;
    header.writeUInt32LE(offset, field);
    parts.push(value);
    offset += value.length;
  };
  place(4, sd.owner);
  place(8, sd.group);
  place(12, sd.sacl);
  place(16, dacl);
  return Buffer.concat(parts);
}

const sameAce = (a: Ace, b: Ace) => a.type === b.type && (a.flags & ~AceFlag.INHERITED) === (b.flags & ~AceFlag.INHERITED) && a.mask === b.mask
  && (a.objectType ?? '') === (b.objectType ?? '') && (a.inheritedObjectType ?? '') === (b.inheritedObjectType ?? '') && a.sid.equals(b.sid);

/**
 * Adds allow ACEs not there yet, in canonical order: after the explicit
 * entries (deny entries come first among those), before the inherited ones.
 * Returns the ACEs added.
 */
export function addAllowAces(sd: SecurityDescriptor, wanted: Ace[]): Ace[] {
  const dacl = sd.dacl ?? (sd.dacl = []);
  const added: Ace[] = [];
  for (const ace of wanted) {
    if (dacl.some((a) => !(a.flags & AceFlag.INHERITED) && sameAce(a, ace))) continue;
    const firstInherited = dacl.findIndex((a) => (a.flags & AceFlag.INHERITED) !== 0);
    dacl.splice(firstInherited === -1 ? dacl.length : firstInherited, 0, ace);
    added.push(ace);
  }
  return added;
}

/** An ACE in SDDL-like form, for --dry-run and logs: (OA;CIIO;WP;<property>;<class>;<SID>). */
export function describeAce(a: Ace): string {
  const type = { 0: 'A', 1: 'D', 5: 'OA', 6: 'OD' }[a.type] ?? `0x${a.type.toString(16)}`;
  const flags = [[AceFlag.CONTAINER_INHERIT, 'CI'], [AceFlag.OBJECT_INHERIT, 'OI'], [AceFlag.INHERIT_ONLY, 'IO'], [AceFlag.INHERITED, 'ID']].filter(([f]) => a.flags & (f as number)).map(([, s]) => s).join('');
  const rights = [[AccessRight.DS_CONTROL_ACCESS, 'CR'], [AccessRight.DS_READ_PROPERTY, 'RP'], [AccessRight.DS_WRITE_PROPERTY, 'WP'], [AccessRight.DS_LIST_CHILDREN, 'LC']].filter(([r]) => a.mask & (r as number)).map(([, s]) => s).join('') || `0x${a.mask.toString(16)}`;
  return `(${type};${flags};${rights};${a.objectType ?? ''};${a.inheritedObjectType ?? ''};${sidToString(a.sid)})`;
}
