/**
 * Connection-oriented DCE/RPC PDUs (C706 chapter 12, MS-RPCE 2.2.2): the
 * common header, the bodies the agent sends and reads, and the
 * authentication trailer (sec_trailer + auth_value).
 */
import { ConnectError } from '../../errors.ts';

export const PduType = {
  REQUEST: 0,
  RESPONSE: 2,
  FAULT: 3,
  BIND: 11,
  BIND_ACK: 12,
  BIND_NAK: 13,
  ALTER_CONTEXT: 14,
  ALTER_CONTEXT_RESP: 15,
  AUTH3: 16,
  SHUTDOWN: 17,
} as const;

export const PfcFlag = {
  FIRST_FRAG: 0x01,
  LAST_FRAG: 0x02,
  /** In bind and alter_context: the client supports header signing (MS-RPCE 2.2.2.3). */
  SUPPORT_HEADER_SIGN: 0x04,
  CONC_MPX: 0x10,
  DID_NOT_EXECUTE: 0x20,
  OBJECT_UUID: 0x80,
} as const;

export const AuthLevel = { NONE: 1, CONNECT: 2, CALL: 3, PKT: 4, PKT_INTEGRITY: 5, PKT_PRIVACY: 6 } as const;
/** RPC_C_AUTHN_WINNT: NTLM. */
export const AUTH_TYPE_NTLM = 10;

export const HEADER_LENGTH = 16;
export const SEC_TRAILER_LENGTH = 8;
/** Stub data is padded so the sec_trailer starts 16-byte aligned with it (MS-RPCE 2.2.2.11). */
export const AUTH_PAD_ALIGNMENT = 16;

export interface SyntaxId {
  /** 16 bytes in the wire's little-endian GUID layout */
  uuid: Buffer;
  major: number;
  minor: number;
}

