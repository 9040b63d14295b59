import type { Queryable } from '../store/store.ts';
import { isUuid } from '../directory/objects.ts';

export interface SignInUser {
  id: string;
  upn: string;
  display_name: string | null;
  mail: string | null;
  immutable_id: string | null;
  source: 'cloud' | 'onprem';
  account_enabled: boolean;
  password_hash: string | null;
  password_must_change: boolean;
  /** password hash synchronization: the stored hash (signin/synced-password.ts) */
  synced_password_hash: string | null;
  /** on-premises "must change password at next logon", as the agent last said */
  synced_password_must_change: boolean;
}

const columns = 'id, upn, display_name, mail, immutable_id, source, account_enabled, password_hash, password_must_change, synced_password_hash, synced_password_must_change';

export async function userByUpn(q: Queryable, tenantId: string, upn: string): Promise<SignInUser | undefined> {
  const { rows } = await q.query<SignInUser>(
    `SELECT ${columns} FROM directory_objects WHERE tenant_id = $1 AND object_type = 'user' AND lower(upn) = lower($2) AND deleted_at IS NULL`,
    [tenantId, upn],
  );
  return rows[0];
}

export async function userById(q: Queryable, tenantId: string, id: string): Promise<SignInUser | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await q.query<SignInUser>(
    `SELECT ${columns} FROM directory_objects WHERE tenant_id = $1 AND object_type = 'user' AND id = $2 AND deleted_at IS NULL`,
    [tenantId, id],
  );
  return rows[0];
}

/**
 * The claims of a signed-in user, as Entra ID names them: the object id
 * (also the subject), the tenant, the UPN and the on-premises immutable id
 * of a synchronized user.
 */
export function userClaims(tenantId: string, u: SignInUser): Record<string, unknown> {
  return {
    sub: u.id,
    oid: u.id,
    tid: tenantId,
    upn: u.upn,
    preferred_username: u.upn,
    name: u.display_name ?? u.upn,
    ...(u.mail ? { email: u.mail } : {}),
    ...(u.immutable_id ? { onprem_immutable_id: u.immutable_id } : {}),
  };
}
