import type { Queryable } from '../store/store.ts';

/**
 * Smart lockout. Failed sign-ins are counted per user name and source
 * address: after `threshold` failures that source is locked out for that
 * user, for `baseSeconds`, doubling with each further lockout (at most an
 * hour). A success from the source resets it. Someone guessing passwords
 * from one place therefore locks only that place out: the user signing in
 * from elsewhere is not affected. While locked, no password is checked, so
 * guessing gains nothing.
 */
export const lockoutPolicy = { threshold: 10, baseSeconds: 60, maxSeconds: 3600 } as const;

export interface LockoutState { locked: boolean; retryAfterSeconds: number }

export async function lockoutState(q: Queryable, tenantId: string, userKey: string, source: string): Promise<LockoutState> {
  const { rows } = await q.query<{ wait: number | string | null }>(
    `SELECT ceil(extract(epoch FROM locked_until - now())) AS wait FROM sign_in_lockouts
      WHERE tenant_id = $1 AND user_key = $2 AND source = $3 AND locked_until > now()`,
    [tenantId, userKey, source],
  );
  const wait = rows[0]?.wait == null ? 0 : Number(rows[0].wait);
  return { locked: wait > 0, retryAfterSeconds: Math.max(0, wait) };
}

/**
 * The smart lockout threshold for pass-through sign-ins: below the lowest
 * lockout threshold the tenant's agents report for their domains, so that
 * the cloud stops a guesser before AD locks the user out. The policy's own
 * threshold when no domain locks accounts.
 */
export async function passThroughLockoutThreshold(q: Queryable, tenantId: string): Promise<{ threshold: number; domainThreshold: number | null }> {
  const { rows } = await q.query<{ t: number | null }>(
    `SELECT min((health->'domainPolicy'->>'lockoutThreshold')::int) AS t FROM agents
      WHERE tenant_id = $1 AND (health->'domainPolicy'->>'lockoutThreshold')::int > 0`,
    [tenantId],
  );
  const domain = rows[0]?.t ?? null;
  return { threshold: domain === null ? lockoutPolicy.threshold : Math.max(1, Math.min(lockoutPolicy.threshold, domain - 1)), domainThreshold: domain };
}

/** Counts a failure; returns the state after it (locked when this failure reached the threshold). */
export async function recordFailure(q: Queryable, tenantId: string, userKey: string, source: string, threshold: number = lockoutPolicy.threshold): Promise<LockoutState> {
  const { rows } = await q.query<{ failures: number; lockouts: number }>(
    `INSERT INTO sign_in_lockouts (tenant_id, user_key, source, failures) VALUES ($1, $2, $3, 1)
     ON CONFLICT (tenant_id, user_key, source) DO UPDATE SET failures = sign_in_lockouts.failures + 1, updated_at = now()
     RETURNING failures, lockouts`,
    [tenantId, userKey, source],
  );
  const { failures, lockouts } = rows[0]!;
  if (failures < threshold) return { locked: false, retryAfterSeconds: 0 };
  const seconds = Math.min(lockoutPolicy.maxSeconds, lockoutPolicy.baseSeconds * 2 ** lockouts);
  await q.query(
    `UPDATE sign_in_lockouts SET failures = 0, lockouts = lockouts + 1, locked_until = now() + make_interval(secs => $4), updated_at = now()
      WHERE tenant_id = $1 AND user_key = $2 AND source = $3`,
    [tenantId, userKey, source, seconds],
  );
  return { locked: true, retryAfterSeconds: seconds };
}

export async function recordSuccess(q: Queryable, tenantId: string, userKey: string, source: string): Promise<void> {
  await q.query('DELETE FROM sign_in_lockouts WHERE tenant_id = $1 AND user_key = $2 AND source = $3', [tenantId, userKey, source]);
}
