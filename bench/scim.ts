/**
 * SCIM throughput on a tenant of 100,000 users, and one-member changes of a
 * 1,000,000-member group next to the same on a 10-member group, on both
 * stores; each figure beside the raw database operation measured in the
 * same run (in-process SQL on the same store, no HTTP, same concurrency).
 *
 *   node bench/scim.ts [--users 100000] [--creates 5000] [--group 1000000] [--store pglite|postgres|both] [--concurrency 4]
 *
 * The tenant is filled through the sync API (batches of 500) up to `users`
 * minus `creates`; then `creates` users are created through SCIM POST. The
 * large group's members are contacts inserted with SQL (setting up a
 * million objects through the API would take longer than the rest together);
 * what is measured is SCIM over HTTPS: PATCH add/remove of one member.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { startTestCloud, type TestCloud } from '../packages/cloud/test/helpers/cloud.ts';
import { registerTestAgent } from '../packages/cloud/test/helpers/agent.ts';
import type { StoreKind } from '../packages/cloud/test/helpers/stores.ts';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' }, creates: { type: 'string', default: '5000' }, group: { type: 'string', default: '1000000' },
    store: { type: 'string', default: 'both' }, concurrency: { type: 'string', default: '4' }, reads: { type: 'string', default: '5000' }, changes: { type: 'string', default: '100' },
  },
});
const totalUsers = Number(values.users);
const creates = Number(values.creates);
const groupSize = Number(values.group);
const concurrency = Number(values.concurrency);
const reads = Number(values.reads);
const changes = Number(values.changes);
const kinds: StoreKind[] = values.store === 'both' ? ['pglite', 'postgres'] : [values.store as StoreKind];
const guid = () => Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64');
const log = (s: string) => process.stderr.write(`${s}\n`);

/** Runs `n` tasks with `concurrency` in flight; returns seconds and per-task latencies in ms. */
async function timed(n: number, task: (i: number) => Promise<void>, inFlight = concurrency): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, async () => {
    while (next < n) {
      const i = next++;
      const t0 = performance.now();
      await task(i);
      latencies.push(performance.now() - t0);
    }
  }));
  return { seconds: (performance.now() - started) / 1000, latencies };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const rate = (n: number, s: number) => `${Math.round(n / s).toLocaleString('en-US')}/s`.padStart(9);
const ms = (x: number) => `${x.toFixed(2)} ms`.padStart(9);

