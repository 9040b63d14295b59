import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '@skybridge/cloud';
import { loadMigrations, migrate } from '../src/store/migrate.ts';
import pg from 'pg';
import { adminPgUrl, freshStore, storeKinds } from './helpers/stores.ts';

for (const kind of storeKinds) {
  describe(`store (${kind})`, () => {
    test('migrations apply once, in order, and a second start applies nothing', async () => {
      const s = await freshStore(kind);
      try {
        const store = await openStore({ dataDir: s.dataDir, databaseUrl: s.databaseUrl });
        const { rows } = await store.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
        assert.deepEqual(rows.map((r) => r.version), loadMigrations().map((m) => m.version));
        assert.deepEqual((await migrate(store)).applied, []);
        await store.close();
        const reopened = await openStore({ dataDir: s.dataDir, databaseUrl: s.databaseUrl });
        const tables = await reopened.query<{ n: number }>(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'directory_objects'`);
        assert.equal(tables.rows[0]!.n, 1, 'the data outlives the process');
        await reopened.close();
      } finally {
        await s.dispose();
      }
    });

    if (kind === 'postgres') {
      test('an idle connection the server ends (restart, termination) neither crashes the process nor fails the next query', async () => {
        const s = await freshStore(kind);
        const store = await openStore({ dataDir: s.dataDir, databaseUrl: s.databaseUrl });
        try {
          await store.query('SELECT 1'); // leaves an idle connection in the pool
          const admin = new pg.Client({ connectionString: adminPgUrl });
          await admin.connect();
          const { rows } = await admin.query<{ n: number }>('SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [new URL(s.databaseUrl!).pathname.slice(1)]);
          await admin.end();
          assert.ok(rows[0]!.n >= 1, 'a pooled connection was terminated');
          await new Promise((r) => setTimeout(r, 200)); // the termination reaches the idle client
          const again = await store.query<{ ok: number }>('SELECT 1 AS ok');
          assert.equal(again.rows[0]!.ok, 1);
        } finally {
          await store.close();
          await s.dispose();
        }
      });
    }

    test('a database newer than this build is refused', async () => {
      const s = await freshStore(kind);
      try {
        const store = await openStore({ dataDir: s.dataDir, databaseUrl: s.databaseUrl });
        await store.query(`INSERT INTO schema_migrations (version, name) VALUES (999, '999_future')`);
        await store.close();
        await assert.rejects(openStore({ dataDir: s.dataDir, databaseUrl: s.databaseUrl }), /newer than this build/);
      } finally {
        await s.dispose();
      }
    });

    test('a transaction lands whole or not at all', async () => {
      const s = await freshStore(kind);
      const store = await openStore({ dataDir: s.dataDir, databaseUrl: s.databaseUrl });
      try {
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.query(`INSERT INTO deployment_settings (name, value) VALUES ('a', '1')`);
            await tx.query(`INSERT INTO deployment_settings (name, value) VALUES ('a', '2')`); // duplicate key
          }),
        );
        const { rowCount } = await store.query(`SELECT 1 FROM deployment_settings WHERE name = 'a'`);
        assert.equal(rowCount, 0);
        // concurrent statements outside the transaction are not swallowed by it (PGlite serializes them)
        await Promise.all([
          store.transaction(async (tx) => {
            await tx.query(`INSERT INTO deployment_settings (name, value) VALUES ('b', '1')`);
            throw new Error('roll back');
          }).catch(() => undefined),
          store.query(`INSERT INTO deployment_settings (name, value) VALUES ('c', '1')`),
        ]);
        const names = await store.query<{ name: string }>('SELECT name FROM deployment_settings ORDER BY name');
        assert.deepEqual(names.rows.map((r) => r.name), ['c']);
      } finally {
        await store.close();
        await s.dispose();
      }
    });
  });
}

test('the PostgreSQL store explains an unreachable server', async () => {
  await assert.rejects(openStore({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none' }), /cannot connect to PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/none/);
});
