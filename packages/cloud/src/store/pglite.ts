import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { Queryable, QueryResult, SqlValue, Store } from './store.ts';
import { Mutex } from './mutex.ts';

/**
 * The embedded store: PGlite (PostgreSQL compiled to WebAssembly) in a data
 * directory. It is single-connection, so every statement and transaction is
 * serialized here: a query never lands inside another caller's transaction.
 * The directory itself is guarded against a second process by DataDirLock.
 */
export async function openPgliteStore(dataDir: string | undefined): Promise<Store> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  const mutex = new Mutex();

  const exec = async <R>(q: Queryable | PGlite, text: string, params?: readonly SqlValue[]): Promise<QueryResult<R>> => {
    const res = await (q as PGlite).query<R>(text, params as unknown[] | undefined);
    return { rows: res.rows, rowCount: res.rows.length > 0 ? res.rows.length : (res.affectedRows ?? 0) };
  };

  return {
    kind: 'pglite',
    query: (text, params) => mutex.run(() => exec(db, text, params)),
    exec: (script) => mutex.run(async () => void (await db.exec(script))),
    transaction: (fn) =>
      mutex.run(() =>
        db.transaction((tx) =>
          fn({
            query: (text, params) => exec(tx as unknown as PGlite, text, params),
            exec: async (script) => void (await tx.exec(script)),
          }),
        ),
      ),
    close: () => mutex.run(() => db.close()),
  };
}
