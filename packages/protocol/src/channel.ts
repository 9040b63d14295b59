import { z } from 'zod';

/**
 * Messages on the WebSocket the agent opens to the cloud
 * (`/agents/v1/channel`). The cloud sends requests; the agent answers each
 * with a response carrying the same id. Request kinds grow with features
 * (pass-through authentication, writeback); `ping` checks liveness end to end.
 */
export const channelRequestKinds = ['ping'] as const;

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
