import { isRole, roleDisplayNames, type Role } from '@skybridge/protocol';
import type { Queryable } from '../store/store.ts';
import type { TenantWrite } from '../directory/tenant-lock.ts';
import { SkybridgeError, notFound } from '../http/problem.ts';
import { isUuid } from '../directory/objects.ts';

export type PrincipalType = 'user' | 'client';

export const roleDescriptions: Record<Role, string> = {
  GlobalAdministrator: 'Everything, including assigning roles. At least one user always holds it.',
  HybridIdentityAdministrator: 'Directory synchronization, agents, domains and their sign-in mode.',
  UserAdministrator: 'Users, groups and contacts, and their licences.',
  LicenseAdministrator: 'Licence assignments and users\' usage location.',
  DirectorySynchronizationAccounts: 'Held by registered agents: synchronization and the agent channel only.',
};

export interface Assignment { principalType: PrincipalType; principalId: string; displayName: string | null; assignedDateTime: string }

/** The principal a role is given to, as it is now: a live user, or an enabled API client or agent of the tenant. */
export async function findPrincipal(q: Queryable, tenantId: string, type: PrincipalType, id: string): Promise<{ id: string; displayName: string | null }> {
  if (type === 'user') {
    if (isUuid(id)) {
      const { rows } = await q.query<{ id: string; name: string | null }>(
        `SELECT id, coalesce(upn, display_name) AS name FROM directory_objects WHERE tenant_id = $1 AND id = $2 AND object_type = 'user' AND deleted_at IS NULL`,
        [tenantId, id.toLowerCase()],
      );
      if (rows[0]) return { id: rows[0].id, displayName: rows[0].name };
    }
    throw notFound(`the user ${id}`);
  }
  const { rows } = await q.query<{ client_id: string; display_name: string }>(
    `SELECT client_id, display_name FROM oidc_clients WHERE tenant_id = $1 AND client_id = $2 AND kind IN ('api', 'agent') AND NOT disabled`,
    [tenantId, id],
  );
  if (!rows[0]) throw notFound(`the API client ${id}`);
  return { id: rows[0].client_id, displayName: rows[0].display_name };
}

export async function listAssignments(q: Queryable, tenantId: string, role: Role): Promise<Assignment[]> {
  const { rows } = await q.query<{ principal_type: PrincipalType; principal_id: string; name: string | null; created_at: Date | string }>(
    `SELECT r.principal_type, r.principal_id, r.created_at,
            CASE r.principal_type WHEN 'user' THEN (SELECT coalesce(o.upn, o.display_name) FROM directory_objects o WHERE o.id::text = r.principal_id)
                                  ELSE (SELECT c.display_name FROM oidc_clients c WHERE c.client_id = r.principal_id) END AS name
       FROM role_assignments r WHERE r.tenant_id = $1 AND r.role = $2 ORDER BY r.created_at, r.principal_id`,
    [tenantId, role],
  );
  return rows.map((r) => ({ principalType: r.principal_type, principalId: r.principal_id, displayName: r.name, assignedDateTime: new Date(r.created_at).toISOString() }));
}

/** The roles a user holds, with when each was given. */
export async function rolesOfUser(q: Queryable, tenantId: string, userId: string): Promise<{ id: Role; displayName: string; assignedDateTime: string }[]> {
  const { rows } = await q.query<{ role: string; created_at: Date | string }>(
    `SELECT role, created_at FROM role_assignments WHERE tenant_id = $1 AND principal_type = 'user' AND principal_id = $2 ORDER BY role`,
    [tenantId, userId],
  );
  return rows.flatMap((r) => (isRole(r.role) ? [{ id: r.role, displayName: roleDisplayNames[r.role], assignedDateTime: new Date(r.created_at).toISOString() }] : []));
}

