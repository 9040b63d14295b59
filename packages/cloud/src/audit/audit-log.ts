import type { Principal } from '../auth/principal.ts';
import type { Queryable } from '../store/store.ts';

/** Who acted: an API client or a user (through the admin center) of the tenant, an agent, or the deployment operator. */
export interface Actor {
  type: 'client' | 'user' | 'agent' | 'operator';
  id: string;
}

export const actorOf = (p: Principal): Actor => {
  if (p.kind === 'agent' && p.agentId) return { type: 'agent', id: p.agentId };
  if (p.kind === 'user' && p.userId) return { type: 'user', id: p.userId };
  return { type: 'client', id: p.clientId };
};
export const operatorActor: Actor = { type: 'operator', id: 'operator' };

/**
 * The actions the audit log records, one stable name each (filter on them
 * with `?action=`). Directory writes are recorded whichever API made them
 * (the admin API or SCIM); synchronization by an agent is not an
 * administrative action and is not recorded here.
 */
export const auditActions = [
  'tenant.update',
  'user.create', 'user.update', 'user.delete',
  'group.create', 'group.update', 'group.delete', 'group.members.update',
  'contact.create', 'contact.update', 'contact.delete',
  'agent.registrationToken.create', 'agent.remove',
  'sync.allowDeletes',
  'domain.add', 'domain.verify', 'domain.update', 'domain.remove',
  'licence.assign', 'licence.remove', 'groupLicence.assign', 'groupLicence.remove',
  'subscription.set',
  'role.assign', 'role.remove',
  'application.create', 'application.update', 'application.delete',
  'signingKeys.rotate',
] as const;
export type AuditAction = (typeof auditActions)[number];

export interface AuditEntry {
  action: AuditAction;
  target: { type: string; id?: string | null; name?: string | null };
  before?: unknown;
  after?: unknown;
}

/**
 * Records an action inside the transaction that makes it: the entry exists
 * exactly when the change does. The actor's name (an API client's display
 * name, a user's UPN) is read as it is now, so the entry keeps it after a
 * rename or a removal.
 */
export async function recordAudit(tx: Queryable, tenantId: string, actor: Actor, entry: AuditEntry): Promise<void> {
  await tx.query(
    `INSERT INTO audit_log (tenant_id, actor_type, actor_id, actor_name, action, target_type, target_id, target_name, before, after)
     VALUES ($1, $2, $3,
             CASE $2 WHEN 'client' THEN (SELECT display_name FROM oidc_clients WHERE client_id = $3)
                     WHEN 'agent' THEN (SELECT hostname FROM agents WHERE id::text = $3)
                     WHEN 'user' THEN (SELECT upn FROM directory_objects WHERE id::text = $3)
                     ELSE 'deployment operator' END,
             $4, $5, $6, $7, $8, $9)`,
    [tenantId, actor.type, actor.id, entry.action, entry.target.type, entry.target.id ?? null, entry.target.name ?? null,
      entry.before === undefined ? null : JSON.stringify(entry.before), entry.after === undefined ? null : JSON.stringify(entry.after)],
  );
}
