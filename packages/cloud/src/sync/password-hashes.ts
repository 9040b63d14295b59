/**
 * Password hash synchronization, the cloud's end: the active agent sends
 * users' v1 hashes by immutable id; the cloud keeps each under its own
 * keyed layer (signin/synced-password.ts). Only the lease holder writes
 * (fencing), only while the tenant has the feature on, and only onto
 * synchronized users.
 */
import type { PasswordHashBatchRequest, PasswordHashBatchResponse } from '@skybridge/protocol';
import type { Store } from '../store/store.ts';
import { SkybridgeError } from '../http/problem.ts';
import { checkFencing } from './lease.ts';
import { wrapSyncedHash } from '../signin/synced-password.ts';

type Result = PasswordHashBatchResponse['results'][number];

export async function applyPasswordHashes(store: Store, input: { tenantId: string; agentId: string; sealingKey: Buffer; request: PasswordHashBatchRequest }): Promise<PasswordHashBatchResponse> {
  const results = new Map<string, Result['status']>();
  const ids: string[] = [];
  const stored: (string | null)[] = [];
  const mustChange: boolean[] = [];
  for (const { immutableId, passwordHash, mustChangePassword } of input.request.hashes) {
    const wrapped = passwordHash === null ? null : wrapSyncedHash(input.sealingKey, passwordHash);
    if (wrapped === undefined) {
      results.set(immutableId, 'invalid');
      continue;
    }
    ids.push(immutableId);
    stored.push(wrapped);
    mustChange.push(mustChangePassword ?? false);
  }
  await store.transaction(async (tx) => {
    const { rows: tenant } = await tx.query<{ password_hash_sync: boolean }>('SELECT password_hash_sync FROM tenants WHERE id = $1', [input.tenantId]);
    if (!tenant[0]?.password_hash_sync) {
      throw new SkybridgeError('password_hash_sync_disabled', 'password hash synchronization is off for this tenant: an administrator turns it on (PATCH /api/v1/tenant {"passwordHashSync": true}); until then the agent sends no hashes');
    }
    await checkFencing(tx, input.tenantId, input.agentId, input.request.epoch);
    if (ids.length === 0) return;
    const { rows } = await tx.query<{ immutable_id: string; cleared: boolean }>(
      `UPDATE directory_objects o SET synced_password_hash = v.h, synced_password_at = now(), synced_password_must_change = v.mc
         FROM unnest($2::text[], $3::text[], $4::boolean[]) AS v(iid, h, mc)
        WHERE o.tenant_id = $1 AND o.immutable_id = v.iid AND o.object_type = 'user' AND o.source = 'onprem' AND o.deleted_at IS NULL
        RETURNING o.immutable_id, v.h IS NULL AS cleared`,
      [input.tenantId, ids, stored, mustChange],
    );
    for (const r of rows) results.set(r.immutable_id, r.cleared ? 'cleared' : 'stored');
  });
  return { results: input.request.hashes.map(({ immutableId }) => ({ immutableId, status: results.get(immutableId) ?? 'not_found' })) };
}
