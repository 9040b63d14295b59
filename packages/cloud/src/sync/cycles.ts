import type { HeartbeatRequest } from '@skybridge/protocol';
import type { Queryable } from '../store/store.ts';

/** How many reported cycles a tenant keeps (the admin center shows the newest). */
const kept = 500;

/** Keeps a cycle an agent reports in its heartbeat: one row per agent and start, updated as it finishes. */
export async function recordCycle(q: Queryable, tenantId: string, agentId: string, c: NonNullable<HeartbeatRequest['lastCycle']>): Promise<void> {
  const { rowCount } = await q.query(
    `INSERT INTO sync_cycles (tenant_id, agent_id, kind, started_at, finished_at, adds, updates, deletes, errors)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (tenant_id, agent_id, started_at) DO UPDATE SET finished_at = EXCLUDED.finished_at, adds = EXCLUDED.adds,
       updates = EXCLUDED.updates, deletes = EXCLUDED.deletes, errors = EXCLUDED.errors
     WHERE sync_cycles.finished_at IS DISTINCT FROM EXCLUDED.finished_at OR sync_cycles.errors <> EXCLUDED.errors`,
    [tenantId, agentId, c.kind, c.startedAt, c.finishedAt, c.adds, c.updates, c.deletes, c.errors],
  );
  if (rowCount === 0) return;
  await q.query(
    `DELETE FROM sync_cycles WHERE tenant_id = $1 AND started_at < (SELECT started_at FROM sync_cycles WHERE tenant_id = $1 ORDER BY started_at DESC OFFSET ${kept - 1} LIMIT 1)`,
    [tenantId],
  );
}

export interface SyncCycle {
  agentId: string;
  agentHostname: string | null;
  kind: string;
  startedDateTime: string;
  finishedDateTime: string | null;
  adds: number;
  updates: number;
  deletes: number;
  errors: number;
}

/** The cycles started before `before` (all when null), newest first: `limit` of them, plus one to tell whether more follow. */
export async function listCycles(q: Queryable, tenantId: string, before: string | null, limit: number): Promise<SyncCycle[]> {
  const { rows } = await q.query<{ agent_id: string; hostname: string | null; kind: string; started_at: Date | string; finished_at: Date | string | null; adds: number; updates: number; deletes: number; errors: number }>(
    `SELECT c.agent_id, a.hostname, c.kind, c.started_at, c.finished_at, c.adds, c.updates, c.deletes, c.errors
       FROM sync_cycles c LEFT JOIN agents a ON a.id = c.agent_id
      WHERE c.tenant_id = $1 AND ($2::timestamptz IS NULL OR c.started_at < $2)
      ORDER BY c.started_at DESC LIMIT $3`,
    [tenantId, before, limit + 1],
  );
  const iso = (v: Date | string) => new Date(v).toISOString();
  return rows.map((r) => ({
    agentId: r.agent_id, agentHostname: r.hostname, kind: r.kind, startedDateTime: iso(r.started_at), finishedDateTime: r.finished_at ? iso(r.finished_at) : null,
    adds: r.adds, updates: r.updates, deletes: r.deletes, errors: r.errors,
  }));
}
