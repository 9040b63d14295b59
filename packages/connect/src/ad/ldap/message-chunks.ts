/**
 * LDAP messages that span many reads of the socket, joined once.
 *
 * ldapts's MessageParser joins what it holds of an unfinished message with
 * each new chunk (Buffer.concat), so a message that arrives in n chunks is
 * copied n times: a range of 20,000 member values (about 1.6 MB, in TLS
 * records of 16 KB) allocated some 80 MB, and the agent's peak RSS rose by
 * 50–60 MB while it read a large group. Here the chunks of an unfinished
 * message are kept in a list until its BER header's length says it is
 * complete, then joined once and handed to ldapts's own read, which parses
 * it as before.
 *
 * The hook is one method of ldapts's MessageParser (pinned in package.json,
 * as for entry-bytes.ts); test/ad/message-chunks.test.ts feeds messages
 * split at every byte and in many chunks through both.
 */
import { MessageParser } from 'ldapts';

type Read = (data: Buffer, details: Map<string, unknown>) => void;
interface ParserState {
  /** what ldapts keeps of an unfinished message */
  buffer?: Buffer | undefined;
  /** this hook's chunks of an unfinished message, and their total length */
  chunks?: Buffer[] | undefined;
  chunked?: number;
}

/**
 * The length of the BER element starting `data` (its tag, length octets and
 * contents), or undefined while its header is incomplete or its length is
 * one this hook does not read (indefinite, or past 2^32: ldapts reports those).
 */
export function berElementLength(data: Buffer): number | undefined {
  if (data.length < 2) return undefined;
  const first = data[1]!;
  if (first < 0x80) return 2 + first;
  const octets = first & 0x7f;
  if (octets === 0 || octets > 4 || data.length < 2 + octets) return undefined;
  let length = 0;
  for (let i = 0; i < octets; i++) length = length * 256 + data[2 + i]!;
  return 2 + octets + length;
}

/** The first `n` bytes of the chunks (fewer if they hold fewer): a header split across reads is joined to be read. */
function head(chunks: Buffer[], n: number): Buffer {
  if (chunks[0]!.length >= n) return chunks[0]!;
  const parts: Buffer[] = [];
  let length = 0;
  for (const c of chunks) {
    if (length >= n) break;
    parts.push(c);
    length += c.length;
  }
  return Buffer.concat(parts).subarray(0, n);
}

const parser = MessageParser.prototype as unknown as { read: Read };
const ldaptsRead = parser.read;
parser.read = function (this: ParserState, data, details) {
  // the start of an unfinished message: ldapts's (what it left of its last read), or this hook's chunks
  const held = this.chunks ?? (this.buffer ? [this.buffer] : []);
  if (!held.length) return ldaptsRead.call(this, data, details);
  this.buffer = undefined;
  held.push(data);
  const total = (this.chunks ? this.chunked! : held[0]!.length) + data.length;
  const needed = berElementLength(head(held, 6));
  if (needed !== undefined && total < needed) {
    this.chunks = held;
    this.chunked = total;
    return;
  }
  // complete (or a header ldapts must judge): one join, then ldapts parses it and what follows as before
  this.chunks = undefined;
  this.chunked = 0;
  return ldaptsRead.call(this, held.length === 1 ? held[0]! : Buffer.concat(held, total), details);
};
