/**
 * ATTRTYP ↔ OID conversion through a prefix table (MS-DRSR 5.16.4,
 * "ATTRTYP-to-OID Conversion": MakeAttid, OidFromAttid, NewPrefixTable).
 *
 * An ATTRTYP is the 32-bit form of an OID on the wire: the upper 16 bits
 * index a prefix table entry holding the BER encoding of the OID less its
 * last arc (or less the last two bytes of that arc's encoding when it is
 * 128 or more); the lower 16 bits carry the last arc. Replies carry their
 * own table (PrefixTableSrc), so an attribute id in a reply means something
 * only through that reply's table: decode with the table that came with it.
 */
import { ConnectError } from '../../errors.ts';

/** One PrefixTableEntry (MS-DRSR 5.154 in the current numbering): ndx and the BER bytes of an OID prefix. */
export interface PrefixTableEntry {
  readonly ndx: number;
  readonly prefix: Buffer;
}

/** The OIDs of the attributes the agent reads (MS-ADA1/2/3 attributeID values). */
export const ATTRIBUTE_OID = {
  objectClass: '2.5.4.0',
  cn: '2.5.4.3',
  distinguishedName: '2.5.4.49',
  name: '1.2.840.113556.1.4.1',
  objectGUID: '1.2.840.113556.1.4.2',
  instanceType: '1.2.840.113556.1.2.1',
  whenCreated: '1.2.840.113556.1.2.2',
  whenChanged: '1.2.840.113556.1.2.3',
  displayName: '1.2.840.113556.1.2.13',
  uSNCreated: '1.2.840.113556.1.2.19',
  isDeleted: '1.2.840.113556.1.2.48',
  uSNChanged: '1.2.840.113556.1.2.120',
  userAccountControl: '1.2.840.113556.1.4.8',
  dBCSPwd: '1.2.840.113556.1.4.55',
  unicodePwd: '1.2.840.113556.1.4.90',
  ntPwdHistory: '1.2.840.113556.1.4.94',
  pwdLastSet: '1.2.840.113556.1.4.96',
  primaryGroupID: '1.2.840.113556.1.4.98',
  supplementalCredentials: '1.2.840.113556.1.4.125',
  objectSid: '1.2.840.113556.1.4.146',
  accountExpires: '1.2.840.113556.1.4.159',
  lmPwdHistory: '1.2.840.113556.1.4.160',
  sAMAccountName: '1.2.840.113556.1.4.221',
  sAMAccountType: '1.2.840.113556.1.4.302',
  sIDHistory: '1.2.840.113556.1.4.609',
  userPrincipalName: '1.2.840.113556.1.4.656',
  objectCategory: '1.2.840.113556.1.4.782',
  parentGUID: '1.2.840.113556.1.4.1224',
  msDSKeyVersionNumber: '1.2.840.113556.1.4.1782',
  isRecycled: '1.2.840.113556.1.4.2058',
} as const;

/** The prefixes of NewPrefixTable (MS-DRSR 5.16.4): index and OID prefix; indices 11–18 are not in it. */
const NEW_PREFIX_TABLE: ReadonlyArray<readonly [number, string]> = [
  [0, '2.5.4'],
  [1, '2.5.6'],
  [2, '1.2.840.113556.1.2'],
  [3, '1.2.840.113556.1.3'],
  [4, '2.16.840.1.101.2.2.1'],
  [5, '2.16.840.1.101.2.2.3'],
  [6, '2.16.840.1.101.2.1.5'],
  [7, '2.16.840.1.101.2.1.4'],
  [8, '2.5.5'],
  [9, '1.2.840.113556.1.4'],
  [10, '1.2.840.113556.1.5'],
  [19, '0.9.2342.19200300.100'],
  [20, '2.16.840.1.113730.3'],
  [21, '0.9.2342.19200300.100.1'],
  [22, '2.16.840.1.113730.3.1'],
  [23, '1.2.840.113556.1.5.7000'],
  [24, '2.5.21'],
  [25, '2.5.18'],
  [26, '2.5.20'],
];

/** The BER contents octets of an OID (X.690 8.19), without tag and length. */
export function berEncodeOid(oid: string): Buffer {
  const arcs = parseOid(oid);
  const [first, second, ...rest] = arcs as [number, number, ...number[]];
  const out: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const group: number[] = [arc % 128];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) group.unshift((v % 128) | 0x80);
    out.push(...group);
  }
  return Buffer.from(out);
}

/** The dotted form of BER-encoded OID contents octets; undefined when they are not a well-formed OID. */
export function berDecodeOid(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0 || (bytes[bytes.length - 1] as number) & 0x80) return undefined;
  const arcs: number[] = [];
  let value = 0;
  let started = false;
  for (const b of bytes) {
    if (!started && b === 0x80) return undefined; // X.690 8.19.2: no leading 0x80 octet
    started = true;
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) return undefined;
    if (!(b & 0x80)) {
      arcs.push(value);
      value = 0;
      started = false;
    }
  }
  const head = arcs[0] as number;
  const [a, b] = head < 40 ? [0, head] : head < 80 ? [1, head - 40] : [2, head - 80];
  return [a, b, ...arcs.slice(1)].join('.');
}

