/**
 * One DCE/RPC association over TCP (ncacn_ip_tcp; C706 chapter 12,
 * MS-RPCE 3.3): connect, bind a presentation context (with NTLM at
 * packet-privacy level: bind, bind_ack, then the rpc_auth_3 leg), and
 * calls whose requests are fragmented and whose responses are reassembled,
 * each fragment sealed and signed over the whole PDU (header signing).
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { ConnectError } from '../../errors.ts';
import type { NtlmClient } from '../ntlm/client.ts';
import type { NtlmSessionSecurity } from '../ntlm/session-security.ts';
import { SIGNATURE_LENGTH } from '../ntlm/session-security.ts';
import {
  AUTH_PAD_ALIGNMENT, AUTH_TYPE_NTLM, AuthLevel, HEADER_LENGTH, PduType, PfcFlag, SEC_TRAILER_LENGTH,
  type Header, type SyntaxId, bindNakReason, decodeBindAck, decodeHeader, encodeBindBody, encodeHeader, encodeSecTrailer, faultName, splitAuth,
} from './pdu.ts';

/** The largest fragment the agent sends or accepts (Windows' choice). */
const MAX_FRAG = 5840;
/** Request and response bodies start after the 8-byte request/response header. */
const CALL_BODY_START = HEADER_LENGTH + 8;
/** Limit on a reassembled response, so a hostile server cannot exhaust memory. */
const MAX_RESPONSE_BYTES = 256 << 20;
const AUTH_CONTEXT_ID = 0x8a01;

export interface RpcTarget {
  host: string;
  port: number;
  /** How long to wait for a connection or an answer, in ms (default 30 s). */
  timeoutMs?: number;
}

export interface RpcCallOptions {
  timeoutMs?: number;
}

/** Reads whole PDUs off a TCP stream (one at a time, so the buffer stays about one fragment long). */
class PduStream {
  #buf: Buffer = Buffer.alloc(0);
  #waiter: { resolve: (b: Buffer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  #failure: Error | undefined;

