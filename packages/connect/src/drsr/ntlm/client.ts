/**
 * The client side of an NTLMv2 handshake (MS-NLMP 3.1.5): NEGOTIATE out,
 * CHALLENGE in, AUTHENTICATE out, and the session security both ends then
 * share. The password is used only to compute NTOWFv2 and is not kept.
 */
import { randomBytes } from 'node:crypto';
import { ConnectError } from '../../errors.ts';
import { AV_FLAG_MIC_PRESENT, AvId, NegotiateFlag, clientFlags, hasFlag } from './flags.ts';
import { type AvPair, decodeAvPairs, encodeAvPairs } from './av-pairs.ts';
import { MIC_OFFSET, decodeChallenge, encodeAuthenticate, encodeNegotiate } from './messages.ts';
import { computeNtlmV2Response, exportedSessionKey, messageIntegrityCode, ntowfV2 } from './ntlmv2.ts';
import { NtlmSessionSecurity } from './session-security.ts';

export interface NtlmCredentials {
  /** sAMAccountName (or the user part of a UPN). */
  user: string;
  /** NetBIOS domain name (or DNS domain name) the account belongs to. */
  domain: string;
  password: string;
}

export interface NtlmClientOptions {
  workstation?: string;
  /** For tests with published vectors only: fixed randomness and time. */
  fixed?: { clientChallenge: Buffer; randomSessionKey: Buffer; time?: bigint };
}

/** 100 ns ticks since 1601-01-01 UTC. */
export const fileTimeNow = (): bigint => (BigInt(Date.now()) + 11_644_473_600_000n) * 10_000n;

/** Required of the server: without these the channel would not be private. */
const REQUIRED = [NegotiateFlag.SIGN, NegotiateFlag.SEAL, NegotiateFlag.EXTENDED_SESSIONSECURITY, NegotiateFlag.NEGOTIATE_128] as const;

export class NtlmClient {
  readonly #credentials: NtlmCredentials;
  readonly #options: NtlmClientOptions;
  #negotiate: Buffer | undefined;

  constructor(credentials: NtlmCredentials, options: NtlmClientOptions = {}) {
    this.#credentials = credentials;
    this.#options = options;
  }

  negotiate(): Buffer {
    this.#negotiate = encodeNegotiate(clientFlags);
    return this.#negotiate;
  }

  async authenticate(challengeBytes: Buffer): Promise<{ message: Buffer; security: NtlmSessionSecurity }> {
    if (!this.#negotiate) throw new Error('NtlmClient.authenticate called before negotiate');
    const challenge = decodeChallenge(challengeBytes);
    for (const flag of REQUIRED) {
      if (!hasFlag(challenge.flags, flag)) {
        throw new ConnectError('drsr_auth_failed', `the domain controller's NTLM challenge lacks flag 0x${flag.toString(16)} (signing, sealing, extended session security and 128-bit keys are required)`, {
          fix: 'allow NTLMv2 with 128-bit session security on the domain controller',
        });
      }
    }
    const flags = (clientFlags & challenge.flags) >>> 0;
    const serverPairs = challenge.targetInfo.length ? decodeAvPairs(challenge.targetInfo) : [];
    const serverTime = serverPairs.find((p) => p.id === AvId.TIMESTAMP);
    // With a server timestamp the client sends a MIC and says so in MsvAvFlags (MS-NLMP 3.1.5.1.2).
    const withMic = serverTime !== undefined;
    const pairs: AvPair[] = serverPairs.filter((p) => p.id !== AvId.FLAGS);
    if (withMic) {
      const existing = serverPairs.find((p) => p.id === AvId.FLAGS);
      const value = Buffer.alloc(4);
      value.writeUInt32LE(((existing?.value.length === 4 ? existing.value.readUInt32LE(0) : 0) | AV_FLAG_MIC_PRESENT) >>> 0);
      pairs.push({ id: AvId.FLAGS, value });
    }
    const fixed = this.#options.fixed;
    const time = fixed?.time ?? (serverTime && serverTime.value.length === 8 ? serverTime.value.readBigUInt64LE(0) : fileTimeNow());
    const responses = computeNtlmV2Response({
      responseKey: await ntowfV2(this.#credentials.password, this.#credentials.user, this.#credentials.domain),
      serverChallenge: challenge.serverChallenge,
      clientChallenge: fixed?.clientChallenge ?? randomBytes(8),
      time,
      targetInfo: encodeAvPairs(pairs),
    });
    const key = exportedSessionKey(flags, responses.sessionBaseKey, fixed?.randomSessionKey ?? randomBytes(16));
    const message = encodeAuthenticate({
      flags,
      // With a MIC the LMv2 response is sent as Z(24) (MS-NLMP 3.1.5.1.2)
      lmChallengeResponse: withMic ? Buffer.alloc(24) : responses.lmChallengeResponse,
      ntChallengeResponse: responses.ntChallengeResponse,
      domain: this.#credentials.domain,
      user: this.#credentials.user,
      workstation: this.#options.workstation ?? '',
      encryptedRandomSessionKey: key.encrypted,
      withMic,
    });
    if (withMic) messageIntegrityCode(key.exported, this.#negotiate, challengeBytes, message).copy(message, MIC_OFFSET);
    return { message, security: new NtlmSessionSecurity(flags, key.exported) };
  }
}
