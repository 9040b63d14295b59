import { createHash, randomUUID } from 'node:crypto';
import { memberNotFoundError, quarantineError, type SyncBatchRequest, type SyncBatchResponse, type SyncObjectResult, type Quotas } from '@skybridge/protocol';
import type { Queryable, Store } from '../store/store.ts';
import { TenantWrite } from '../directory/tenant-lock.ts';
import { SkybridgeError } from '../http/problem.ts';
import { applyOperation, BatchLookups } from './apply-operation.ts';
import { applyIndependent } from './bulk-apply.ts';
import { checkFencing } from './lease.ts';
import type { SyncThrottle } from './throttle.ts';
import { releaseFreedValues } from './quarantine.ts';

export const idempotencyKeyPattern = /^[A-Za-z0-9._:-]{8,200}$/;

/**
 * Applies a sync batch exactly once. The batch runs in one transaction that
 * also records its results under the idempotency key: a crash before commit
 * leaves nothing, and a retry after commit gets the recorded results back
 * without touching the directory.
 */
export async function applyBatch(
  store: Store,
  input: {
    tenantId: string; agentId: string; idempotencyKey: string; request: SyncBatchRequest; quotas: Quotas; throttle?: SyncThrottle;
    /** the agent reads missingMembers (missingMembersPreference): a member change is made without members the cloud does not hold */
    partialMembers?: boolean;
  },
): Promise<SyncBatchResponse> {
  const requestHash = createHash('sha256').update(JSON.stringify(input.request.operations)).digest('base64url');
  let counts: [number, number] | null = null;
  const response = await store.transaction(async (tx): Promise<SyncBatchResponse> => {
    const w = await TenantWrite.begin(tx, input.tenantId, input.quotas);
    const { rows: previous } = await tx.query<{ batch_id: string; request_hash: string; results: SyncObjectResult[] }>(
      'SELECT batch_id, request_hash, results FROM sync_batches WHERE tenant_id = $1 AND idempotency_key = $2',
      [input.tenantId, input.idempotencyKey],
    );
    const prior = previous[0];
    if (prior) {
      if (prior.request_hash !== requestHash) {
        throw new SkybridgeError('idempotency_key_reused', `the Idempotency-Key ${input.idempotencyKey} was used for a different batch: use a new key for new content`);
      }
      // (results stored for an agent that reads missingMembers, replayed to one that does not: refusals, as it expects)
      const results = input.partialMembers ? prior.results : prior.results.map((r): SyncObjectResult => (r.missingMembers?.length
        ? { index: r.index, immutableId: r.immutableId, status: 'error', error: memberNotFoundError(r.missingMembers) } : r));
      return { batchId: prior.batch_id, replayed: true, results };
    }
    await checkFencing(tx, input.tenantId, input.agentId, input.request.epoch);
    const wait = input.throttle?.take(input.tenantId, input.request.operations.length, w.quotas.syncOperationsPerMinute) ?? 0;
    if (wait > 0) {
      throw new SkybridgeError('rate_limited', `this tenant's sync batches are above ${w.quotas.syncOperationsPerMinute} operations a minute: send the same batch again in ${wait} s`, { extensions: { retryAfter: wait } });
    }
    const startSeq = w.seq;
    const results: SyncObjectResult[] = [];
    const lookups = await BatchLookups.load(w, input.request.operations);
    // independent creations and updates in bulk, then everything else object by object, in batch order
    const independent = await applyIndependent(w, input.request.operations, lookups);
    for (const [index, op] of input.request.operations.entries()) {
      const outcome = independent.get(index) ?? (await applyOperation(w, op, lookups, { partialMembers: input.partialMembers ?? false }));
      results.push({ index, immutableId: op.immutableId, ...outcome });
    }
    await recordSyncErrors(tx, input.tenantId, input.request.operations, results);
    // values this batch set free go back to the objects waiting for them
    await releaseFreedValues(w);
    counts = [startSeq, w.seq];
    await w.finish();
    const batchId = randomUUID();
    await tx.query(
      `INSERT INTO sync_batches (tenant_id, idempotency_key, batch_id, request_hash, agent_id, epoch, results)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [input.tenantId, input.idempotencyKey, batchId, requestHash, input.agentId, input.request.epoch, JSON.stringify(results)],
    );
    return { batchId, replayed: false, results };
  });
  if (counts) await refreshStatistics(store, counts[0], counts[1]);
  return response;
}

/**
 * Planner statistics follow the directory's growth: each time a tenant's
 * change sequence (one step per object or membership change) passes a power
 * of four (from 1,024 on: 4,096, 16,384, 65,536, …), the directory tables
 * are analyzed. PostgreSQL's autovacuum would do it in time; the embedded
 * store has no autovacuum, and stale statistics there turn index lookups
 * into scans (a group's members counted while it was empty make every
 * membership probe a scan). Powers of four rather than two: an ANALYZE
 * samples up to 30,000 rows whatever the table's size (about 0.4 s on
 * PGlite at 30,000 users), and what the plans need is the order of
 * magnitude of each table, not its exact size.
 */
async function refreshStatistics(store: Store, before: number, after: number): Promise<void> {
  const step = (seq: number) => Math.floor(Math.log2(Math.max(1, seq)) / 2);
  if (after < 1024 || step(after) === step(before)) return;
  for (const table of ['directory_objects', 'memberships', 'user_licences']) await store.query(`ANALYZE ${table}`);
}

/**
 * Keeps the tenant's sync error list current: errors and quarantined values
 * of this batch in, objects it applied cleanly out. Two statements per batch.
 * A batch may name an object more than once (two planned versions of it, a
 * group's member changes in several operations): its entry comes from its
 * last object operation (its last version stands), else from a member
 * change that failed or left members out; a `member_not_found` entry goes
 * only with a member change made in full that adds members or names none,
 * or with the group's deletion (the cloud does not keep which members are
 * owed: the agent does, sends them again, and says with a member change
 * naming none that it owes none; one that only removes members leaves the
 * entry).
 */
async function recordSyncErrors(tx: Queryable, tenantId: string, ops: SyncBatchRequest['operations'], results: SyncObjectResult[]): Promise<void> {
  const outcomes = new Map<string, { object: SyncObjectResult | null; members: SyncObjectResult | null; settled: boolean }>();
  for (const r of results) {
    const op = ops[r.index]!;
    const o = outcomes.get(r.immutableId) ?? { object: null, members: null, settled: false };
    outcomes.set(r.immutableId, o);
    // a value held back is the object's entry while it lasts (it goes on its own once given back)
    const held = r.quarantined?.length ? { ...r, error: quarantineError(r.quarantined) } : null;
    if (op.op === 'upsert' && op.members) {
      if (r.status === 'error') o.members = r;
      else if (r.missingMembers?.length) o.members = { ...r, error: memberNotFoundError(r.missingMembers) };
      else if (op.members.add?.length || !op.members.remove?.length) o.settled = true;
      if (held) o.object = held;
    } else {
      o.object = r.status === 'error' ? r : held;
      // (a deletion ends what the cloud listed of the object: no member is owed to a group gone)
      if (op.op === 'delete' && r.status !== 'error') o.settled = true;
    }
  }
  const failed: SyncObjectResult[] = [];
  const clean: string[] = [];
  const settled: string[] = [];
  for (const [id, o] of outcomes) {
    const entry = o.object ?? o.members;
    if (entry) failed.push(entry);
    else clean.push(id);
    if (o.settled && !o.members) settled.push(id);
  }
  if (clean.length) {
    await tx.query(
      `DELETE FROM sync_errors WHERE tenant_id = $1 AND immutable_id = ANY($2::text[]) AND (code <> 'member_not_found' OR immutable_id = ANY($3::text[]))`,
      [tenantId, clean, settled],
    );
  }
  if (!failed.length) return;
  const dnOf = (i: number) => {
    const op = ops[i]!;
    const dn = op.op === 'upsert' ? op.attributes.onPremisesDistinguishedName : undefined;
    return typeof dn === 'string' ? dn : null;
  };
  await tx.query(
    `INSERT INTO sync_errors (tenant_id, immutable_id, object_type, category, code, message, attribute, dn)
     SELECT $1, t.immutable_id, t.object_type, t.category, t.code, t.message, t.attribute, t.dn
       FROM jsonb_to_recordset($2::jsonb) AS t(immutable_id text, object_type text, category text, code text, message text, attribute text, dn text)
     ON CONFLICT (tenant_id, immutable_id) DO UPDATE SET object_type = excluded.object_type, category = excluded.category, code = excluded.code,
       message = excluded.message, attribute = excluded.attribute, dn = coalesce(excluded.dn, sync_errors.dn), last_seen_at = now()`,
    [tenantId, JSON.stringify(failed.map((r) => ({
      immutable_id: r.immutableId, object_type: ops[r.index]!.type, category: r.error!.category, code: r.error!.code,
      message: r.error!.message, attribute: r.error!.attribute ?? null, dn: dnOf(r.index),
    })))],
  );
}
