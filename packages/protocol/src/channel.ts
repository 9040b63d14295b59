import { z } from 'zod';

/**
 * Messages on the WebSocket the agent opens to the cloud
 * (`/agents/v1/channel`). The cloud sends requests; the agent answers each
 * with a response carrying the same id. Request kinds grow with features
 * (pass-through authentication, writeback); `ping` checks liveness end to end.
 */
export const channelRequestKinds = ['ping', 'passThroughAuthentication'] as const;

/**
 * Pass-through authentication. The cloud encrypts the password to the
 * agent's public key (compact JWE, ECDH-ES+A256KW with A256GCM) and sends it
 * with the user's name; the agent binds to AD as the user and answers with
 * the outcome only. Nothing is cached on either side.
 */
export const passThroughRequest = z.strictObject({
  userPrincipalName: z.string().min(3).max(320),
  credential: z.string().min(1).max(8192),
});
export type PassThroughRequest = z.infer<typeof passThroughRequest>;

/** AD's bind data codes, and what each means for a sign-in. */
export const passThroughOutcomes = {
  success: null,
  invalid_credentials: '52e',
  password_expired: '532',
  account_disabled: '533',
  account_expired: '701',
  must_change_password: '773',
  account_locked: '775',
  other: null,
} as const;
export type PassThroughOutcome = keyof typeof passThroughOutcomes;

export const passThroughResponse = z.strictObject({
  outcome: z.enum(Object.keys(passThroughOutcomes) as [PassThroughOutcome, ...PassThroughOutcome[]]),
  /** AD's data code when the bind was refused */
  dataCode: z.string().max(8).optional(),
});
export type PassThroughResponse = z.infer<typeof passThroughResponse>;

export function outcomeOfDataCode(code: string): PassThroughOutcome {
  const found = Object.entries(passThroughOutcomes).find(([, c]) => c === code.toLowerCase());
  // 525 (no such user) reads as a wrong password: nobody learns which names exist
  return found ? (found[0] as PassThroughOutcome) : code.toLowerCase() === '525' ? 'invalid_credentials' : 'other';
}

export const channelRequest = z.strictObject({
  type: z.literal('request'),
  id: z.string().min(1).max(64),
  kind: z.enum(channelRequestKinds),
  payload: z.unknown().optional(),
});
export type ChannelRequest = z.infer<typeof channelRequest>;

export const channelResponse = z.strictObject({
  type: z.literal('response'),
  id: z.string().min(1).max(64),
  ok: z.boolean(),
  payload: z.unknown().optional(),
  error: z.strictObject({ code: z.string().max(64), message: z.string().max(1000) }).optional(),
});
export type ChannelResponse = z.infer<typeof channelResponse>;

export const channelHello = z.strictObject({
  type: z.literal('hello'),
  version: z.string().max(64),
});

export const agentToCloudMessage = z.discriminatedUnion('type', [channelResponse, channelHello]);
export const cloudToAgentMessage = z.discriminatedUnion('type', [
  channelRequest,
  z.strictObject({ type: z.literal('welcome'), agentId: z.string() }),
]);

/** Close codes the cloud uses on the channel. */
export const channelCloseCodes = {
  unauthenticated: 4401,
  replaced: 4409,
  protocolError: 4400,
} as const;
