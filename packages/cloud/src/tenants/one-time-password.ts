import type { Store } from '../store/store.ts';
import { hashPassword, oneTimePassword } from '../auth/secrets.ts';
import { SkybridgeError } from '../http/problem.ts';

/**
 * Gives a cloud-managed user a new one-time password, which must be changed
 * at the next sign-in (an administrator's password reset). Returns the
 * password once; only its hash is kept. Synchronized users are refused: their
 * password belongs to Active Directory.
 */
export async function issueOneTimePassword(store: Store, tenantId: string, userPrincipalName: string): Promise<string> {
  const password = oneTimePassword();
  const passwordHash = await hashPassword(password);
  const { rows } = await store.query<{ source: string }>(
    `UPDATE directory_objects SET password_hash = CASE WHEN source = 'cloud' THEN $3 ELSE password_hash END,
            password_must_change = CASE WHEN source = 'cloud' THEN true ELSE password_must_change END
      WHERE tenant_id = $1 AND object_type = 'user' AND lower(upn) = lower($2) AND deleted_at IS NULL
      RETURNING source`,
    [tenantId, userPrincipalName, passwordHash],
  );
  if (!rows[0]) throw new SkybridgeError('not_found', `no user ${userPrincipalName} in this tenant`);
  if (rows[0].source !== 'cloud') throw new SkybridgeError('invalid_request', `${userPrincipalName} is synchronized from Active Directory: reset its password on-premises`);
  return password;
}
