/**
 * AV_PAIR lists (MS-NLMP 2.2.2.1): the server's target information in the
 * CHALLENGE_MESSAGE, echoed (with the client's additions) inside the NTLMv2
 * client challenge.
 */
import { ConnectError } from '../../errors.ts';
import { AvId } from './flags.ts';

export interface AvPair {
  id: number;
  value: Buffer;
}

export function decodeAvPairs(bytes: Buffer): AvPair[] {
  const pairs: AvPair[] = [];
  let at = 0;
  for (;;) {
    if (at + 4 > bytes.length) throw new ConnectError('drsr_protocol_error', 'the NTLM target information has no end-of-list entry (MsvAvEOL)');
    const id = bytes.readUInt16LE(at);
    const len = bytes.readUInt16LE(at + 2);
    at += 4;
    if (id === AvId.EOL) return pairs;
    if (at + len > bytes.length) throw new ConnectError('drsr_protocol_error', `the NTLM target information entry ${id} runs past the end of the list`);
    pairs.push({ id, value: bytes.subarray(at, at + len) });
    at += len;
  }
}

export function encodeAvPairs(pairs: AvPair[]): Buffer {
  const parts: Buffer[] = [];
  for (const { id, value } of pairs) {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(id, 0);
    head.writeUInt16LE(value.length, 2);
    parts.push(head, value);
  }
  parts.push(Buffer.alloc(4)); // MsvAvEOL
  return Buffer.concat(parts);
}

export const avString = (pairs: AvPair[], id: number): string | undefined => {
  const pair = pairs.find((p) => p.id === id);
  return pair ? pair.value.toString('utf16le') : undefined;
};
