/**
 * Group-based licensing at scale, side by side with the raw database write of
 * the same run on the same store.
 *
 *   node bench/licences.ts [--members 100000] [--changes 200] [--store pglite|postgres|both]
 *
 * A synchronized group of N users gets a licence (every member is assigned in
 * set-based statements); then single-member changes arrive through the sync
 * API, as the agent sends them, each moving one licence. "raw" inserts the
 * same N assignment rows with one multi-row INSERT per 500 into a scratch
 * table of the same shape: the floor the store itself sets.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { startTestCloud } from '../packages/cloud/test/helpers/cloud.ts';
import { registerTestAgent } from '../packages/cloud/test/helpers/agent.ts';
import type { StoreKind } from '../packages/cloud/test/helpers/stores.ts';

const { values } = parseArgs({ options: { members: { type: 'string', default: '100000' }, changes: { type: 'string', default: '200' }, store: { type: 'string', default: 'both' } } });
const members = Number(values.members);
const changes = Number(values.changes);
const kinds: StoreKind[] = values.store === 'both' ? ['pglite', 'postgres'] : [values.store as StoreKind];
const batchSize = 500;
const guid = () => Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64');
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

for (const kind of kinds) {
  const t = await startTestCloud(kind);
  try {
    const tenant = await t.createTenant('bench');
    const admin = await t.token(tenant);
    const agent = await registerTestAgent(t, tenant, admin);
    const { epoch } = await agent.acquireLease(900);
    let leasedAt = performance.now();
    const send = async (operations: unknown[]) => {
      if (performance.now() - leasedAt > 300_000) {
        await agent.acquireLease(900); // renewal keeps the epoch
        leasedAt = performance.now();
      }
      return agent.sendBatch(`lic-${randomUUID()}`, { epoch, operations: operations as never });
    };
    process.stderr.write(`${kind}: syncing ${members} users and a group holding them all\n`);
    const ids: string[] = [];
    const objectIds: string[] = [];
    for (let i = 0; i < members; i += batchSize) {
      const ops = Array.from({ length: Math.min(batchSize, members - i) }, (_, j) => {
        const id = guid();
        ids.push(id);
        return { op: 'upsert', type: 'user', immutableId: id, attributes: { userPrincipalName: `u${i + j}@${tenant.initialDomain}`, displayName: `U ${i + j}` } };
      });
      objectIds.push(...(await send(ops)).results.map((r) => r.objectId!));
    }
    const group = guid();
    for (let i = 0; i < members; i += 5000) {
      await send([{ op: 'upsert', type: 'group', immutableId: group, attributes: { displayName: 'Everyone' }, members: { add: ids.slice(i, i + 5000) } }]);
    }
    const store = t.cloud.context.store;
    await store.query(`UPDATE directory_objects SET usage_location = 'FR' WHERE tenant_id = $1 AND object_type = 'user'`, [tenant.tenantId]);
    await t.operator('PUT', `/operator/v1/tenants/${tenant.tenantId}/subscriptions/SKYBRIDGE_BASIC`, { seats: members + changes });
    const groupId = (await store.query<{ id: string }>('SELECT id FROM directory_objects WHERE tenant_id = $1 AND immutable_id = $2', [tenant.tenantId, group])).rows[0]!.id;

    let started = performance.now();
    const res = await t.call('POST', `/api/v1/groups/${groupId}/licenses`, { token: admin, body: { skuId: 'SKYBRIDGE_BASIC' } });
    const assignSeconds = (performance.now() - started) / 1000;
    if (res.status !== 201 || res.body.items[0].assignedUsers !== members) throw new Error(`assignment: ${res.status} ${JSON.stringify(res.body)}`);

    // one member leaves and one joins per batch, as an agent exports a membership delta
    const latencies: number[] = [];
    for (let i = 0; i < changes; i++) {
      const newcomer = guid();
      await send([{ op: 'upsert', type: 'user', immutableId: newcomer, attributes: { userPrincipalName: `n${i}@${tenant.initialDomain}`, displayName: `N ${i}` } }]);
      await store.query(`UPDATE directory_objects SET usage_location = 'FR' WHERE tenant_id = $1 AND immutable_id = $2`, [tenant.tenantId, newcomer]);
      started = performance.now();
      await send([{ op: 'upsert', type: 'group', immutableId: group, attributes: { displayName: 'Everyone' }, members: { add: [newcomer], remove: [ids[i]!] } }]);
      latencies.push(performance.now() - started);
    }
    const { rows } = await store.query<{ consumed: number }>('SELECT consumed FROM subscriptions WHERE tenant_id = $1', [tenant.tenantId]);
    if (rows[0]!.consumed !== members) throw new Error(`seats used ${rows[0]!.consumed}, expected ${members}`);

    await store.query('CREATE TABLE raw_licences (LIKE user_licences INCLUDING ALL)');
    started = performance.now();
    for (let i = 0; i < members; i += batchSize) {
      const slice = objectIds.slice(i, i + batchSize);
      await store.query(
        `INSERT INTO raw_licences (tenant_id, user_id, sku_id, via_group_id) SELECT $1, u, 'SKYBRIDGE_BASIC', $2 FROM unnest($3::uuid[]) AS u`,
        [tenant.tenantId, groupId, slice],
      );
    }
    const rawSeconds = (performance.now() - started) / 1000;
    console.log(`${kind.padEnd(8)} group licence to ${members.toLocaleString('en-US')} members: ${assignSeconds.toFixed(2)} s | raw INSERT of the same rows ${rawSeconds.toFixed(2)} s | ratio ${(assignSeconds / rawSeconds).toFixed(1)}x`);
    console.log(`${kind.padEnd(8)} one member out, one in, through the sync API (${changes} batches): p50 ${pct(latencies, 50).toFixed(1)} ms, p95 ${pct(latencies, 95).toFixed(1)} ms`);
  } finally {
    await t.close();
  }
}
