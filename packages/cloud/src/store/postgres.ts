import pg from 'pg';
import type { Queryable, QueryResult, SqlValue, Store } from './store.ts';

// int8 (bigint) and numeric come back as strings by default; counters here fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/** The production store: a PostgreSQL server, through a connection pool. */
export async function openPostgresStore(url: string, options: { max?: number } = {}): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // An idle connection the server ends (a restart, an administrator's termination, a dropped database) is an
  // 'error' event on the pool; unhandled, it would bring the whole process down. The pool drops that
  // connection and opens a new one for the next query, which reports any lasting problem itself.
  pool.on('error', () => undefined);
  // Fail fast with a clear message when the server is not there.
  const probe = await pool.connect().catch((err: Error) => {
    throw new Error(`cannot connect to PostgreSQL at ${redact(url)}: ${err.message}`, { cause: err });
  });
  probe.release();

  const exec = async <R>(q: pg.Pool | pg.PoolClient, text: string, params?: readonly SqlValue[]): Promise<QueryResult<R>> => {
    const res = await q.query(text, params as unknown[] | undefined);
    return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
  };

  return {
    kind: 'postgres',
    query: (text, params) => exec(pool, text, params),
    exec: async (script) => void (await pool.query(script)),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const tx: Queryable = {
          query: (text, params) => exec(client, text, params),
          exec: async (script) => void (await client.query(script)),
        };
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/** Removes the password from a connection URL before it is shown anywhere. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid database URL>';
  }
}