  push(chunk: Buffer): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    this.#deliver();
  }

  fail(err: Error): void {
    this.#failure ??= err;
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  #deliver(): void {
    const w = this.#waiter;
    if (!w || this.#buf.length < HEADER_LENGTH) return;
    let length: number;
    try {
      length = decodeHeader(this.#buf.subarray(0, HEADER_LENGTH)).fragLength;
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    if (this.#buf.length < length) return;
    const pdu = Buffer.from(this.#buf.subarray(0, length));
    this.#buf = this.#buf.subarray(length);
    this.#waiter = undefined;
    clearTimeout(w.timer);
    w.resolve(pdu);
  }

  next(timeoutMs: number, what: string): Promise<Buffer> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new ConnectError('ad_timeout', `the domain controller did not answer ${what} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.#waiter = { resolve, reject, timer };
      this.#deliver();
    });
  }
}

export class RpcConnection {
  readonly target: RpcTarget;
  readonly #socket: Socket;
  readonly #stream = new PduStream();
  #callId = 1;
  #maxSendFrag = 4280;
  #contextId = 0;
  #security: NtlmSessionSecurity | undefined;
  #authLevel: number = AuthLevel.NONE;
  #closed = false;
  #firstCallId = 0;

  private constructor(target: RpcTarget, socket: Socket) {
    this.target = target;
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#stream.push(chunk));
    socket.on('error', (err) => this.#stream.fail(new ConnectError('ad_connection_lost', `the RPC connection to ${target.host}:${target.port} failed: ${err.message}`, { cause: err })));
    socket.on('close', () => this.#stream.fail(new ConnectError('ad_connection_lost', `the domain controller ${target.host}:${target.port} closed the RPC connection`)));
  }

  static connect(target: RpcTarget): Promise<RpcConnection> {
    const timeoutMs = target.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const socket = tcpConnect({ host: target.host, port: target.port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ConnectError('ad_timeout', `no RPC connection to ${target.host}:${target.port} within ${timeoutMs / 1000} s`, { fix: 'check that the domain controller is reachable on TCP 135 and the dynamic RPC ports (49152-65535)' }));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new ConnectError('ad_unreachable', `cannot open an RPC connection to ${target.host}:${target.port}: ${err.message}`, { cause: err, fix: 'check that the domain controller is reachable on TCP 135 and the dynamic RPC ports (49152-65535)' }));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RpcConnection(target, socket));
      });
    });
  }

  get #timeout(): number {
    return this.target.timeoutMs ?? 30_000;
  }

  /** The session key of the authenticated association (MS-DRSR uses it to protect secrets). */
  sessionKey: Buffer | undefined;

  /**
   * Binds the interface. With `ntlm`, authenticates at packet privacy:
   * NEGOTIATE in the bind, CHALLENGE in the bind_ack, AUTHENTICATE in rpc_auth_3.
   */
  async bind(abstract: SyntaxId, ntlm?: NtlmClient): Promise<void> {
    const callId = this.#callId++;
    let body = encodeBindBody({ maxXmitFrag: MAX_FRAG, maxRecvFrag: MAX_FRAG, assocGroup: 0, contextId: this.#contextId, abstract });
    let authLength = 0;
    if (ntlm) {
      const negotiate = ntlm.negotiate();
      body = Buffer.concat([body, encodeSecTrailer({ authType: AUTH_TYPE_NTLM, authLevel: AuthLevel.PKT_PRIVACY, padLength: 0, contextId: AUTH_CONTEXT_ID }), negotiate]);
      authLength = negotiate.length;
    }
    const flags = PfcFlag.FIRST_FRAG | PfcFlag.LAST_FRAG | (ntlm ? PfcFlag.SUPPORT_HEADER_SIGN : 0);
    this.#write(Buffer.concat([encodeHeader({ type: PduType.BIND, flags, fragLength: HEADER_LENGTH + body.length, authLength, callId }), body]));
    const pdu = await this.#stream.next(this.#timeout, 'the RPC bind');
    const header = decodeHeader(pdu);
    if (header.type === PduType.BIND_NAK) {
      const reason = pdu.length >= 18 ? pdu.readUInt16LE(16) : 0;
      throw new ConnectError(reason === 8 || reason === 9 ? 'drsr_auth_failed' : 'drsr_protocol_error', `the domain controller refused the RPC bind: ${bindNakReason(reason)}`);
    }
    if (header.type !== PduType.BIND_ACK) throw new ConnectError('drsr_protocol_error', `the domain controller answered the RPC bind with PDU type ${header.type}`);
    const ack = decodeBindAck(pdu, header);
    if (ack.result !== 0) {
      throw new ConnectError('drsr_protocol_error', `the domain controller does not offer the interface over NDR (presentation result ${ack.result}, reason ${ack.reason})`);
    }
    this.#maxSendFrag = Math.min(MAX_FRAG, ack.maxRecvFrag);
    if (!ntlm) return;
    const { authValue } = splitAuth(pdu, header, HEADER_LENGTH);
    const { message, security } = await ntlm.authenticate(Buffer.from(authValue));
    // rpc_auth_3: a 4-byte pad, then the trailer and the AUTHENTICATE_MESSAGE (MS-RPCE 2.2.2.10)
    const auth3Body = Buffer.concat([Buffer.alloc(4), encodeSecTrailer({ authType: AUTH_TYPE_NTLM, authLevel: AuthLevel.PKT_PRIVACY, padLength: 0, contextId: AUTH_CONTEXT_ID }), message]);
    this.#write(Buffer.concat([
      encodeHeader({ type: PduType.AUTH3, flags: PfcFlag.FIRST_FRAG | PfcFlag.LAST_FRAG, fragLength: HEADER_LENGTH + auth3Body.length, authLength: message.length, callId }),
      auth3Body,
    ]));
    this.#security = security;
    this.#firstCallId = this.#callId;
    this.#authLevel = AuthLevel.PKT_PRIVACY;
    this.sessionKey = security.exportedSessionKey;
  }

  #write(pdu: Buffer): void {
    if (this.#closed) throw new ConnectError('ad_connection_lost', `the RPC connection to ${this.target.host}:${this.target.port} is closed`);
    this.#socket.write(pdu);
  }

  /** One request fragment, sealed and signed when the association is authenticated. */
  #requestFragment(callId: number, opnum: number, allocHint: number, chunk: Buffer, flags: number): Buffer {
    const callHead = Buffer.alloc(8);
    callHead.writeUInt32LE(allocHint, 0);
    callHead.writeUInt16LE(this.#contextId, 4);
    callHead.writeUInt16LE(opnum, 6);
    const security = this.#security;
    if (!security) {
      return Buffer.concat([encodeHeader({ type: PduType.REQUEST, flags, fragLength: CALL_BODY_START + chunk.length, authLength: 0, callId }), callHead, chunk]);
    }
    const padLength = (AUTH_PAD_ALIGNMENT - (chunk.length % AUTH_PAD_ALIGNMENT)) % AUTH_PAD_ALIGNMENT;
    const plain = Buffer.concat([chunk, Buffer.alloc(padLength)]);
    const trailer = encodeSecTrailer({ authType: AUTH_TYPE_NTLM, authLevel: this.#authLevel, padLength, contextId: AUTH_CONTEXT_ID });
    const header = encodeHeader({ type: PduType.REQUEST, flags, fragLength: CALL_BODY_START + plain.length + SEC_TRAILER_LENGTH + SIGNATURE_LENGTH, authLength: SIGNATURE_LENGTH, callId });
    const { sealed, signature } = security.seal(plain, Buffer.concat([header, callHead, plain, trailer]));
    return Buffer.concat([header, callHead, sealed, trailer, signature]);
  }

  /** Calls `opnum` with an NDR stub; returns the response stub. */
  async call(opnum: number, stub: Buffer, options: RpcCallOptions = {}): Promise<Buffer> {
    const callId = this.#callId++;
    const overhead = CALL_BODY_START + (this.#security ? AUTH_PAD_ALIGNMENT + SEC_TRAILER_LENGTH + SIGNATURE_LENGTH : 0);
    const room = Math.floor((this.#maxSendFrag - overhead) / AUTH_PAD_ALIGNMENT) * AUTH_PAD_ALIGNMENT;
    for (let at = 0; at < stub.length || at === 0; at += room) {
      const chunk = stub.subarray(at, at + room);
      const flags = (at === 0 ? PfcFlag.FIRST_FRAG : 0) | (at + room >= stub.length ? PfcFlag.LAST_FRAG : 0);
      this.#write(this.#requestFragment(callId, opnum, stub.length - at, chunk, flags));
      if (stub.length === 0) break;
    }
    const parts: Buffer[] = [];
    let total = 0;
    const timeoutMs = options.timeoutMs ?? this.#timeout;
    for (let fragment = 0; ; fragment++) {
      const pdu = await this.#stream.next(timeoutMs, `call ${opnum}`);
      const header = decodeHeader(pdu);
      if (header.callId !== callId) throw new ConnectError('drsr_protocol_error', `the domain controller answered call ${header.callId} while call ${callId} was waiting`);
      if (header.type === PduType.FAULT) throw this.#fault(pdu, header, opnum);
      if (header.type !== PduType.RESPONSE) throw new ConnectError('drsr_protocol_error', `the domain controller answered a request with PDU type ${header.type}`);
      if (fragment === 0 && !(header.flags & PfcFlag.FIRST_FRAG)) throw new ConnectError('drsr_protocol_error', 'the first response fragment lacks PFC_FIRST_FRAG');
      const data = this.#openFragment(pdu, header);
      total += data.length;
      if (total > MAX_RESPONSE_BYTES) throw new ConnectError('drsr_protocol_error', `the answer to call ${opnum} exceeds ${MAX_RESPONSE_BYTES >> 20} MiB`);
      parts.push(data);
      if (header.flags & PfcFlag.LAST_FRAG) return Buffer.concat(parts, total);
    }
  }

  /** Unseals and verifies one response fragment; returns its stub bytes. */
  #openFragment(pdu: Buffer, header: Header): Buffer {
    if (header.fragLength < CALL_BODY_START) throw new ConnectError('drsr_protocol_error', 'a truncated DCE/RPC response');
    const security = this.#security;
    if (!security) {
      if (header.authLength) throw new ConnectError('drsr_protocol_error', 'an unauthenticated association received an authenticated response');
      return pdu.subarray(CALL_BODY_START, header.fragLength);
    }
    if (header.authLength !== SIGNATURE_LENGTH) throw new ConnectError('drsr_integrity_failed', `a response fragment carries a ${header.authLength}-byte signature where NTLM's is ${SIGNATURE_LENGTH}`);
    const { body, trailer, authValue, trailerAt } = splitAuth(pdu, header, CALL_BODY_START);
    if (trailer.authType !== AUTH_TYPE_NTLM || trailer.authLevel !== this.#authLevel) {
      throw new ConnectError('drsr_integrity_failed', `a response fragment is protected at level ${trailer.authLevel} (type ${trailer.authType}) instead of packet privacy`);
    }
    const plain = security.unseal(body);
    const signed = Buffer.concat([pdu.subarray(0, CALL_BODY_START), plain, pdu.subarray(trailerAt, trailerAt + SEC_TRAILER_LENGTH)]);
    security.verify(signed, authValue);
    if (trailer.padLength > plain.length) throw new ConnectError('drsr_protocol_error', 'a response fragment claims more padding than data');
    return plain.subarray(0, plain.length - trailer.padLength);
  }

  #fault(pdu: Buffer, header: Header, opnum: number): ConnectError {
    let status = 0;
    try {
      // a fault's body may be sealed too; its status is the first 4 bytes after the call header
      const body = this.#security && header.authLength ? this.#openFragment(pdu, header) : pdu.subarray(CALL_BODY_START, header.fragLength);
      status = body.length >= 4 ? body.readUInt32LE(0) : 0;
    } catch (err) {
      // A fault that carries an auth trailer but fails its check was altered
      // (or is not the DC's): its status bytes are ciphertext, so the failed
      // check is the error, not a fault with a status read from ciphertext.
      // (Faults sent without a trailer, like Samba's to rejected
      // credentials, take the plain path above.)
      return err instanceof ConnectError ? err : new ConnectError('drsr_protocol_error', `the domain controller's fault for call ${opnum} cannot be read: ${(err as Error).message}`, { cause: err });
    }
    // Samba and Windows do not answer rpc_auth_3: rejected credentials show as a fault on the first call
    const firstCall = this.#security !== undefined && header.callId === this.#firstCallId;
    if (status === 5 || status === 0x721 || (firstCall && status === 0x1c01000b)) {
      const what = firstCall ? `did not accept the RPC connection's NTLM authentication (its first call was answered: ${faultName(status)})` : `refused call ${opnum}: ${faultName(status)}`;
      return new ConnectError('drsr_auth_failed', `the domain controller ${what}`, {
        fix: 'check the connector account\'s name, domain and password, and that the domain controller allows NTLM for it',
      });
    }
    return new ConnectError('drsr_rpc_fault', `the domain controller answered call ${opnum} with a fault: ${faultName(status)}`);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
  }
}
