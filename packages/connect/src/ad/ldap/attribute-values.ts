/**
 * ldapts's reading of an attribute's values, without an exception per binary
 * value.
 *
 * ldapts's Attribute.parse decodes every value it receives with a strict
 * (fatal) TextDecoder and keeps the bytes where that throws. Every user
 * carries binary values (objectGUID, objectSid), so an import of 100,000
 * users threw and caught some 200,000 TypeErrors, each with its stack trace,
 * and paid TextDecoder's per-call cost on every other value: at 30,000 users,
 * 0.4 s of CPU and about a tenth of what the import allocates went there.
 *
 * The replacement below gives the same result, value for value: Node's
 * isUtf8 (the WHATWG UTF-8 validation, as the fatal decoder applies it), then
 * Buffer#toString, dropping a leading byte order mark as TextDecoder does.
 * It is installed on ldapts's prototype when the raw search loads, so it
 * covers every LDAP answer of the process; test/ad/attribute-values.test.ts
 * compares it with ldapts's own parse on the same bytes.
 */
import { isUtf8 } from 'node:buffer';
import { Attribute, Ber, ProtocolOperation, type BerReader } from 'ldapts';

interface ParsedAttribute {
  type: string;
  buffers: Buffer[];
  values: (string | Buffer)[];
  _isBinaryType(): boolean;
}

/** Whether the bytes start with a UTF-8 byte order mark (EF BB BF), which this reading drops as TextDecoder does. */
export const startsWithByteOrderMark = (buffer: Buffer): boolean => buffer.length >= 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf;

/** ldapts's strict UTF-8 reading of one value: a string where the bytes are valid UTF-8 (without a leading byte order mark), else the bytes. */
export function strictText(buffer: Buffer): string | Buffer {
  if (!isUtf8(buffer)) return buffer;
  return startsWithByteOrderMark(buffer) ? buffer.toString('utf8', 3) : buffer.toString('utf8');
}

/** The same reading as ldapts 9.2's Attribute.parse (its BER steps unchanged), with strictText for the values. */
function parse(this: ParsedAttribute, reader: BerReader): void {
  reader.readSequence();
  this.type = reader.readString() ?? '';
  const isBinaryType = this._isBinaryType();
  if (reader.peek() !== ProtocolOperation.LBER_SET || !reader.readSequence(ProtocolOperation.LBER_SET)) return;
  const end = reader.offset + reader.length;
  while (reader.offset < end) {
    const buffer = (reader.readString(Ber.OctetString, true) as Buffer | null) ?? Buffer.alloc(0);
    this.buffers.push(buffer);
    this.values.push(isBinaryType ? buffer : strictText(buffer));
  }
}

/** ldapts's own parse, kept for the test that compares the two. */
export const ldaptsParse = Attribute.prototype.parse;

Attribute.prototype.parse = parse as unknown as typeof Attribute.prototype.parse;
