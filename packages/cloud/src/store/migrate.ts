import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Store } from './store.ts';

const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The versioned migrations shipped with this build, in order: `NNN_name.sql`. */
export function loadMigrations(): Migration[] {
  return readdirSync(migrationsDir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f.replace(/\.sql$/, ''), sql: readFileSync(migrationsDir + f, 'utf8') }));
}

/**
 * Brings the schema up to date. Each migration runs in its own transaction
 * together with its bookkeeping row; on PostgreSQL an advisory lock makes
 * several cloud instances starting at once apply each migration exactly once.
 * A database newer than this build is refused rather than used.
 */
export async function migrate(store: Store): Promise<{ applied: string[]; version: number }> {
  const migrations = loadMigrations();
  const latest = migrations.at(-1)?.version ?? 0;
  const applied: string[] = [];
  await store.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  for (const m of migrations) {
    await store.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(5410001)');
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
      if (done.rowCount > 0) return;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.name);
    });
  }
  const { rows } = await store.query<{ v: number | null }>('SELECT max(version)::int AS v FROM schema_migrations');
  const version = rows[0]?.v ?? 0;
  if (version > latest) {
    throw new Error(`the database schema is version ${version}, newer than this build knows (${latest}): upgrade Skybridge Cloud before pointing it at this database`);
  }
  return { applied, version };
}
