/**
 * Pass-through authentication, the cloud's side: the password is encrypted
 * to one connected agent's public key at a time (JWE, ECDH-ES+A256KW with
 * A256GCM; the user's name is bound in the protected header) and sent over
 * that agent's channel. Agents share the load in turn; an agent that is
 * gone, slow or answers nonsense is skipped for the next one. Nothing is
 * cached: neither the password nor the answer.
 */
import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { passThroughResponse, type PassThroughOutcome } from '@skybridge/protocol';
import type { CloudContext } from '../context.ts';

export const passThroughTimeoutMs = 8000;

export type PassThroughResult =
  | { outcome: PassThroughOutcome; agentId: string; dataCode?: string }
  | { outcome: 'no_agent' | 'agents_failed'; agentId: string | null; detail: string };

const turn = new Map<string, number>();

export async function passThroughAuthenticate(cloud: CloudContext, tenantId: string, userPrincipalName: string, password: string): Promise<PassThroughResult> {
  const connected = cloud.channels.connectedAgents(tenantId);
  if (connected.length === 0) return { outcome: 'no_agent', agentId: null, detail: 'no agent of the tenant is connected' };
  const start = (turn.get(tenantId) ?? 0) % connected.length;
  turn.set(tenantId, start + 1);
  const order = [...connected.slice(start), ...connected.slice(0, start)];
  const { rows } = await cloud.store.query<{ id: string; public_jwk: JWK }>('SELECT id, public_jwk FROM agents WHERE tenant_id = $1 AND id = ANY($2::uuid[])', [tenantId, order]);
  const keys = new Map(rows.map((r) => [r.id, r.public_jwk]));
  const failures: string[] = [];
  for (const agentId of order) {
    const jwk = keys.get(agentId);
    if (!jwk) continue;
    try {
      const { alg: _alg, use: _use, ...bare } = jwk;
      const credential = await new CompactEncrypt(new TextEncoder().encode(password))
        .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', upn: userPrincipalName })
        .encrypt(await importJWK(bare, 'ECDH-ES+A256KW'));
      const answer = await cloud.channels.request(tenantId, agentId, 'passThroughAuthentication', { userPrincipalName, credential }, passThroughTimeoutMs);
      if (!answer.ok) {
        failures.push(`${agentId}: ${answer.error?.code ?? 'error'}`);
        continue;
      }
      const parsed = passThroughResponse.safeParse(answer.payload);
      if (!parsed.success) {
        failures.push(`${agentId}: an answer that is not a pass-through result`);
        cloud.logger.warn({ tenantId, agentId }, 'agent answered pass-through authentication with an invalid payload');
        continue;
      }
      return { outcome: parsed.data.outcome, agentId, ...(parsed.data.dataCode ? { dataCode: parsed.data.dataCode } : {}) };
    } catch (err) {
      failures.push(`${agentId}: ${(err as Error).message}`);
    }
  }
  return { outcome: 'agents_failed', agentId: null, detail: failures.join('; ') };
}
