/**
 * The proxy address index (object_proxy_addresses) is kept by the triggers
 * of directory_objects: it holds every live object's addresses, lower-cased,
 * once each, and nothing of a deleted object (migrations 006, 014 and 016).
 * The duplicate-address checks of the sync and of SCIM read it, so a stale
 * row would refuse an address nobody holds.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openStore, type Store } from '@skybridge/cloud';
import { freshStore, storeKinds } from './helpers/stores.ts';

async function index(store: Store): Promise<string[]> {
  const { rows } = await store.query<{ entry: string }>(
    `SELECT t.name || ' ' || coalesce(o.immutable_id, '(gone)') || ' ' || p.address AS entry
       FROM object_proxy_addresses p JOIN tenants t ON t.id = p.tenant_id LEFT JOIN directory_objects o ON o.id = p.object_id
      ORDER BY 1`,
  );
  return rows.map((r) => r.entry);
}

async function create(store: Store, tenant: string, rows: { immutableId: string; proxies: unknown }[]): Promise<void> {
  // one statement for several objects, as a sync batch inserts them
  await store.query(
    `INSERT INTO directory_objects (id, tenant_id, object_type, immutable_id, attributes, source, change_seq)
     SELECT gen_random_uuid(), $1, 'user', r.immutable_id, jsonb_build_object('proxyAddresses', r.proxies), 'onprem', 1
       FROM jsonb_to_recordset($2::jsonb) AS r(immutable_id text, proxies jsonb)`,
    [tenant, JSON.stringify(rows.map((r) => ({ immutable_id: r.immutableId, proxies: r.proxies })))],
  );
}

for (const kind of storeKinds) {
  describe(`proxy address index (${kind})`, () => {
    test('follows objects through creation, change, soft and hard deletion, and the deletion of their tenant', async () => {
      const s = await freshStore(kind);
      const store = await openStore({ dataDir: s.dataDir, databaseUrl: s.databaseUrl });
      try {
        const [a, b] = [randomUUID(), randomUUID()];
        await store.query(`INSERT INTO tenants (id, name, initial_domain) VALUES ($1, 'a', 'a.example'), ($2, 'b', 'b.example')`, [a, b]);
        await create(store, a, [
          { immutableId: 'one', proxies: ['SMTP:One@a.example', 'smtp:one@alias.a.example', 'smtp:ONE@a.example'] },
          { immutableId: 'two', proxies: ['SMTP:two@a.example'] },
          { immutableId: 'none', proxies: 'not a list' },
        ]);
        await create(store, b, [{ immutableId: 'three', proxies: ['SMTP:three@b.example'] }]);
        assert.deepEqual(await index(store), [
          'a one smtp:one@a.example',
          'a one smtp:one@alias.a.example',
          'a two smtp:two@a.example',
          'b three smtp:three@b.example',
        ], 'lower-cased, each address once per object; a value that is not a list indexes nothing');

        await store.query(`UPDATE directory_objects SET attributes = jsonb_build_object('proxyAddresses', jsonb_build_array('SMTP:Two@new.a.example')) WHERE immutable_id = 'two'`);
        assert.deepEqual((await index(store)).filter((e) => e.startsWith('a two')), ['a two smtp:two@new.a.example'], 'a change replaces the addresses');

        await store.query(`UPDATE directory_objects SET deleted_at = now() WHERE immutable_id = 'two'`);
        assert.deepEqual((await index(store)).filter((e) => e.startsWith('a two')), [], 'a soft-deleted object gives its addresses up');

        await store.query(`DELETE FROM directory_objects WHERE immutable_id = 'one'`);
        assert.deepEqual(await index(store), ['b three smtp:three@b.example'], 'a hard-deleted object leaves no row behind');

        await create(store, a, [{ immutableId: 'four', proxies: ['smtp:four@a.example'] }]);
        await store.query('DELETE FROM tenants WHERE id = $1', [a]);
        assert.deepEqual(await index(store), ['b three smtp:three@b.example'], "a deleted tenant's objects leave no row behind; another tenant's stay");
      } finally {
        await store.close();
        await s.dispose();
      }
    });
  });
}
