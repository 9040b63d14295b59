import { randomUUID } from 'node:crypto';
import type { Role } from '@skybridge/protocol';
import type { Queryable, Store } from '../store/store.ts';
import { hashSecret, randomSecret } from '../auth/secrets.ts';

/**
 * Creates a confidential API client of a tenant (client-credentials grant)
 * holding the given roles. The secret is returned once; only its hash is kept.
 */
export function createApiClient(store: Store, tenantId: string, displayName: string, roles: readonly Role[]): Promise<{ clientId: string; clientSecret: string }> {
  return store.transaction((tx) => insertApiClient(tx, tenantId, displayName, roles));
}

/** The same, inside a transaction the caller holds (tenant creation). */
export async function insertApiClient(tx: Queryable, tenantId: string, displayName: string, roles: readonly Role[]): Promise<{ clientId: string; clientSecret: string }> {
  const clientId = `api-${randomUUID()}`;
  const clientSecret = randomSecret('sbs_');
  await tx.query(`INSERT INTO oidc_clients (client_id, tenant_id, kind, display_name, metadata) VALUES ($1, $2, 'api', $3, $4)`, [
    clientId, tenantId, displayName,
    { client_id: clientId, client_secret: hashSecret(clientSecret), grant_types: ['client_credentials'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic' },
  ]);
  for (const role of roles) {
    await tx.query(`INSERT INTO role_assignments (tenant_id, principal_type, principal_id, role) VALUES ($1, 'client', $2, $3)`, [tenantId, clientId, role]);
  }
  return { clientId, clientSecret };
}

/** Deletes an OAuth client of a tenant (an API client or an agent's) with its roles: its credentials stop working at once. */
export async function deleteClient(tx: Queryable, tenantId: string, clientId: string): Promise<void> {
  await tx.query(`DELETE FROM role_assignments WHERE tenant_id = $1 AND principal_type = 'client' AND principal_id = $2`, [tenantId, clientId]);
  await tx.query('DELETE FROM oidc_clients WHERE tenant_id = $1 AND client_id = $2', [tenantId, clientId]);
}