export async function roleCounts(q: Queryable, tenantId: string): Promise<Map<string, number>> {
  const { rows } = await q.query<{ role: string; n: string | number }>('SELECT role, count(*) AS n FROM role_assignments WHERE tenant_id = $1 GROUP BY role', [tenantId]);
  return new Map(rows.map((r) => [r.role, Number(r.n)]));
}

export async function assignRole(w: TenantWrite, role: Role, type: PrincipalType, id: string): Promise<boolean> {
  const principal = await findPrincipal(w.tx, w.tenantId, type, id);
  const { rowCount } = await w.tx.query(
    'INSERT INTO role_assignments (tenant_id, principal_type, principal_id, role) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
    [w.tenantId, type, principal.id, role],
  );
  if (rowCount) await w.audit({ action: 'role.assign', target: { type: 'role', id: role, name: roleDisplayNames[role] }, after: { principalType: type, principalId: principal.id, displayName: principal.displayName } });
  return rowCount > 0;
}

/**
 * Takes a role away. The tenant keeps at least one user holding Global
 * Administrator: the role that can give every other back.
 */
export async function removeRole(w: TenantWrite, role: Role, type: PrincipalType, id: string): Promise<void> {
  const { rows } = await w.tx.query<{ principal_id: string }>(
    'SELECT principal_id FROM role_assignments WHERE tenant_id = $1 AND role = $2 AND principal_type = $3 AND principal_id = $4 FOR UPDATE',
    [w.tenantId, role, type, type === 'user' ? id.toLowerCase() : id],
  );
  if (!rows[0]) throw notFound(`a ${roleDisplayNames[role]} assignment of the ${type} ${id}`);
  if (role === 'GlobalAdministrator' && type === 'user') await ensureAnotherGlobalAdministrator(w.tx, w.tenantId, rows[0].principal_id);
  await w.tx.query('DELETE FROM role_assignments WHERE tenant_id = $1 AND role = $2 AND principal_type = $3 AND principal_id = $4', [w.tenantId, role, type, rows[0].principal_id]);
  await w.audit({ action: 'role.remove', target: { type: 'role', id: role, name: roleDisplayNames[role] }, before: { principalType: type, principalId: rows[0].principal_id } });
}

/** Refuses a change that would leave no live user holding Global Administrator. */
export async function ensureAnotherGlobalAdministrator(q: Queryable, tenantId: string, userId: string): Promise<void> {
  const { rows } = await q.query<{ n: string | number }>(
    `SELECT count(*) AS n FROM role_assignments r JOIN directory_objects o ON o.id::text = r.principal_id AND o.deleted_at IS NULL AND o.account_enabled
      WHERE r.tenant_id = $1 AND r.role = 'GlobalAdministrator' AND r.principal_type = 'user' AND r.principal_id <> $2`,
    [tenantId, userId],
  );
  if (Number(rows[0]!.n) === 0) {
    throw new SkybridgeError('last_global_administrator', `the user ${userId} is the tenant's last Global Administrator: make another user Global Administrator first`);
  }
}

/** A user that goes (deleted) takes its role assignments with it; the last Global Administrator cannot go. */
export async function dropUserRoles(q: Queryable, tenantId: string, userId: string): Promise<void> {
  const { rows } = await q.query<{ role: string }>(`SELECT role FROM role_assignments WHERE tenant_id = $1 AND principal_type = 'user' AND principal_id = $2`, [tenantId, userId]);
  if (rows.some((r) => r.role === 'GlobalAdministrator')) await ensureAnotherGlobalAdministrator(q, tenantId, userId);
  if (rows.length) await q.query(`DELETE FROM role_assignments WHERE tenant_id = $1 AND principal_type = 'user' AND principal_id = $2`, [tenantId, userId]);
}

export const isPrincipalType = (v: string): v is PrincipalType => v === 'user' || v === 'client';
export const badRole = (role: string) => new SkybridgeError('not_found', `there is no role ${role}: the roles are ${Object.keys(roleDisplayNames).join(', ')}`);
