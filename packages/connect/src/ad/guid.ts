/**
 * objectGUID and objectSid: 16-byte and variable-length binary values.
 *
 * A GUID's string form is mixed-endian (MS-DTYP 2.3.4): the first three
 * fields are little-endian in the bytes, the last two big-endian.
 */
export function guidToString(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError(`a GUID has 16 bytes, got ${bytes.length}`);
  const h = Buffer.from(bytes).toString('hex');
  const le = (s: string) => s.match(/../g)!.reverse().join('');
  return `${le(h.slice(0, 8))}-${le(h.slice(8, 12))}-${le(h.slice(12, 16))}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function guidToBytes(guid: string): Buffer {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(guid);
  if (!m) throw new RangeError(`not a GUID: ${guid}`);
  const le = (s: string) => s.match(/../g)!.reverse().join('');
  return Buffer.from(le(m[1]!) + le(m[2]!) + le(m[3]!) + m[4]! + m[5]!, 'hex');
}

/** The value as an LDAP filter assertion (RFC 4515 escapes), e.g. for (objectGUID=…). */
export const filterEscapeBytes = (bytes: Uint8Array): string => Array.from(bytes, (b) => `\\${b.toString(16).padStart(2, '0')}`).join('');

/** The extended DN form <GUID=…> that addresses an object wherever it lives. */
export const guidDn = (guid: string): string => `<GUID=${guid}>`;

/** objectSid (MS-DTYP 2.4.2.2) as S-1-5-21-… */
export function sidToString(bytes: Uint8Array): string {
  const b = Buffer.from(bytes);
  if (b.length < 8) throw new RangeError(`a SID has at least 8 bytes, got ${b.length}`);
  const count = b[1]!;
  if (b.length !== 8 + count * 4) throw new RangeError(`a SID with ${count} sub-authorities has ${8 + count * 4} bytes, got ${b.length}`);
  const authority = b.readUIntBE(2, 6);
  const subs: number[] = [];
  for (let i = 0; i < count; i++) subs.push(b.readUInt32LE(8 + i * 4));
  return `S-${b[0]}-${authority}${subs.map((s) => `-${s}`).join('')}`;
}
