/**
 * Every sync batch looks up who holds its users' UPNs and proxy addresses.
 * Those lookups must probe indexes, not read the table: a scan per batch
 * makes an initial sync of N objects cost N² (each of the N/500 batches
 * reads everything synced before it). The plans are the product's own
 * statements, explained on each store over 20,000 synchronized users.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openStore, type Store } from '@skybridge/cloud';
import { upnOwnersSql } from '../src/sync/apply-operation.ts';
import { proxyHoldersSql } from '../src/sync/quarantine.ts';
import { freshStore, storeKinds } from './helpers/stores.ts';

const users = 20_000;

/** The plan's node types and relations, flattened. */
async function planNodes(store: Store, sql: string, params: unknown[]): Promise<string[]> {
  const { rows } = await store.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params as never);
  const raw = rows[0]!['QUERY PLAN'];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as [{ Plan: PlanNode }];
  const out: string[] = [];
  const walk = (n: PlanNode) => {
    out.push(`${n['Node Type']}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}${n['Index Name'] ? ` using ${n['Index Name']}` : ''}`);
    for (const c of n.Plans ?? []) walk(c);
  };
  walk(plan[0].Plan);
  return out;
}
interface PlanNode { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; Plans?: PlanNode[] }

for (const kind of storeKinds) {
  describe(`sync batch lookups (${kind})`, () => {
    test(`the holders of a batch's UPNs and proxy addresses are found by index probes over ${users.toLocaleString('en-US')} users`, async () => {
      const s = await freshStore(kind);
      const store = await openStore({ dataDir: s.dataDir, databaseUrl: s.databaseUrl });
      try {
        const tenant = randomUUID();
        await store.query(`INSERT INTO tenants (id, name, initial_domain) VALUES ($1, 'plans', 'plans.example')`, [tenant]);
        await store.query(
          `INSERT INTO directory_objects (id, tenant_id, object_type, immutable_id, upn, mail, attributes, source, change_seq)
           SELECT gen_random_uuid(), $1, 'user', 'id' || i, 'User' || i || '@plans.example', 'user' || i || '@plans.example',
                  jsonb_build_object('userPrincipalName', 'User' || i || '@plans.example',
                                     'proxyAddresses', jsonb_build_array('SMTP:user' || i || '@plans.example', 'smtp:u' || i || '@alias.plans.example', 'smtp:x' || i || '@old.plans.example')),
                  'onprem', i
             FROM generate_series(1, $2::int) AS i`,
          [tenant, users],
        );
        await store.query('ANALYZE directory_objects');
        await store.query('ANALYZE object_proxy_addresses');
        // a batch of 500: half already synchronized, half new
        const upns = Array.from({ length: 500 }, (_, j) => `user${users - 249 + j}@plans.example`);
        const proxies = upns.flatMap((u, j) => [`smtp:${u}`, `smtp:u${users - 249 + j}@alias.plans.example`, `smtp:x${users - 249 + j}@old.plans.example`]);

        const upnPlan = await planNodes(store, upnOwnersSql, [tenant, upns]);
        assert.ok(!upnPlan.some((n) => n.startsWith('Seq Scan')), `the UPN lookup reads the table: ${upnPlan.join(' > ')}`);
        const proxyPlan = await planNodes(store, proxyHoldersSql, [tenant, proxies]);
        assert.ok(!proxyPlan.some((n) => n.startsWith('Seq Scan')), `the proxy address lookup reads the table: ${proxyPlan.join(' > ')}`);

        // and they answer: the 250 synchronized users hold their UPNs and addresses
        const owners = await store.query<{ key: string }>(upnOwnersSql, [tenant, upns]);
        assert.equal(owners.rows.length, 250);
        const holders = await store.query<{ address: string }>(proxyHoldersSql, [tenant, proxies]);
        assert.equal(holders.rows.length, 750);
        assert.ok(holders.rows.every((r) => proxies.includes(r.address)));
      } finally {
        await store.close();
        await s.dispose();
      }
    });
  });
}
