/**
 * GUIDs as NDR carries them (MS-DTYP 2.3.4.2, C706 appendix A): 16 bytes,
 * Data1 (32 bits), Data2 and Data3 (16 bits) little-endian, Data4 as the
 * 8 bytes it is. The codecs keep GUIDs as these wire bytes; these two
 * functions turn them into and out of the usual string form
 * ("e24d201a-4fd6-11d1-a3da-0000f875ae0d").
 */

const GUID_TEXT = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;

/** The 16 wire bytes of a GUID written in the usual string form (braces optional). */
export function guidFromString(text: string): Buffer {
  const m = GUID_TEXT.exec(text.trim());
  if (!m) throw new TypeError(`not a GUID: ${JSON.stringify(text)}`);
  const [, d1, d2, d3, d4a, d4b] = m as unknown as [string, string, string, string, string, string];
  const out = Buffer.alloc(16);
  out.writeUInt32LE(Number.parseInt(d1, 16), 0);
  out.writeUInt16LE(Number.parseInt(d2, 16), 4);
  out.writeUInt16LE(Number.parseInt(d3, 16), 6);
  Buffer.from(d4a + d4b, 'hex').copy(out, 8);
  return out;
}

/** The usual lower-case string form of a GUID's 16 wire bytes. */
export function guidToString(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError(`a GUID has 16 bytes, not ${bytes.length}`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, 16);
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  const tail = b.subarray(8).toString('hex');
  return `${hex(b.readUInt32LE(0), 8)}-${hex(b.readUInt16LE(4), 4)}-${hex(b.readUInt16LE(6), 4)}-${tail.slice(0, 4)}-${tail.slice(4)}`;
}

/** A fresh NULL GUID (MS-DRSR 5.139): 16 zero bytes. */
export const nullGuid = (): Buffer => Buffer.alloc(16);

/** Whether 16 wire bytes are the NULL GUID. */
export const isNullGuid = (bytes: Uint8Array): boolean => bytes.length === 16 && bytes.every((b) => b === 0);