/** A GUID string as the 16 bytes DCE/RPC carries (first three fields little-endian). */
export function uuidBytes(text: string): Buffer {
  const hex = text.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a UUID: ${text}`);
  const b = Buffer.from(hex, 'hex');
  return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
}

export const uuidText = (b: Buffer): string => {
  const h = Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8, 16)]).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** NDR 2.0, the transfer syntax the agent speaks. */
export const NDR20: SyntaxId = { uuid: uuidBytes('8a885d04-1ceb-11c9-9fe8-08002b104860'), major: 2, minor: 0 };

export interface Header {
  type: number;
  flags: number;
  fragLength: number;
  authLength: number;
  callId: number;
}

export function encodeHeader(h: Header): Buffer {
  const b = Buffer.alloc(HEADER_LENGTH);
  b[0] = 5;
  b[1] = 0;
  b[2] = h.type;
  b[3] = h.flags;
  b[4] = 0x10; // little-endian integers, ASCII characters, IEEE floats
  b.writeUInt16LE(h.fragLength, 8);
  b.writeUInt16LE(h.authLength, 10);
  b.writeUInt32LE(h.callId >>> 0, 12);
  return b;
}

export function decodeHeader(b: Buffer): Header {
  if (b.length < HEADER_LENGTH) throw new ConnectError('drsr_protocol_error', 'a DCE/RPC PDU shorter than its header');
  if (b[0] !== 5 || b[1] !== 0) throw new ConnectError('drsr_protocol_error', `the server does not speak DCE/RPC 5.0 (version ${b[0]}.${b[1]})`);
  if (((b[4] ?? 0) & 0xf0) !== 0x10) throw new ConnectError('drsr_protocol_error', 'the server sent a big-endian DCE/RPC PDU, which the agent does not read');
  const h = { type: b[2]!, flags: b[3]!, fragLength: b.readUInt16LE(8), authLength: b.readUInt16LE(10), callId: b.readUInt32LE(12) };
  if (h.fragLength < HEADER_LENGTH) throw new ConnectError('drsr_protocol_error', `a DCE/RPC PDU claims a length of ${h.fragLength} bytes`);
  return h;
}

export interface SecTrailer {
  authType: number;
  authLevel: number;
  padLength: number;
  contextId: number;
}

export function encodeSecTrailer(t: SecTrailer): Buffer {
  const b = Buffer.alloc(SEC_TRAILER_LENGTH);
  b[0] = t.authType;
  b[1] = t.authLevel;
  b[2] = t.padLength;
  b.writeUInt32LE(t.contextId >>> 0, 4);
  return b;
}

/** Splits a whole PDU into body, sec_trailer and auth_value (C706 13.2.6.1). */
export function splitAuth(pdu: Buffer, header: Header, bodyStart: number): { body: Buffer; trailer: SecTrailer; authValue: Buffer; trailerAt: number } {
  const trailerAt = header.fragLength - header.authLength - SEC_TRAILER_LENGTH;
  if (header.authLength === 0 || trailerAt < bodyStart) throw new ConnectError('drsr_protocol_error', `a DCE/RPC PDU of type ${header.type} carries no usable authentication trailer`);
  const t = pdu.subarray(trailerAt, trailerAt + SEC_TRAILER_LENGTH);
  const trailer = { authType: t[0]!, authLevel: t[1]!, padLength: t[2]!, contextId: t.readUInt32LE(4) };
  return { body: pdu.subarray(bodyStart, trailerAt), trailer, authValue: pdu.subarray(trailerAt + SEC_TRAILER_LENGTH, header.fragLength), trailerAt };
}

const syntaxBytes = (s: SyntaxId): Buffer => {
  const v = Buffer.alloc(4);
  v.writeUInt16LE(s.major, 0);
  v.writeUInt16LE(s.minor, 2);
  return Buffer.concat([s.uuid, v]);
};

/** The body of bind / alter_context: one presentation context with NDR 2.0. */
export function encodeBindBody(opts: { maxXmitFrag: number; maxRecvFrag: number; assocGroup: number; contextId: number; abstract: SyntaxId }): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16LE(opts.maxXmitFrag, 0);
  head.writeUInt16LE(opts.maxRecvFrag, 2);
  head.writeUInt32LE(opts.assocGroup >>> 0, 4);
  head[8] = 1; // n_context_elem
  const ctx = Buffer.alloc(4);
  ctx.writeUInt16LE(opts.contextId, 0);
  ctx[2] = 1; // n_transfer_syn
  return Buffer.concat([head, ctx, syntaxBytes(opts.abstract), syntaxBytes(NDR20)]);
}

export interface BindAck {
  maxXmitFrag: number;
  maxRecvFrag: number;
  assocGroup: number;
  /** 0 acceptance, 1 user rejection, 2 provider rejection */
  result: number;
  reason: number;
}

/** bind_ack / alter_context_resp body (C706 12.6.4.4). */
export function decodeBindAck(pdu: Buffer, header: Header): BindAck {
  const end = header.fragLength - (header.authLength ? header.authLength + SEC_TRAILER_LENGTH : 0);
  const need = (n: number) => {
    if (n > end) throw new ConnectError('drsr_protocol_error', 'a truncated DCE/RPC bind acknowledgement');
  };
  need(HEADER_LENGTH + 10);
  const maxXmitFrag = pdu.readUInt16LE(16);
  const maxRecvFrag = pdu.readUInt16LE(18);
  const assocGroup = pdu.readUInt32LE(20);
  const secAddrLength = pdu.readUInt16LE(24);
  let at = 26 + secAddrLength;
  at = (at + 3) & ~3;
  need(at + 4 + 4);
  const results = pdu[at]!;
  if (results < 1) throw new ConnectError('drsr_protocol_error', 'the DCE/RPC bind acknowledgement lists no presentation result');
  return { maxXmitFrag, maxRecvFrag, assocGroup, result: pdu.readUInt16LE(at + 4), reason: pdu.readUInt16LE(at + 6) };
}

/** bind_nak reasons (C706 12.6.4.5, MS-RPCE 2.2.2.5). */
export const bindNakReason = (code: number): string =>
  ({ 0: 'reason not specified', 1: 'temporary congestion', 2: 'local limit exceeded', 4: 'protocol version not supported', 8: 'authentication type not recognized', 9: 'invalid checksum' } as Record<number, string>)[code] ?? `reason ${code}`;

/** Well-known fault and reject status codes (C706 appendix E, MS-RPCE 3.1.1.5.5). */
export function faultName(status: number): string {
  const names: Record<number, string> = {
    0x00000005: 'access denied',
    0x000006f7: 'the server could not read the request (nca_s_fault_ndr)',
    0x00000721: 'the security package refused the call (nca_s_fault_sec_pkg_error)',
    0x1c010001: 'communication failure (nca_s_comm_failure)',
    0x1c010002: 'unknown operation number (nca_s_op_rng_error)',
    0x1c010003: 'unknown interface (nca_s_unk_if)',
    0x1c01000b: 'protocol error (nca_s_proto_error)',
    0x1c010013: 'the answer is too large (nca_s_out_args_too_big)',
    0x1c010014: 'the server is too busy (nca_s_server_too_busy)',
    0x1c00001a: 'context mismatch (nca_s_fault_context_mismatch)',
    0x1c00001b: 'the server ran out of memory (nca_s_fault_remote_no_memory)',
  };
  return names[status] ?? `status 0x${status.toString(16).padStart(8, '0')}`;
}
