/**
 * ldapts joins an unfinished message's chunks once, when its BER length
 * says it is complete (ad/ldap/message-chunks.ts), instead of at every read.
 * The messages are built with ldapts's own writer and parsed by ldapts's
 * MessageParser with the hook installed: split anywhere, they parse as when
 * read whole, and a large one is copied about once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FilterParser, MessageParser, SearchEntry, SearchRequest, SearchResponse } from 'ldapts';
import { berElementLength } from '../../src/ad/ldap/message-chunks.ts';
import { doneMessage, entryMessage } from '../helpers/ldap-messages.ts';

function request(messageId: number): SearchRequest {
  return new SearchRequest({ messageId, baseDN: 'DC=corp,DC=example,DC=com', scope: 'base', filter: FilterParser.parseString('(objectClass=*)'), attributes: [], sizeLimit: 0, timeLimit: 0, controls: [] });
}

/** Feeds `data` in the given chunk sizes (cycled); returns the messages, and the bytes Buffer.concat produced meanwhile. */
function parse(data: Buffer, messageId: number, sizes: number[]): { messages: unknown[]; joined: number } {
  const parser = new MessageParser();
  const messages: unknown[] = [];
  parser.on('message', (m: unknown) => messages.push(m));
  parser.on('error', (err: Error) => { throw err; });
  const details = new Map([[String(messageId), { message: request(messageId) }]]);
  const concat = Buffer.concat;
  let joined = 0;
  Buffer.concat = (list: readonly Uint8Array[], length?: number) => {
    const out = concat(list, length);
    joined += out.length;
    return out;
  };
  try {
    for (let i = 0, k = 0; i < data.length; k++) {
      const n = sizes[k % sizes.length]!;
      parser.read(data.subarray(i, i + n), details);
      i += n;
    }
  } finally {
    Buffer.concat = concat;
  }
  return { messages, joined };
}

const members = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`CN=User ${i},OU=Bench,DC=corp,DC=example,DC=com`));

function described(messages: unknown[]): unknown[] {
  return messages.map((m) => (m instanceof SearchEntry
    ? { dn: m.name, attributes: m.attributes.map((a) => ({ type: a.type, values: (a.values as (string | Buffer)[]).map(String) })) }
    : m instanceof SearchResponse ? { done: m.status } : String(m)));
}

test('the length of a BER element, from its header', () => {
  assert.equal(berElementLength(Buffer.from([0x30, 0x05])), 7);
  assert.equal(berElementLength(Buffer.from([0x30, 0x81, 0xc8])), 203);
  assert.equal(berElementLength(Buffer.from([0x30, 0x83, 0x01, 0x00, 0x00])), 5 + 65536);
  assert.equal(berElementLength(Buffer.from([0x30, 0x84, 0x00, 0x10, 0x00, 0x00])), 6 + 1048576);
  // a header not all here yet, an indefinite length, lengths past 2^32: not read (ldapts judges those)
  assert.equal(berElementLength(Buffer.from([0x30])), undefined);
  assert.equal(berElementLength(Buffer.from([0x30, 0x82, 0x01])), undefined);
  assert.equal(berElementLength(Buffer.from([0x30, 0x80])), undefined);
  assert.equal(berElementLength(Buffer.from([0x30, 0x85, 1, 0, 0, 0, 0])), undefined);
});

test('messages split anywhere parse as when read whole', () => {
  const data = Buffer.concat([
    entryMessage(4, 'CN=Large Group,DC=corp,DC=example,DC=com', [['member;range=0-299', members(300)], ['cn', [Buffer.from('Large Group')]]]),
    entryMessage(4, 'CN=Zoë,DC=corp,DC=example,DC=com', [['displayName', [Buffer.from('Zoë Ångström')]]]),
    doneMessage(4),
  ]);
  const whole = described(parse(data, 4, [data.length]).messages);
  assert.equal(whole.length, 3);
  for (const sizes of [[1], [2], [3], [5], [6], [7], [13], [1000], [4096], [1, 4096], [7, 1, 300]]) {
    assert.deepEqual(described(parse(data, 4, sizes).messages), whole, `chunks of ${sizes.join(', ')}`);
  }
  // and split at every byte of the small messages' boundaries (a first read ending anywhere)
  for (let cut = 1; cut < data.length; cut += 97) {
    assert.deepEqual(described(parse(data, 4, [cut, data.length]).messages), whole, `cut at ${cut}`);
  }
});

test('a 20,000-value range arriving in 16 KB reads is joined once, not at every read', () => {
  const message = entryMessage(7, 'CN=Large Group,DC=corp,DC=example,DC=com', [['member;range=1000-20999', members(20_000)]]);
  const data = Buffer.concat([message, doneMessage(7)]);
  const { messages, joined } = parse(data, 7, [16_384]);
  const [entry, done] = messages as [SearchEntry, SearchResponse];
  assert.equal(entry.attributes[0]!.values.length, 20_000);
  assert.equal(String(entry.attributes[0]!.values[19_999]), 'CN=User 19999,OU=Bench,DC=corp,DC=example,DC=com');
  assert.ok(done instanceof SearchResponse);
  // ldapts alone joins what it holds with every read: about n²/2 chunks for n reads (here about 30 MB for 1 MB)
  assert.ok(message.length > 900_000, `a message of ${message.length} bytes`);
  assert.ok(joined < 2 * data.length, `joined ${joined} bytes for a message of ${message.length}`);
});
