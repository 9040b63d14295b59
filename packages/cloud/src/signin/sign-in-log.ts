import type { Queryable } from '../store/store.ts';

export type SignInMethod = 'cloud_password' | 'password_hash_sync' | 'pass_through' | 'federated' | 'single_sign_on';

export interface SignInEvent {
  userId: string | null;
  userPrincipalName: string | null;
  clientId: string | null;
  method: SignInMethod;
  result: 'success' | 'failure';
  errorCode?: string | null;
  sourceIp: string | null;
  userAgent: string | null;
  agentId?: string | null;
}

/** Records a sign-in; the application's name is read as it is now, so the entry keeps it. */
export async function recordSignIn(q: Queryable, tenantId: string, e: SignInEvent): Promise<void> {
  await q.query(
    `INSERT INTO sign_in_events (tenant_id, user_id, user_principal_name, client_id, app_name, method, result, error_code, source_ip, user_agent, agent_id)
     VALUES ($1, $2, $3, $4, (SELECT display_name FROM oidc_clients WHERE client_id = $4 AND tenant_id = $1), $5, $6, $7, $8, $9, $10)`,
    [tenantId, e.userId, e.userPrincipalName?.toLowerCase().slice(0, 320) ?? null, e.clientId, e.method, e.result, e.errorCode ?? null,
      e.sourceIp, e.userAgent?.slice(0, 512) ?? null, e.agentId ?? null],
  );
}
