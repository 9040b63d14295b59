import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import type { RegisterRequest, RegisterResponse } from '@skybridge/protocol';
import type { Store } from '../store/store.ts';
import { hashSecret, randomSecret } from '../auth/secrets.ts';
import { SkybridgeError } from '../http/problem.ts';
import { deleteClient } from '../tenants/api-clients.ts';

/** How long a registration token stays usable. */
export const registrationTokenTtlSeconds = 3600;

export async function createRegistrationToken(store: Store, tenantId: string, actor: Actor): Promise<{ registrationToken: string; expiresAt: string }> {
  const token = randomSecret('sbr_');
  return store.transaction(async (tx) => {
    const { rows } = await tx.query<{ expires_at: Date | string }>(
      `INSERT INTO registration_tokens (token_hash, tenant_id, created_by, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING expires_at`,
      [hashSecret(token), tenantId, `${actor.type}:${actor.id}`, registrationTokenTtlSeconds],
    );
    const expiresAt = new Date(rows[0]!.expires_at).toISOString();
    // the token itself is never recorded: only that one was made, and until when it works
    await recordAudit(tx, tenantId, actor, { action: 'agent.registrationToken.create', target: { type: 'registrationToken' }, after: { expiresAt } });
    return { registrationToken: token, expiresAt };
  });
}

/**
 * Turns a one-time registration token into agent credentials. The agent
 * generated its key pair and sends only the public half; the cloud makes it
 * an OAuth client that authenticates with private-key JWT assertions (each
 * assertion single use) and gives it the Directory Synchronization Accounts
 * role. The token is spent in the same transaction, so it works once.
 */
export async function registerAgent(
  store: Store,
  request: RegisterRequest,
  cloud: { issuerOf(tenantId: string): string; audience: string; certificatePin: string | null },
): Promise<RegisterResponse> {
  const agentId = randomUUID();
  const clientId = `agent-${agentId}`;
  const kid = request.publicKey.kid ?? (await calculateJwkThumbprint(request.publicKey));
  const alg = request.publicKey.alg ?? (request.publicKey.kty === 'EC' ? 'ES256' : 'RS256');
  const jwk = { ...request.publicKey, kid, alg, use: 'sig' as const };
  const tenantId = await store.transaction(async (tx) => {
    const { rows } = await tx.query<{ tenant_id: string; used_at: unknown; expired: boolean }>(
      'SELECT tenant_id, used_at, expires_at <= now() AS expired FROM registration_tokens WHERE token_hash = $1 FOR UPDATE',
      [hashSecret(request.registrationToken)],
    );
    const token = rows[0];
    if (!token || token.used_at !== null || token.expired) {
      const why = !token ? 'is not known' : token.used_at !== null ? 'was already used' : 'has expired';
      throw new SkybridgeError('registration_token_invalid', `the registration token ${why}: create a new one in the admin center (Directory synchronization > Agents) and run the registration again`);
    }
    await tx.query(
      `INSERT INTO oidc_clients (client_id, tenant_id, kind, display_name, metadata) VALUES ($1, $2, 'agent', $3, $4)`,
      [clientId, token.tenant_id, `Skybridge Connect on ${request.hostname}`, {
        client_id: clientId,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: alg,
        jwks: { keys: [jwk] },
      }],
    );
    await tx.query(
      `INSERT INTO agents (id, tenant_id, client_id, hostname, version, public_jwk) VALUES ($1, $2, $3, $4, $5, $6)`,
      [agentId, token.tenant_id, clientId, request.hostname, request.version, jwk],
    );
    await tx.query(`INSERT INTO role_assignments (tenant_id, principal_type, principal_id, role) VALUES ($1, 'client', $2, 'DirectorySynchronizationAccounts')`, [token.tenant_id, clientId]);
    await tx.query('UPDATE registration_tokens SET used_at = now(), agent_id = $2 WHERE token_hash = $1', [hashSecret(request.registrationToken), agentId]);
    return token.tenant_id;
  });
  const issuer = cloud.issuerOf(tenantId);
  return {
    agentId,
    tenantId,
    clientId,
    issuer,
    tokenEndpoint: `${issuer}/token`,
    audience: cloud.audience,
    cloudCertificatePin: cloud.certificatePin,
  };
}

/**
 * Removes an agent: its credentials stop working at once, and a lease it
 * holds ends with a new epoch (so another agent can take over now, and
 * nothing the removed one still sends is accepted).
 */
export async function removeAgent(store: Store, tenantId: string, agent: { id: string; clientId: string; hostname?: string }, actor: Actor): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.query('SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE', [tenantId]);
    await recordAudit(tx, tenantId, actor, { action: 'agent.remove', target: { type: 'agent', id: agent.id, name: agent.hostname ?? null }, before: { agentId: agent.id, clientId: agent.clientId } });
    await deleteClient(tx, tenantId, agent.clientId);
    await tx.query('UPDATE sync_leases SET expires_at = now(), epoch = epoch + 1 WHERE tenant_id = $1 AND holder_agent_id = $2 AND expires_at > now()', [tenantId, agent.id]);
  });
}
