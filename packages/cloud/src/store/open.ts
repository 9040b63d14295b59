import { join } from 'node:path';
import { openPgliteStore } from './pglite.ts';
import { openPostgresStore } from './postgres.ts';
import { migrate } from './migrate.ts';
import type { Store } from './store.ts';

export interface StoreOptions {
  /** PostgreSQL connection URL; without it the embedded PGlite store is used. */
  databaseUrl?: string | undefined;
  /** Data directory (the PGlite database lives in `<dataDir>/db`). */
  dataDir?: string | undefined;
  /** In-memory PGlite, for tests that need no persistence. */
  memory?: boolean;
}

/** Opens the configured store and applies pending migrations. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const store = options.databaseUrl
    ? await openPostgresStore(options.databaseUrl)
    : await openPgliteStore(options.memory ? undefined : join(requireDir(options.dataDir), 'db'));
  try {
    await migrate(store);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

function requireDir(dir: string | undefined): string {
  if (!dir) throw new Error('a data directory is required for the embedded store: pass --data-dir DIR or --database-url URL');
  return dir;
}