function parseOid(oid: string): number[] {
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(oid)) throw new TypeError(`not an OID: ${JSON.stringify(oid)}`);
  const arcs = oid.split('.').map(Number);
  if (arcs.some((a) => !Number.isSafeInteger(a))) throw new RangeError(`an arc of ${oid} is too large`);
  if ((arcs[0] as number) < 2 && (arcs[1] as number) > 39) throw new TypeError(`not an OID: ${oid} (the second arc under 0 or 1 is at most 39)`);
  return arcs;
}

export class PrefixTable {
  private readonly list: PrefixTableEntry[] = [];

  constructor(entries: Iterable<PrefixTableEntry> = []) {
    for (const e of entries) {
      if (!Number.isInteger(e.ndx) || e.ndx < 0 || e.ndx > 0xffff) throw new RangeError(`a prefix index is 0 to 65535, not ${e.ndx}`);
      this.list.push({ ndx: e.ndx, prefix: Buffer.from(e.prefix) });
    }
  }

  /** The table NewPrefixTable() returns (MS-DRSR 5.16.4): the prefixes every DC knows. */
  static initial(): PrefixTable {
    return new PrefixTable(NEW_PREFIX_TABLE.map(([ndx, oid]) => ({ ndx, prefix: berEncodeOid(oid) })));
  }

  /** The entries, in the order they go on the wire. */
  get entries(): readonly PrefixTableEntry[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  /**
   * OidFromAttid (MS-DRSR 5.16.4): the OID an ATTRTYP stands for under this
   * table, or undefined when the table has no entry for its upper word (or
   * the result is no OID). ATTRTYPs of 0x80000000 and up are msDS-IntId
   * values (MS-ADTS 3.1.1.2.6), not mapped by a prefix table.
   */
  tryOidOf(attrTyp: number): string | undefined {
    if (!Number.isInteger(attrTyp) || attrTyp < 0 || attrTyp > 0x7fffffff) return undefined;
    const upper = Math.floor(attrTyp / 0x10000);
    let lower = attrTyp % 0x10000;
    const entry = this.list.find((e) => e.ndx === upper);
    if (!entry) return undefined;
    let tail: number[];
    if (lower < 128) tail = [lower];
    else {
      if (lower >= 32768) lower -= 32768;
      tail = [(Math.floor(lower / 128) % 128) + 128, lower % 128];
    }
    return berDecodeOid(Buffer.concat([entry.prefix, Buffer.from(tail)]));
  }

  /** As {@link tryOidOf}, but an ATTRTYP the table cannot map is an error in the reply that carried both. */
  oidOf(attrTyp: number): string {
    const oid = this.tryOidOf(attrTyp);
    if (oid === undefined) {
      throw new ConnectError('drsr_malformed_reply', `The domain controller sent attribute id 0x${attrTyp.toString(16)}, which its prefix table does not map to an OID`);
    }
    return oid;
  }

  /** The ATTRTYP of an OID under this table, or undefined when the table has no entry for its prefix (nothing is added). */
  tryAttrTypOf(oid: string): number | undefined {
    const { prefix, lowerWord } = splitOid(oid);
    const entry = this.list.find((e) => e.prefix.equals(prefix));
    return entry === undefined ? undefined : entry.ndx * 0x10000 + lowerWord;
  }

  /**
   * MakeAttid (MS-DRSR 5.16.4): the ATTRTYP of an OID, adding its prefix to
   * the table, at the lowest unused index, when it is not there yet. Send
   * the table along with ATTRTYPs made this way (PrefixTableDest).
   */
  attrTypOf(oid: string): number {
    const { prefix, lowerWord } = splitOid(oid);
    let entry = this.list.find((e) => e.prefix.equals(prefix));
    if (!entry) {
      const used = new Set(this.list.map((e) => e.ndx));
      let ndx = 0;
      while (used.has(ndx)) ndx++;
      if (ndx > 0x7fff) throw new RangeError('the prefix table is full');
      entry = { ndx, prefix };
      this.list.push(entry);
    }
    return entry.ndx * 0x10000 + lowerWord;
  }
}

/** MakeAttid's split of an OID: the BER prefix, and the lower word that carries the last arc. */
function splitOid(oid: string): { prefix: Buffer; lowerWord: number } {
  const arcs = parseOid(oid);
  if (arcs.length < 3) throw new TypeError(`${oid} has no prefix to put in a prefix table`);
  const last = arcs[arcs.length - 1] as number;
  const ber = berEncodeOid(oid);
  const prefix = Buffer.from(ber.subarray(0, ber.length - (last < 128 ? 1 : 2)));
  let lowerWord = last % 16384;
  if (last >= 16384) lowerWord += 32768;
  return { prefix, lowerWord };
}
