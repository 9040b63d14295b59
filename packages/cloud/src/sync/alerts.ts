/**
 * Sync alerts a tenant's administrators see (GET /api/v1/sync/alerts). The
 * delete threshold: the agent reports a stopped export with the count and
 * a sample; an administrator allows the deletions (POST
 * /api/v1/sync/allow-deletes), the agent reads the allowance at its next
 * cycle, exports them, and clears the alert.
 */
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { lockoutPolicy, passThroughLockoutThreshold } from '../signin/lockout.ts';
import type { PendingDeletionsAnswer, PendingDeletionsReport } from '@skybridge/protocol';
import type { Store } from '../store/store.ts';
import { SkybridgeError } from '../http/problem.ts';

interface AlertRow {
  code: string;
  details: Record<string, unknown>;
  allowed: number;
  allowed_by: string | null;
  allowed_at: Date | string | null;
  raised_at: Date | string;
  updated_at: Date | string;
}

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

/** The agent's report: raise or refresh the alert; an allowance given earlier stands only while it still covers what is pending. */
export async function reportPendingDeletions(store: Store, tenantId: string, agentId: string, report: PendingDeletionsReport): Promise<PendingDeletionsAnswer> {
  const { rows } = await store.query<AlertRow>(
    `INSERT INTO sync_alerts (tenant_id, code, details) VALUES ($1, 'delete_threshold', $2)
     ON CONFLICT (tenant_id, code) DO UPDATE SET details = excluded.details, updated_at = now(),
       allowed = CASE WHEN sync_alerts.allowed >= ($3)::int THEN sync_alerts.allowed ELSE 0 END,
       allowed_by = CASE WHEN sync_alerts.allowed >= ($3)::int THEN sync_alerts.allowed_by END,
       allowed_at = CASE WHEN sync_alerts.allowed >= ($3)::int THEN sync_alerts.allowed_at END
     RETURNING code, details, allowed, allowed_by, allowed_at, raised_at, updated_at`,
    [tenantId, JSON.stringify({ ...report, agentId }), report.pending],
  );
  const r = rows[0]!;
  return { allowed: r.allowed, allowedBy: r.allowed_by, allowedAt: iso(r.allowed_at) };
}

export async function clearPendingDeletions(store: Store, tenantId: string): Promise<void> {
  await store.query(`DELETE FROM sync_alerts WHERE tenant_id = $1 AND code = 'delete_threshold'`, [tenantId]);
}

/** An administrator lets the pending deletions through (all of them, or up to `count`). */
export async function allowDeletes(store: Store, tenantId: string, actor: Actor, count?: number): Promise<{ allowed: number; pending: number }> {
  return store.transaction(async (tx) => {
    const { rows } = await tx.query<{ allowed: number; pending: number }>(
      `UPDATE sync_alerts SET allowed = coalesce($3::int, (details->>'pending')::int), allowed_by = $2, allowed_at = now(), updated_at = now()
        WHERE tenant_id = $1 AND code = 'delete_threshold'
        RETURNING allowed, (details->>'pending')::int AS pending`,
      [tenantId, actor.id, count ?? null],
    );
    if (!rows[0]) throw new SkybridgeError('invalid_request', 'no deletions are waiting: the delete threshold has not stopped an export of this tenant');
    await recordAudit(tx, tenantId, actor, { action: 'sync.allowDeletes', target: { type: 'syncAlert', id: 'delete_threshold' }, after: rows[0] });
    return rows[0];
  });
}

export async function listAlerts(store: Store, tenantId: string, connected: (agentId: string) => boolean = () => false) {
  return [...(await storedAlerts(store, tenantId)), ...(await agentAlerts(store, tenantId, connected)), ...(await lockoutAlert(store, tenantId)), ...(await passwordHashSyncAlert(store, tenantId))];
}

/** An agent is silent after this long without a heartbeat; synchronization has stopped after this long without a finished cycle. */
export const silenceMinutes = 15;
export const stoppedSyncMinutes = 120;

const alertShape = { pendingDeletions: null, deleteThreshold: null, sample: [], allowedDeletions: 0, allowedBy: null, allowedDateTime: null, updatedDateTime: null };

/**
 * What the agents' heartbeats say: an agent that went silent (no heartbeat
 * for 15 minutes and no open channel), and synchronization that stopped
 * (directory sync on, agents registered, no cycle finished for two hours).
 */
async function agentAlerts(store: Store, tenantId: string, connected: (agentId: string) => boolean) {
  const { rows } = await store.query<{ id: string; hostname: string; last_heartbeat_at: Date | string | null; registered_at: Date | string; finished: string | null; silent: boolean; dir_sync_enabled: boolean }>(
    `SELECT a.id, a.hostname, a.last_heartbeat_at, a.registered_at, a.health->'lastCycle'->>'finishedAt' AS finished,
            coalesce(a.last_heartbeat_at, a.registered_at) < now() - make_interval(mins => $2) AS silent, t.dir_sync_enabled
       FROM agents a JOIN tenants t ON t.id = a.tenant_id WHERE a.tenant_id = $1 ORDER BY a.registered_at, a.id`,
    [tenantId, silenceMinutes],
  );
  const out = [];
  for (const a of rows.filter((r) => r.silent && !connected(r.id))) {
    const since = iso(a.last_heartbeat_at);
    out.push({
      ...alertShape, code: 'agent_silent', agentId: a.id, raisedDateTime: since,
      message: `The agent on ${a.hostname} has not reported since ${since ?? 'it registered'}: check that its service runs and reaches the cloud, or remove it if it was retired.`,
    });
  }
  const lastFinished = rows.map((r) => (r.finished ? Date.parse(r.finished) : NaN)).filter((x) => !Number.isNaN(x)).sort((x, y) => y - x)[0];
  const oldestRegistration = rows.map((r) => new Date(r.registered_at).getTime()).sort((x, y) => x - y)[0];
  const stale = Date.now() - stoppedSyncMinutes * 60_000;
  if (rows.length && rows[0]!.dir_sync_enabled && (lastFinished === undefined ? oldestRegistration! < stale : lastFinished < stale)) {
    out.push({
      ...alertShape, code: 'sync_stopped', agentId: null, raisedDateTime: lastFinished === undefined ? null : new Date(lastFinished).toISOString(),
      message: `No synchronization cycle finished ${lastFinished === undefined ? 'since the agents registered' : `since ${new Date(lastFinished).toISOString()}`}: changes in Active Directory are not reaching the cloud. Run skybridge connect doctor on the agent.`,
    });
  }
  return out;
}

