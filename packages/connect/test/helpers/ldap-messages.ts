/** LDAP messages built with ldapts's own BER writer, for tests that feed ldapts's MessageParser. */
import { Attribute, BerWriter, PagedResultsControl } from 'ldapts';

/** A SearchResultEntry message (RFC 4511 §4.5.2) with an optional paged-results control after it. */
export function entryMessage(messageId: number, dn: string, attributes: [string, Buffer[]][], control = false): Buffer {
  const w = new BerWriter();
  w.startSequence();
  w.writeInt(messageId);
  w.startSequence(0x64);
  w.writeString(dn);
  w.startSequence();
  for (const [type, values] of attributes) new Attribute({ type, values }).write(w);
  w.endSequence();
  w.endSequence();
  if (control) {
    w.startSequence(0xa0);
    new PagedResultsControl({ value: { size: 5, cookie: Buffer.from('cookie') } }).write(w);
    w.endSequence();
  }
  w.endSequence();
  return w.buffer;
}

/** A SearchResultDone message with result code success. */
export function doneMessage(messageId: number): Buffer {
  const w = new BerWriter();
  w.startSequence();
  w.writeInt(messageId);
  w.startSequence(0x65);
  w.writeEnumeration(0);
  w.writeString('');
  w.writeString('');
  w.endSequence();
  w.endSequence();
  return w.buffer;
}
