/**
 * The storage contract of the cloud: plain SQL against PostgreSQL, either a
 * server (pg) or the embedded PGlite. Both speak the same dialect, so there is
 * one schema and one set of queries.
 */
export type SqlValue = string | number | boolean | null | Date | Buffer | Uint8Array | bigint | readonly unknown[] | Record<string, unknown>;

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly SqlValue[]): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export interface Store extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction: all of its writes land, or none do. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
