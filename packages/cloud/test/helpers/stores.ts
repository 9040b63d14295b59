import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The PostgreSQL server the test machine runs (trust auth); override with SKYBRIDGE_TEST_PG. */
export const adminPgUrl = process.env.SKYBRIDGE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export type StoreKind = 'pglite' | 'postgres';
/** Every cloud test runs against both stores. */
export const storeKinds: readonly StoreKind[] = ['pglite', 'postgres'];

export interface TestStore {
  kind: StoreKind;
  dataDir: string;
  databaseUrl: string | undefined;
  dispose(): Promise<void>;
}

/** A fresh, empty store of the given kind: a temporary data dir, plus a new database for PostgreSQL. */
export async function freshStore(kind: StoreKind): Promise<TestStore> {
  const dataDir = mkdtempSync(join(tmpdir(), 'skybridge-test-'));
  if (kind === 'pglite') {
    return { kind, dataDir, databaseUrl: undefined, dispose: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const name = `skybridge_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminPgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminPgUrl);
  url.pathname = `/${name}`;
  return {
    kind,
    dataDir,
    databaseUrl: url.toString(),
    async dispose() {
      const c = new pg.Client({ connectionString: adminPgUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
