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

  // PGlite has no autovacuum, so nothing refreshes the planner's statistics: without them, lookups that
  // an index answers become scans of whole tables as they grow. Rows written are counted, and the tables
  // are analyzed (between statements) once a tenth of what they held was written, at most once a minute.
  let written = 0;
  let analyzedAt = 0;
  let analyzedRows = 1000;
  const exec = async <R>(q: Queryable | PGlite, text: string, params?: readonly SqlValue[]): Promise<QueryResult<R>> => {
    const res = await (q as PGlite).query<R>(text, params as unknown[] | undefined);
    if (res.affectedRows) written += res.affectedRows;
    return { rows: res.rows, rowCount: res.rows.length > 0 ? res.rows.length : (res.affectedRows ?? 0) };
  };
  const maybeAnalyze = async () => {
    if (written < analyzedRows / 10 || Date.now() - analyzedAt < 60_000) return;
    written = 0;
    analyzedAt = Date.now();
    await db.exec('ANALYZE');
    const { rows } = await db.query<{ n: number }>(`SELECT coalesce(sum(reltuples), 0)::bigint AS n FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace`);
    analyzedRows = Math.max(1000, Number(rows[0]?.n ?? 0));
  };
  const afterWrite = <T>(result: T): Promise<T> => maybeAnalyze().then(() => result, () => result);

  return {
    kind: 'pglite',
    query: <R>(text: string, params?: readonly SqlValue[]) => mutex.run(() => exec<R>(db, text, params).then(afterWrite)),
    exec: (script) => mutex.run(async () => void (await db.exec(script))),
    transaction: (fn) =>
      mutex.run(() =>
        db.transaction((tx) =>
          fn({
            query: (text, params) => exec(tx as unknown as PGlite, text, params),
            exec: async (script) => void (await tx.exec(script)),
          }),
        ).then(afterWrite),
      ),
    close: () => mutex.run(() => db.close()),
  };
}
