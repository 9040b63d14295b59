/**
 * Search result entries kept as the bytes the DC sent, read when the
 * caller takes them.
 *
 * ldapts parses each SearchResultEntry as it arrives into an Attribute
 * object per attribute, a Buffer per value and a string per value, and
 * holds them until the page's SearchResultDone. A paged read of 1,000 users
 * arrives over a few hundred milliseconds while the agent plans and exports
 * what it read before, so every page's parsed entries outlived several of
 * V8's young-generation collections and were copied and promoted (30,000
 * users: about 55 % of what the agent allocated survived its first
 * collection, 770 MB promoted in all). Kept as bytes, an entry costs the
 * young generation one small Buffer view (its bytes live outside V8's
 * heap); it is read once, when its page is handed over, into what the
 * importer needs.
 *
 * Only the raw search's own requests (raw-search.ts marks them) get this
 * treatment: other uses of ldapts, which expect its parsed entries, are
 * untouched. The hook is one method of ldapts's MessageParser (pinned in
 * package.json); test/ad/entry-bytes.test.ts reads the same BER both ways and
 * test/ad/raw-search.test.ts reads a real DC through it.
 */
import { MessageParser, ProtocolOperation, SearchEntry, type BerReader, type Control, type SearchRequest } from 'ldapts';
import { ConnectError } from '../../errors.ts';

export interface RawAttribute {
  /** the attribute description as sent, e.g. member;range=0-999 */
  type: string;
  /** the values' bytes, as the DC sent them */
  values: Buffer[];
}

export interface RawEntry {
  dn: string;
  /** keyed by the lower-cased attribute description */
  attributes: Map<string, RawAttribute>;
}

/** A search result entry whose objectName and attributes are the BER the DC sent (OCTET STRING, then SEQUENCE OF PartialAttribute). */
export class EntryBytes extends SearchEntry {
  /** set by parseMessage (no allocation per entry before it) */
  bytes!: Buffer;

  override parseMessage(reader: BerReader): void {
    const start = reader.offset;
    const buffer = reader.buffer;
    // the reader ends at this message's end (its buffer may hold the next messages too)
    const limit = start + reader.remain;
    // objectName, then the attribute list: their two lengths say where the entry ends (controls may follow)
    const name = element(buffer, start, 0x04, limit, 'objectName');
    const list = element(buffer, name.end, 0x30, limit, 'attributes');
    this.bytes = buffer.subarray(start, list.end);
    reader.offset = list.end;
  }
}

/** The raw search's requests, whose entries come as EntryBytes. */
const bytesRequests = new WeakSet<object>();

/** Makes the entries answering `request` arrive as EntryBytes. */
export function keepEntryBytes(request: SearchRequest): void {
  bytesRequests.add(request);
}

type Hook = (messageId: number, protocolOperation: number, reader: BerReader, request: { controls?: Control[] } | undefined) => unknown;
const parser = MessageParser.prototype as unknown as { _getMessageFromProtocolOperation: Hook };
const ldaptsMessageFrom = parser._getMessageFromProtocolOperation;
parser._getMessageFromProtocolOperation = function (this: MessageParser, messageId, protocolOperation, reader, request) {
  if (protocolOperation !== ProtocolOperation.LDAP_RES_SEARCH_ENTRY || !request || !bytesRequests.has(request)) return ldaptsMessageFrom.call(this, messageId, protocolOperation, reader, request);
  const message = new EntryBytes({ messageId });
  message.parse(reader, request.controls ?? []);
  return message;
};

function malformed(what: string, at: number): ConnectError {
  return new ConnectError('ad_protocol_error', `the domain controller sent a search result entry that is not valid BER (${what}, at byte ${at})`, {
    fix: 'check that the server is an Active Directory domain controller and that nothing between it and the agent alters LDAP traffic',
  });
}

/** One BER element of `tag` at `at`: where its contents start and end. Definite lengths only, as LDAP requires (RFC 4511 §5.1). */
function element(b: Buffer, at: number, tag: number, limit: number, what: string): { start: number; end: number } {
  if (at + 2 > limit) throw malformed(`${what} is cut short`, at);
  if (b[at] !== tag) throw malformed(`${what}: tag 0x${b[at]!.toString(16)} where 0x${tag.toString(16)} belongs`, at);
  let length = b[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4) throw malformed(`${what}: a length of ${n === 0 ? 'indefinite form' : `${n} bytes`}`, at);
    if (start + n > limit) throw malformed(`${what} is cut short`, at);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + b[start + i]!;
    start += n;
  }
  const end = start + length;
  if (end > limit) throw malformed(`${what} runs past its container`, at);
  return { start, end };
}

/** The DN of an entry, read from its bytes without its attributes. */
export function entryDn(bytes: Buffer): string {
  const name = element(bytes, 0, 0x04, bytes.length, 'objectName');
  return bytes.toString('utf8', name.start, name.end);
}

type Range = { start: number; end: number };

/**
 * Walks an entry's attributes: `visit` gets each one's type and value set
 * (the ranges of their contents) and returns true to stop. Returns the
 * range of the entry's objectName.
 */
function eachAttribute(bytes: Buffer, visit: (type: Range, set: Range) => boolean | void): Range {
  const name = element(bytes, 0, 0x04, bytes.length, 'objectName');
  const list = element(bytes, name.end, 0x30, bytes.length, 'attributes');
  for (let at = list.start; at < list.end;) {
    const attribute = element(bytes, at, 0x30, list.end, 'PartialAttribute');
    const type = element(bytes, attribute.start, 0x04, attribute.end, 'attribute type');
    if (visit(type, element(bytes, type.end, 0x31, attribute.end, 'attribute values'))) break;
    at = attribute.end;
  }
  return name;
}

/** The first value of one attribute (its description compared without case, as sent: no options), without reading the others' values. */
export function firstValue(bytes: Buffer, attribute: string): Buffer | undefined {
  const wanted = attribute.toLowerCase();
  let found: Buffer | undefined;
  eachAttribute(bytes, (type, set) => {
    if (type.end - type.start !== wanted.length || bytes.toString('latin1', type.start, type.end).toLowerCase() !== wanted) return false;
    if (set.start < set.end) {
      const value = element(bytes, set.start, 0x04, set.end, 'attribute value');
      found = bytes.subarray(value.start, value.end);
    }
    return true;
  });
  return found;
}

/** Reads an entry's bytes into its DN and attributes, every value as the bytes the DC sent. */
export function readEntry(bytes: Buffer): RawEntry {
  const attributes = new Map<string, RawAttribute>();
  const name = eachAttribute(bytes, (type, set) => {
    const values: Buffer[] = [];
    for (let v = set.start; v < set.end;) {
      const value = element(bytes, v, 0x04, set.end, 'attribute value');
      values.push(bytes.subarray(value.start, value.end));
      v = value.end;
    }
    const description = bytes.toString('utf8', type.start, type.end);
    attributes.set(description.toLowerCase(), { type: description, values });
  });
  return { dn: bytes.toString('utf8', name.start, name.end), attributes };
}
