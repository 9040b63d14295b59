import type { LeaseResponse } from '@skybridge/protocol';
import type { Queryable, Store } from '../store/store.ts';
import { SkybridgeError } from '../http/problem.ts';

interface LeaseRow {
  holder_agent_id: string;
  epoch: number | string;
  expires_at: Date | string;
  expired: boolean;
}

const present = (r: { holder_agent_id: string; epoch: number | string; expires_at: Date | string }): LeaseResponse => ({
  epoch: Number(r.epoch),
  holderAgentId: r.holder_agent_id,
  expiresAt: new Date(r.expires_at).toISOString(),
});

/**
 * The tenant's single active-syncer lease. The holder renews it before it
 * expires and keeps its epoch; once it has expired, the next agent to ask
 * takes it with epoch + 1, and every write still carrying the old epoch is
 * refused (fencing). Lease changes lock the tenant row, as batches do, so a
 * batch and a takeover never interleave.
 */
export async function acquireLease(store: Store, tenantId: string, agentId: string, ttlSeconds: number): Promise<LeaseResponse> {
  return store.transaction(async (tx) => {
    const { rows: tenant } = await tx.query<{ dir_sync_blocked: boolean }>('SELECT dir_sync_blocked FROM tenants WHERE id = $1 FOR UPDATE', [tenantId]);
    if (tenant[0]?.dir_sync_blocked) {
      throw new SkybridgeError('directory_sync_disabled', 'directory synchronization is turned off for this tenant: an administrator turns it on again (PATCH /api/v1/tenant {"directorySynchronizationEnabled": true}), then run a full sync');
    }
    // the first lease turns directory synchronization on, as installing Microsoft's agent does
    await tx.query('UPDATE tenants SET dir_sync_enabled = true WHERE id = $1 AND NOT dir_sync_enabled', [tenantId]);
    const current = await readLease(tx, tenantId);
    if (current && !current.expired && current.holder_agent_id !== agentId) {
      throw new SkybridgeError('lease_held', `another agent (${current.holder_agent_id}) is the active syncer until ${new Date(current.expires_at).toISOString()}: this agent stays on standby`, {
        extensions: { holderAgentId: current.holder_agent_id, expiresAt: new Date(current.expires_at).toISOString() },
      });
    }
    const epoch = !current ? 1 : current.expired ? Number(current.epoch) + 1 : Number(current.epoch);
    const { rows } = await tx.query<LeaseRow>(
      `INSERT INTO sync_leases (tenant_id, holder_agent_id, epoch, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4))
       ON CONFLICT (tenant_id) DO UPDATE SET holder_agent_id = EXCLUDED.holder_agent_id, epoch = EXCLUDED.epoch, expires_at = EXCLUDED.expires_at
       RETURNING holder_agent_id, epoch, expires_at, false AS expired`,
      [tenantId, agentId, epoch, ttlSeconds],
    );
    return present(rows[0]!);
  });
}

/** Gives the lease up at once (a clean shutdown), so that a standby need not wait for it to expire. */
export async function releaseLease(store: Store, tenantId: string, agentId: string, epoch: number): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.query('SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE', [tenantId]);
    const current = await readLease(tx, tenantId);
    if (!current || current.holder_agent_id !== agentId || Number(current.epoch) !== epoch) {
      throw staleEpoch(epoch, current);
    }
    await tx.query('UPDATE sync_leases SET expires_at = now() WHERE tenant_id = $1', [tenantId]);
  });
}

export async function readLease(q: Queryable, tenantId: string): Promise<LeaseRow | undefined> {
  const { rows } = await q.query<LeaseRow>(
    'SELECT holder_agent_id, epoch, expires_at, expires_at <= now() AS expired FROM sync_leases WHERE tenant_id = $1',
    [tenantId],
  );
  return rows[0];
}

/** Checks, under the tenant lock, that a write comes from the lease holder with the current epoch. */
export async function checkFencing(tx: Queryable, tenantId: string, agentId: string, epoch: number): Promise<void> {
  const current = await readLease(tx, tenantId);
  if (current && current.holder_agent_id === agentId && Number(current.epoch) === epoch && !current.expired) return;
  if (!current || (current.expired && current.holder_agent_id === agentId && Number(current.epoch) === epoch)) {
    throw new SkybridgeError('lease_required', `this agent holds no current sync lease${current ? ' (it expired)' : ''}: acquire one with POST /sync/v1/lease and send its epoch`);
  }
  throw staleEpoch(epoch, current);
}

function staleEpoch(epoch: number, current: LeaseRow | undefined): SkybridgeError {
  return new SkybridgeError('stale_epoch', `epoch ${epoch} is not the current sync lease${current ? ` (epoch ${current.epoch}, held by agent ${current.holder_agent_id})` : ''}: another agent took over; stop writing and re-read the cloud's state`, {
    extensions: current ? { currentEpoch: Number(current.epoch) } : {},
  });
}
