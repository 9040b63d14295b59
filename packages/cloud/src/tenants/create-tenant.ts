import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { paths } from '@skybridge/protocol';
import type { Store } from '../store/store.ts';
import { createSigningKeys } from '../auth/signing-keys.ts';
import { hashPassword, oneTimePassword } from '../auth/secrets.ts';
import { insertApiClient } from './api-clients.ts';
import { SkybridgeError } from '../http/problem.ts';

/**
 * A tenant name becomes the first label of its initial domain, so it follows
 * DNS label rules: 2-63 letters, digits and hyphens, not starting or ending
 * with a hyphen.
 */
export const tenantName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])$/, 'must be 2 to 63 letters, digits or hyphens, starting and ending with a letter or digit (it becomes <name>.skybridge.test)');

export const createTenantRequest = z.strictObject({ name: tenantName });

export interface CreatedTenant {
  tenantId: string;
  name: string;
  initialDomain: string;
  issuer: string;
  discoveryUrl: string;
  tokenEndpoint: string;
  /** The `resource` to ask tokens for: the audience of the admin, SCIM and agent APIs. */
  apiAudience: string;
  admin: { userPrincipalName: string; oneTimePassword: string; mustChangePassword: true };
  apiClient: { clientId: string; clientSecret: string; role: 'GlobalAdministrator' };
}

/**
 * Creates a tenant with everything an administrator needs to start: its
 * initial domain (verified, default), its token-signing keys, a first Global
 * Administrator with a one-time password, and an API client holding the
 * Global Administrator role. The secrets are returned once and only their
 * hashes are kept.
 */
export async function createTenant(store: Store, options: { name: string; publicUrl: string; initialDomainSuffix: string }): Promise<CreatedTenant> {
  const parsed = tenantName.safeParse(options.name);
  if (!parsed.success) throw new SkybridgeError('invalid_request', `the tenant name "${options.name}" ${parsed.error.issues[0]!.message}`);
  const name = parsed.data;
  const initialDomain = `${name}.${options.initialDomainSuffix}`;
  const tenantId = randomUUID();
  const adminId = randomUUID();
  const adminUpn = `admin@${initialDomain}`;
  const password = oneTimePassword();
  const passwordHash = await hashPassword(password);

  let apiClient: { clientId: string; clientSecret: string };
  try {
    apiClient = await store.transaction(async (tx) => {
      await tx.query('INSERT INTO tenants (id, name, initial_domain, change_seq, object_count) VALUES ($1, $2, $3, 1, 1)', [tenantId, name, initialDomain]);
      await tx.query('INSERT INTO domains (tenant_id, name, is_initial, is_default, verified) VALUES ($1, $2, true, true, true)', [tenantId, initialDomain]);
      await createSigningKeys(tx, tenantId);
      await tx.query(
        `INSERT INTO directory_objects (id, tenant_id, object_type, display_name, upn, attributes, source, password_hash, password_must_change, change_seq)
         VALUES ($1, $2, 'user', $3, $4, $5, 'cloud', $6, true, 1)`,
        [adminId, tenantId, 'Administrator', adminUpn, { userPrincipalName: adminUpn, displayName: 'Administrator', accountEnabled: true }, passwordHash],
      );
      await tx.query(`INSERT INTO role_assignments (tenant_id, principal_type, principal_id, role) VALUES ($1, 'user', $2, 'GlobalAdministrator')`, [tenantId, adminId]);
      return insertApiClient(tx, tenantId, 'Initial API client', ['GlobalAdministrator']);
    });
  } catch (err) {
    if ((err as { code?: string }).code === '23505') {
      throw new SkybridgeError('already_exists', `a tenant with the initial domain ${initialDomain} already exists: choose another name`);
    }
    throw err;
  }
  const base = options.publicUrl.replace(/\/$/, '');
  const issuer = `${base}${paths.issuer(tenantId)}`;
  return {
    tenantId,
    name,
    initialDomain,
    issuer,
    discoveryUrl: `${base}${paths.discovery(tenantId)}`,
    tokenEndpoint: `${issuer}/token`,
    apiAudience: `${base}/api`,
    admin: { userPrincipalName: adminUpn, oneTimePassword: password, mustChangePassword: true },
    apiClient: { ...apiClient, role: 'GlobalAdministrator' },
  };
}