async function benchStore(kind: StoreKind): Promise<string[]> {
  const t: TestCloud = await startTestCloud(kind);
  const lines: string[] = [];
  try {
    const tenant = await t.createTenant('bench');
    const token = await t.token(tenant);
    const d = tenant.initialDomain;
    const store = t.cloud.context.store;
    await store.query(`UPDATE tenants SET quotas = '{"maxObjects": 5000000}'::jsonb WHERE id = $1`, [tenant.tenantId]);
    const scim = async (method: string, path: string, body?: unknown, expect = [200, 201, 204]) => {
      const res = await t.call(method, `/scim/v2${path}`, { token, ...(body !== undefined ? { body } : {}), headers: { 'content-type': 'application/scim+json' } });
      if (!expect.includes(res.status)) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };

    // 1. Fill the tenant through the sync API.
    const agent = await registerTestAgent(t, tenant, token);
    const lease = await agent.acquireLease(900);
    const seeded = totalUsers - creates;
    for (let i = 0; i < seeded; i += 500) {
      const operations = Array.from({ length: Math.min(500, seeded - i) }, (_, j) => ({
        op: 'upsert' as const, type: 'user' as const, immutableId: guid(),
        attributes: { userPrincipalName: `user${i + j}@${d}`, displayName: `User ${i + j}`, givenName: 'User', surname: String(i + j), department: `Dept ${(i + j) % 50}`, mail: `user${i + j}@${d}` },
      }));
      await agent.sendBatch(`seed-${randomUUID()}`, { epoch: lease.epoch, operations });
      if (i % 20000 === 0) log(`  ${kind}: seeded ${i}/${seeded} users`);
    }

    log(`  ${kind}: ${creates} creates through SCIM`);
    // 2. Creates through SCIM, and raw single-row INSERTs into a scratch copy of the table.
    const created = await timed(creates, async (i) => {
      await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `scim${i}@${d}`, displayName: `Scim ${i}`, name: { givenName: 'Scim', familyName: String(i) }, emails: [{ value: `scim${i}@${d}`, type: 'work' }] });
    });
    await store.query('CREATE TABLE raw_bench (LIKE directory_objects INCLUDING ALL)');
    const rawCreated = await timed(creates, async (i) => {
      const upn = `raw${i}@${d}`;
      await store.query(`INSERT INTO raw_bench (id, tenant_id, object_type, upn, display_name, attributes, source, change_seq) VALUES ($1, $2, 'user', $3, $4, $5::jsonb, 'cloud', $6)`,
        [randomUUID(), tenant.tenantId, upn, `Raw ${i}`, { userPrincipalName: upn, displayName: `Raw ${i}` }, i]);
    });
    lines.push(`${kind.padEnd(8)} creates          SCIM POST /Users ${rate(creates, created.seconds)}   raw INSERT ${rate(creates, rawCreated.seconds)}   (p50 ${ms(pct(created.latencies, 0.5))}, p95 ${ms(pct(created.latencies, 0.95))})`);

    log(`  ${kind}: reads`);
    // 3. Reads by id.
    const { rows: sample } = await store.query<{ id: string; upn: string }>(`SELECT id, upn FROM directory_objects WHERE tenant_id = $1 AND object_type = 'user' ORDER BY random() LIMIT ${reads}`, [tenant.tenantId]);
    const read = await timed(sample.length, async (i) => { await scim('GET', `/Users/${sample[i]!.id}`); });
    const rawRead = await timed(sample.length, async (i) => { await store.query('SELECT * FROM directory_objects WHERE tenant_id = $1 AND id = $2', [tenant.tenantId, sample[i]!.id]); });
    lines.push(`${kind.padEnd(8)} reads            SCIM GET /Users/{id} ${rate(sample.length, read.seconds)}   raw SELECT by id ${rate(sample.length, rawRead.seconds)}   (p50 ${ms(pct(read.latencies, 0.5))})`);

    log(`  ${kind}: filtered queries`);
    // 4. Filtered queries: userName eq (what provisioning clients send before each create), and a prefix search.
    const filtered = await timed(sample.length, async (i) => {
      const body = await scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${sample[i]!.upn.toUpperCase()}"`)}`);
      if (body.totalResults !== 1) throw new Error(`userName eq ${sample[i]!.upn}: ${body.totalResults} results`);
    });
    const rawFiltered = await timed(sample.length, async (i) => { await store.query(`SELECT * FROM directory_objects WHERE tenant_id = $1 AND object_type = 'user' AND deleted_at IS NULL AND upn IS NOT NULL AND lower(upn) = lower($2)`, [tenant.tenantId, sample[i]!.upn]); });
    lines.push(`${kind.padEnd(8)} filtered queries SCIM userName eq  ${rate(sample.length, filtered.seconds)}   raw SELECT lower(upn) ${rate(sample.length, rawFiltered.seconds)}   (p50 ${ms(pct(filtered.latencies, 0.5))})`);
    const prefixes = 500;
    const prefix = await timed(prefixes, async (i) => { await scim('GET', `/Users?filter=${encodeURIComponent(`displayName sw "User ${i}" and emails.value ew "@${d}"`)}&count=10&sortBy=userName`); });
    lines.push(`${kind.padEnd(8)} filtered queries SCIM displayName sw … and emails.value ew …, sorted, count 10: ${rate(prefixes, prefix.seconds)} (p50 ${ms(pct(prefix.latencies, 0.5))})`);

    // 5. A group of `groupSize` members (contacts inserted with SQL) and a group of 10.
    log(`  ${kind}: inserting ${groupSize} contacts and their memberships`);
    const big = await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Everyone' });
    const small = await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Ten', members: sample.slice(0, 10).map((u) => ({ value: u.id })) });
    const setupStarted = performance.now();
    await store.transaction(async (tx) => {
      const { rows } = await tx.query<{ change_seq: string }>('SELECT change_seq FROM tenants WHERE id = $1 FOR UPDATE', [tenant.tenantId]);
      const base = Number(rows[0]!.change_seq);
      await tx.query(`INSERT INTO directory_objects (id, tenant_id, object_type, display_name, mail, attributes, source, change_seq)
        SELECT gen_random_uuid(), $1, 'contact', 'Contact ' || i, 'c' || i || '@example.org', jsonb_build_object('displayName', 'Contact ' || i, 'mail', 'c' || i || '@example.org'), 'cloud', $2 + i
          FROM generate_series(1, $3::int) AS i`, [tenant.tenantId, base, groupSize]);
      await tx.query(`INSERT INTO memberships (tenant_id, group_id, member_id, removed, change_seq)
        SELECT $1, $2, id, false, change_seq + $3 FROM directory_objects WHERE tenant_id = $1 AND object_type = 'contact'`, [tenant.tenantId, big.id, groupSize]);
      await tx.query('UPDATE tenants SET change_seq = $2, object_count = object_count + $3 WHERE id = $1', [tenant.tenantId, base + 2 * groupSize, groupSize]);
    });
    if (kind === 'postgres') await store.query('ANALYZE');
    log(`  ${kind}: ${groupSize} members in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s`);

    const patchOp = (op: string, path: string, value?: unknown) => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op, path, ...(value !== undefined ? { value } : {}) }] });
    log(`  ${kind}: one-member changes`);
    const memberChanges = async (groupId: string) => {
      const add: number[] = [];
      const remove: number[] = [];
      for (let i = 0; i < changes; i++) {
        const member = sample[100 + i]!.id;
        let t0 = performance.now();
        await scim('PATCH', `/Groups/${groupId}`, patchOp('add', 'members', [{ value: member }]));
        add.push(performance.now() - t0);
        t0 = performance.now();
        await scim('PATCH', `/Groups/${groupId}`, patchOp('remove', `members[value eq "${member}"]`));
        remove.push(performance.now() - t0);
      }
      return { add, remove };
    };
    const onBig = await memberChanges(big.id);
    const onSmall = await memberChanges(small.id);
    const rawLink = await timed(changes, async (i) => {
      const member = sample[100 + i]!.id;
      // links are kept with removed = true for the change feed: the raw form of what a member change writes
      await store.query('INSERT INTO memberships (tenant_id, group_id, member_id, removed, change_seq) VALUES ($1, $2, $3, false, 0) ON CONFLICT (group_id, member_id) DO UPDATE SET removed = false', [tenant.tenantId, big.id, member]);
      await store.query('UPDATE memberships SET removed = true WHERE group_id = $1 AND member_id = $2', [big.id, member]);
    }, 1);
    const label = `${groupSize.toLocaleString('en-US')}-member group`;
    lines.push(`${kind.padEnd(8)} PATCH add one member     ${label}: p50 ${ms(pct(onBig.add, 0.5))} p95 ${ms(pct(onBig.add, 0.95))} | 10-member group: p50 ${ms(pct(onSmall.add, 0.5))} p95 ${ms(pct(onSmall.add, 0.95))}`);
    lines.push(`${kind.padEnd(8)} PATCH remove one member  ${label}: p50 ${ms(pct(onBig.remove, 0.5))} p95 ${ms(pct(onBig.remove, 0.95))} | 10-member group: p50 ${ms(pct(onSmall.remove, 0.5))} p95 ${ms(pct(onSmall.remove, 0.95))}   (raw upsert + removal of a link: ${ms(rawLink.seconds * 1000 / changes)})`);
    const firstPage = await timed(20, async () => { await scim('GET', `/Groups/${big.id}?membersCount=1000`); }, 1);
    const lean = await timed(20, async () => { await scim('GET', `/Groups/${big.id}?excludedAttributes=members`); }, 1);
    lines.push(`${kind.padEnd(8)} GET ${label}: first 1,000 members p50 ${ms(pct(firstPage.latencies, 0.5))} | excludedAttributes=members p50 ${ms(pct(lean.latencies, 0.5))}`);
  } finally {
    await t.close();
  }
  return lines;
}

const all: string[] = [];
for (const kind of kinds) all.push(...(await benchStore(kind)));
console.log(`SCIM on a tenant of ${totalUsers.toLocaleString('en-US')} users (${creates.toLocaleString('en-US')} created through SCIM), concurrency ${concurrency}, HTTPS on loopback`);
for (const l of all) console.log(l);
