/**
 * NTLM session security with extended session security (MS-NLMP 3.4.3,
 * 3.4.4.2): signing and sealing of messages after authentication. Each
 * direction has its own signing key, its own RC4 sealing stream (which
 * runs across all messages of the connection) and its own sequence number.
 */
import { timingSafeEqual } from 'node:crypto';
import { ConnectError } from '../../errors.ts';
import { Rc4 } from '../crypto/primitives.ts';
import { NegotiateFlag, hasFlag } from './flags.ts';
import { macChecksum, sessionKeys } from './ntlmv2.ts';

/** Length of an NTLMSSP_MESSAGE_SIGNATURE. */
export const SIGNATURE_LENGTH = 16;

interface Direction {
  signKey: Buffer;
  seal: Rc4;
  seq: number;
}

export class NtlmSessionSecurity {
  readonly flags: number;
  /** The key both ends derived; protocols above (MS-DRSR) use it to protect secrets. */
  readonly exportedSessionKey: Buffer;
  readonly #out: Direction;
  readonly #in: Direction;

  constructor(flags: number, exportedSessionKey: Buffer) {
    if (!hasFlag(flags, NegotiateFlag.EXTENDED_SESSIONSECURITY)) {
      throw new ConnectError('drsr_auth_failed', 'the domain controller refused NTLM extended session security', {
        fix: 'allow NTLMv2 session security on the domain controller (Network security: Minimum session security for NTLM SSP)',
      });
    }
    this.flags = flags;
    this.exportedSessionKey = exportedSessionKey;
    const keys = sessionKeys(flags, exportedSessionKey);
    this.#out = { signKey: keys.clientSign, seal: new Rc4(keys.clientSeal), seq: 0 };
    this.#in = { signKey: keys.serverSign, seal: new Rc4(keys.serverSeal), seq: 0 };
  }

  #signature(dir: Direction, message: Uint8Array): Buffer {
    let checksum = macChecksum(dir.signKey, dir.seq, message);
    if (hasFlag(this.flags, NegotiateFlag.KEY_EXCH)) checksum = dir.seal.update(checksum);
    const sig = Buffer.alloc(SIGNATURE_LENGTH);
    sig.writeUInt32LE(1, 0);
    checksum.copy(sig, 4);
    sig.writeUInt32LE(dir.seq >>> 0, 12);
    dir.seq = (dir.seq + 1) >>> 0;
    return sig;
  }

  /**
   * GSS_WrapEx: encrypt `toSeal` and sign `toSign` (the plaintext message,
   * which for DCE/RPC with header signing is the whole PDU and covers
   * `toSeal`). The stream encrypts first, then the checksum.
   */
  seal(toSeal: Uint8Array, toSign: Uint8Array = toSeal): { sealed: Buffer; signature: Buffer } {
    const sealed = this.#out.seal.update(toSeal);
    return { sealed, signature: this.#signature(this.#out, toSign) };
  }

  /** GSS_GetMIC for an outgoing message that is signed but not sealed. */
  sign(message: Uint8Array): Buffer {
    return this.#signature(this.#out, message);
  }

  /** Decrypt an incoming sealed message (before verifying its signature over the plaintext). */
  unseal(sealed: Uint8Array): Buffer {
    return this.#in.seal.update(sealed);
  }

  /** Check an incoming signature over `message`; a mismatch is an integrity failure, never ignored. */
  verify(message: Uint8Array, signature: Uint8Array): void {
    const expected = this.#signature(this.#in, message);
    if (signature.length !== SIGNATURE_LENGTH || !timingSafeEqual(expected, signature)) {
      throw new ConnectError('drsr_integrity_failed', `the domain controller's message ${this.#in.seq - 1} failed its NTLM signature check (altered in transit, or keys out of step)`);
    }
  }
}