/** Password hash synchronization is stale after this long without a run (Azure AD Connect's heartbeat alert uses two hours too). */
export const staleHashSyncMinutes = 120;

/**
 * Password hash synchronization, from the agents' heartbeats: failing (the
 * latest run, of any agent, stopped on an error) or stale (on in the tenant,
 * agents registered, and no run reported for two hours).
 */
async function passwordHashSyncAlert(store: Store, tenantId: string) {
  const { rows: t } = await store.query<{ password_hash_sync: boolean }>('SELECT password_hash_sync FROM tenants WHERE id = $1', [tenantId]);
  if (!t[0]?.password_hash_sync) return [];
  const { rows } = await store.query<{ id: string; hostname: string; registered_at: Date | string; phs: { lastRunAt: string; ok: boolean; error?: string } | null }>(
    `SELECT id, hostname, registered_at, health->'passwordHashSync' AS phs FROM agents WHERE tenant_id = $1`, [tenantId],
  );
  if (!rows.length) return [];
  const shape = alertShape;
  const reports = rows.filter((r) => r.phs).map((r) => ({ ...r.phs!, agentId: r.id, hostname: r.hostname, at: Date.parse(r.phs!.lastRunAt) })).sort((a, b) => b.at - a.at);
  const latest = reports[0];
  const cutoff = Date.now() - staleHashSyncMinutes * 60_000;
  if (latest && !latest.ok) {
    return [{ ...shape, code: 'password_hash_sync_failing', agentId: latest.agentId, raisedDateTime: latest.lastRunAt,
      message: `Password hash synchronization failed on ${latest.hostname} at ${latest.lastRunAt}: ${latest.error ?? 'no reason given'}. Users keep their previous password in the cloud until it runs again; skybridge connect doctor on the agent checks its rights.` }];
  }
  const oldestRegistration = Math.min(...rows.map((r) => new Date(r.registered_at).getTime()));
  if (latest ? latest.at < cutoff : oldestRegistration < cutoff) {
    return [{ ...shape, code: 'password_hash_sync_stale', agentId: latest?.agentId ?? null, raisedDateTime: latest?.lastRunAt ?? null,
      message: `Password hash synchronization has not run ${latest ? `since ${latest.lastRunAt}` : 'since the agents registered'}: password changes in Active Directory are not reaching the cloud. Check that an agent runs with passwordHashSync.enabled.` }];
  }
  return [];
}

/**
 * Pass-through sign-ins and the domain's lockout: the cloud's smart lockout
 * for them is lowered below the domain's threshold; an administrator is told,
 * and warned when the domain locks so early that nothing can be below it.
 */
async function lockoutAlert(store: Store, tenantId: string) {
  const { rows } = await store.query<{ pass_through_auth: boolean }>('SELECT pass_through_auth FROM tenants WHERE id = $1', [tenantId]);
  if (!rows[0]?.pass_through_auth) return [];
  const { threshold, domainThreshold } = await passThroughLockoutThreshold(store, tenantId);
  if (domainThreshold === null || domainThreshold > lockoutPolicy.threshold) return [];
  return [{
    code: 'lockout_threshold',
    message: domainThreshold <= 1
      ? `Active Directory locks an account after ${domainThreshold} failed sign-in: every wrong password typed in the cloud locks the account on-premises. Raise the domain's lockout threshold.`
      : `Active Directory locks an account after ${domainThreshold} failed sign-ins, so smart lockout for pass-through sign-ins is lowered to ${threshold} from one address: the cloud stops a guesser before AD locks the user out.`,
    domainLockoutThreshold: domainThreshold,
    smartLockoutThreshold: threshold,
    pendingDeletions: null, deleteThreshold: null, sample: [], agentId: null, allowedDeletions: 0, allowedBy: null, allowedDateTime: null,
    raisedDateTime: null, updatedDateTime: null,
  }];
}

async function storedAlerts(store: Store, tenantId: string) {
  const { rows } = await store.query<AlertRow>(
    'SELECT code, details, allowed, allowed_by, allowed_at, raised_at, updated_at FROM sync_alerts WHERE tenant_id = $1 ORDER BY raised_at',
    [tenantId],
  );
  return rows.map((r) => {
    const d = r.details as { pending?: number; limit?: number; sample?: unknown[]; agentId?: string };
    return {
      code: r.code,
      message: r.code === 'delete_threshold'
        ? `The agent stopped an export that would delete ${d.pending} objects, more than its delete threshold (${d.limit}). Check why they left the scope; if the deletions are right, allow them.`
        : r.code,
      pendingDeletions: d.pending ?? null,
      deleteThreshold: d.limit ?? null,
      sample: d.sample ?? [],
      agentId: d.agentId ?? null,
      allowedDeletions: r.allowed,
      allowedBy: r.allowed_by,
      allowedDateTime: iso(r.allowed_at),
      raisedDateTime: iso(r.raised_at),
      updatedDateTime: iso(r.updated_at),
    };
  });
}
