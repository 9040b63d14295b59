/**
 * The three NTLM messages (MS-NLMP 2.2.1): NEGOTIATE, CHALLENGE, AUTHENTICATE.
 */
import { ConnectError } from '../../errors.ts';
import { NegotiateFlag, hasFlag } from './flags.ts';

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');
const MESSAGE_NEGOTIATE = 1;
const MESSAGE_CHALLENGE = 2;
const MESSAGE_AUTHENTICATE = 3;

/** The VERSION structure (2.2.2.10) the agent announces: 10.0, NTLM revision 15. */
export const clientVersion = Buffer.from([10, 0, 0x61, 0x4a, 0, 0, 0, 0x0f]);

export function encodeNegotiate(flags: number): Buffer {
  const out = Buffer.alloc(40);
  SIGNATURE.copy(out, 0);
  out.writeUInt32LE(MESSAGE_NEGOTIATE, 8);
  out.writeUInt32LE(flags >>> 0, 12);
  // DomainNameFields and WorkstationFields stay empty (offsets point past the header)
  out.writeUInt32LE(40, 20);
  out.writeUInt32LE(40, 28);
  clientVersion.copy(out, 32);
  return out;
}

export interface ChallengeMessage {
  flags: number;
  serverChallenge: Buffer;
  targetName: string;
  /** The raw AV pair list (with MsvAvEOL). */
  targetInfo: Buffer;
}

const field = (msg: Buffer, at: number, what: string): Buffer => {
  const len = msg.readUInt16LE(at);
  const offset = msg.readUInt32LE(at + 4);
  if (len === 0) return Buffer.alloc(0);
  if (offset + len > msg.length) throw new ConnectError('drsr_protocol_error', `the NTLM challenge's ${what} runs past the end of the message`);
  return msg.subarray(offset, offset + len);
};

export function decodeChallenge(msg: Buffer): ChallengeMessage {
  if (msg.length < 32 || !msg.subarray(0, 8).equals(SIGNATURE) || msg.readUInt32LE(8) !== MESSAGE_CHALLENGE) {
    throw new ConnectError('drsr_protocol_error', 'the domain controller did not answer with an NTLM CHALLENGE_MESSAGE');
  }
  const flags = msg.readUInt32LE(20);
  const hasInfo = hasFlag(flags, NegotiateFlag.TARGET_INFO) && msg.length >= 48;
  const targetInfo = hasInfo ? field(msg, 40, 'target information') : Buffer.alloc(0);
  const name = field(msg, 12, 'target name');
  return {
    flags,
    serverChallenge: Buffer.from(msg.subarray(24, 32)),
    targetName: hasFlag(flags, NegotiateFlag.UNICODE) ? name.toString('utf16le') : name.toString('latin1'),
    targetInfo: Buffer.from(targetInfo),
  };
}

export interface AuthenticateFields {
  flags: number;
  lmChallengeResponse: Buffer;
  ntChallengeResponse: Buffer;
  domain: string;
  user: string;
  workstation: string;
  encryptedRandomSessionKey: Buffer;
  /** Whether to reserve the 16-byte MIC (filled in afterwards by the caller). */
  withMic: boolean;
}

/** Offset of the MIC inside an AUTHENTICATE_MESSAGE that carries one. */
export const MIC_OFFSET = 72;

export function encodeAuthenticate(f: AuthenticateFields): Buffer {
  const headerLength = f.withMic ? 88 : 72;
  const payload = [
    f.lmChallengeResponse,
    f.ntChallengeResponse,
    Buffer.from(f.domain, 'utf16le'),
    Buffer.from(f.user, 'utf16le'),
    Buffer.from(f.workstation, 'utf16le'),
    f.encryptedRandomSessionKey,
  ];
  const header = Buffer.alloc(headerLength);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(MESSAGE_AUTHENTICATE, 8);
  let offset = headerLength;
  payload.forEach((item, i) => {
    const at = 12 + i * 8;
    header.writeUInt16LE(item.length, at);
    header.writeUInt16LE(item.length, at + 2);
    header.writeUInt32LE(offset, at + 4);
    offset += item.length;
  });
  header.writeUInt32LE(f.flags >>> 0, 60);
  clientVersion.copy(header, 64);
  return Buffer.concat([header, ...payload]);
}
