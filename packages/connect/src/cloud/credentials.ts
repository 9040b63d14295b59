import { z } from 'zod';
import { registerResponse } from '@skybridge/protocol';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

/**
 * What an agent keeps after registering: who it is, where the cloud's token
 * endpoint is, its private key (never sent anywhere) and the cloud's
 * certificate pin. Stored as a file readable only by the agent's account.
 */
export const agentCredentials = registerResponse.extend({
  version: z.literal(1),
  cloudUrl: z.string().url(),
  privateJwk: z.record(z.string(), z.unknown()),
});
export type AgentCredentials = z.infer<typeof agentCredentials>;

/** A new ES256 key pair: the private JWK for the agent, the public one for the cloud. */
export async function generateAgentKey(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), alg: 'ES256' };
  const publicJwk = { ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig' };
  return { privateJwk, publicJwk };
}
