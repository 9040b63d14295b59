/**
 * The DirSync control (MS-ADTS 3.1.1.3.4.1.3, OID 1.2.840.113556.1.4.841).
 *
 *   DirSyncRequestValue  ::= SEQUENCE { Flags INTEGER, MaxBytes INTEGER, Cookie OCTET STRING }
 *   DirSyncResponseValue ::= SEQUENCE { MoreResults INTEGER, unused INTEGER, CookieServer OCTET STRING }
 *
 * The server answers with the same OID; ldapts hands the response value to the
 * request control's parseControl, so after a search this instance holds the
 * server's new cookie and whether more changes are waiting.
 */
import { Ber, BerWriter, Control, type BerReader } from 'ldapts';

export const DIRSYNC_OID = '1.2.840.113556.1.4.841';

/** Flags of the request (MS-ADTS 3.1.1.3.4.1.3). */
export const DirSyncFlags = {
  /** Only objects and attributes the caller may read; no replication right needed. */
  objectSecurity: 0x00000001,
  /** Parents before children. */
  ancestorsFirstOrder: 0x00000800,
  /** Public data only (no secrets). */
  publicDataOnly: 0x00002000,
  /** Linked multi-valued attributes come back as value deltas (member;range=1-1 added, member;range=0-0 removed). */
  incrementalValues: 0x80000000,
} as const;

export interface DirSyncResult {
  moreResults: boolean;
  cookie: Buffer;
}

export class DirSyncControl extends Control {
  flags: number;
  maxBytes: number;
  cookie: Buffer;
  /** Filled in from the server's response control once the search settles. */
  result: DirSyncResult | undefined;

  constructor(options: { flags: number; cookie?: Buffer; maxBytes?: number }) {
    // Windows and Samba both reject a search carrying DirSync unless it is critical.
    super(DIRSYNC_OID, { critical: true });
    this.flags = options.flags;
    this.cookie = options.cookie ?? Buffer.alloc(0);
    this.maxBytes = options.maxBytes ?? 0x7fffffff;
  }

  protected override writeControl(writer: BerWriter): void {
    const value = new BerWriter();
    value.startSequence();
    // A signed 32-bit integer: 0x80000000 must go out as four bytes, as Windows clients send it.
    value.writeInt(this.flags | 0);
    value.writeInt(this.maxBytes);
    value.writeBuffer(this.cookie, Ber.OctetString);
    value.endSequence();
    writer.writeBuffer(value.buffer, Ber.OctetString);
  }

  protected override parseControl(reader: BerReader): void {
    if (!reader.readSequence()) throw new Error('DirSync response control has no value');
    const moreResults = reader.readInt() ?? 0;
    reader.readInt();
    const cookie = reader.readString(Ber.OctetString, true) ?? Buffer.alloc(0);
    this.result = { moreResults: moreResults !== 0, cookie: Buffer.from(cookie) };
  }
}
