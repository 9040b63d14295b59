/**
 * Sync batch throughput, side by side with the raw database write measured in
 * the same run on the same store.
 *
 *   node bench/sync-batches.ts [--objects 20000] [--store pglite|postgres|both]
 *
 * "batches" sends upserts of new users through the real cloud over HTTPS
 * (token, TLS, validation, idempotency record, one savepoint per object);
 * "raw" inserts the same rows with one multi-row INSERT per 500 into a
 * scratch table of the same shape: the floor the store itself sets.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { startTestCloud } from '../packages/cloud/test/helpers/cloud.ts';
import { registerTestAgent } from '../packages/cloud/test/helpers/agent.ts';
import type { StoreKind } from '../packages/cloud/test/helpers/stores.ts';

const { values } = parseArgs({ options: { objects: { type: 'string', default: '20000' }, store: { type: 'string', default: 'both' } } });
const total = Number(values.objects);
const kinds: StoreKind[] = values.store === 'both' ? ['pglite', 'postgres'] : [values.store as StoreKind];
const batchSize = 500;

const guid = () => Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64');

for (const kind of kinds) {
  const t = await startTestCloud(kind);
  try {
    const tenant = await t.createTenant('bench');
    const admin = await t.token(tenant);
    const agent = await registerTestAgent(t, tenant, admin);
    const lease = await agent.acquireLease(900);

    const started = performance.now();
    for (let i = 0; i < total; i += batchSize) {
      const operations = Array.from({ length: Math.min(batchSize, total - i) }, (_, j) => ({
        op: 'upsert' as const, type: 'user' as const, immutableId: guid(),
        attributes: { userPrincipalName: `user${i + j}@${tenant.initialDomain}`, displayName: `User ${i + j}`, givenName: 'User', surname: String(i + j), department: 'Sales' },
      }));
      const res = await agent.sendBatch(`bench-${randomUUID()}`, { epoch: lease.epoch, operations });
      if (res.results.some((r) => r.status !== 'created')) throw new Error('unexpected result');
    }
    const batchSeconds = (performance.now() - started) / 1000;

    const store = t.cloud.context.store;
    await store.query('CREATE TABLE raw_bench (LIKE directory_objects INCLUDING ALL)');
    const rawStarted = performance.now();
    for (let i = 0; i < total; i += batchSize) {
      const n = Math.min(batchSize, total - i);
      const params: unknown[] = [];
      const rows: string[] = [];
      for (let j = 0; j < n; j++) {
        const upn = `user${i + j}@raw.test`;
        params.push(randomUUID(), guid(), upn, { userPrincipalName: upn, displayName: `User ${i + j}`, givenName: 'User', surname: String(i + j), department: 'Sales' });
        const b = j * 4;
        rows.push(`($${b + 1}::uuid, '${tenant.tenantId}'::uuid, 'user', $${b + 2}, $${b + 3}, $${b + 4}::jsonb, 'onprem', ${i + j + 1})`);
      }
      await store.query(`INSERT INTO raw_bench (id, tenant_id, object_type, immutable_id, upn, attributes, source, change_seq) VALUES ${rows.join(',')}`, params as never);
    }
    const rawSeconds = (performance.now() - rawStarted) / 1000;
    const rate = (s: number) => Math.round(total / s).toLocaleString('en-US');
    console.log(`${kind.padEnd(8)} ${total} users in batches of ${batchSize}: sync API ${batchSeconds.toFixed(2)} s (${rate(batchSeconds)} objects/s) | raw INSERT ${rawSeconds.toFixed(2)} s (${rate(rawSeconds)} rows/s) | ratio ${(batchSeconds / rawSeconds).toFixed(1)}x`);
  } finally {
    await t.close();
  }
}
