/**
 * Password hash synchronization, the agent's end (brief §2): for each
 * exported user whose password changed since its hash was last sent (its
 * pwdLastSet moved) — or every exported user on a full run — read the NT
 * hash from a domain controller over MS-DRSR, derive the versioned cloud
 * hash (@skybridge/protocol password-hash.ts) and send only that, in
 * batches, as the lease holder. NT hashes live in memory for one page of
 * users and are never written to disk or to a log.
 */
import type { StatementSync } from 'node:sqlite';
import { maxPasswordHashes, passwordHashFromNtHashAsync, type PasswordHashBatchRequest } from '@skybridge/protocol';
import { ConnectError } from '../errors.ts';
import type { ConnectorSpace } from '../space/connector-space.ts';
import { CloudApiError } from '../cloud/http.ts';
import type { CloudClient } from '../cloud/cloud-client.ts';

export interface HashReadRequest {
  guid: string;
  dn: string;
}

/** An NT hash, null for an account without a password, or the error for this one object. */
export type HashReadResult = { guid: string; ntHash: Buffer | null } | { guid: string; error: ConnectError };

/** Where NT hashes come from: a domain controller over MS-DRSR (drsr/drs-hash-source.ts). */
export interface HashSource {
  /** These users' hashes, one request each (quick for a few). */
  read(users: HashReadRequest[]): Promise<HashReadResult[]>;
  /** Every account's hash in a naming context, page by page, as a DC replicates it (quick for many). */
  readAll?(namingContext: string, onPage: (page: (HashReadResult & { dn: string })[]) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export interface PasswordSyncSummary {
  /** users whose hash was due */
  candidates: number;
  /** hashes the cloud stored (or cleared) */
  stored: number;
  /** users the cloud does not hold yet: retried at the next run */
  notInCloud: number;
  /** users whose hash could not be read or was refused: retried at the next run */
  errors: number;
  /** replication pages read (the bulk path); 0 when users were read one by one */
  replicationPages: number;
  milliseconds: number;
}

export interface PasswordHashSyncOptions {
  /** users per DRSR page and cloud batch (default 500, at most the contract's 1,000) */
  pageSize?: number;
  /** from this many users due, read the whole domain in replication pages rather than user by user (default 1,000) */
  bulkFrom?: number;
  /** progress, after each page */
  onPage?: (summary: PasswordSyncSummary) => void;
}

interface Run {
  startedAt: number;
  /** when the lease was last acquired or renewed */
  leasedAt: number;
  summary: PasswordSyncSummary;
  source: HashSource | undefined;
  epoch: number | undefined;
}

/** The domain naming context of an object: its DC= components. */
export const namingContextOf = (dn: string): string => dn.split(/,(?=DC=)/i).slice(1).join(',');

interface Candidate {
  guid: string;
  immutable_id: string;
  dn: string;
  pls: string | null;
}

/** The lease's length, as the exporter's (SKYBRIDGE_SYNC_LEASE_SECONDS, default 45). */
const leaseSeconds = Math.min(900, Math.max(10, Number(process.env.SKYBRIDGE_SYNC_LEASE_SECONDS) || 45));

/** Errors that say nothing about one object but about the whole run: stop rather than mark every user. */
const fatal = new Set(['drsr_auth_failed', 'ad_missing_rights', 'ad_unreachable', 'ad_timeout', 'ad_connection_lost', 'drsr_protocol_error', 'drsr_integrity_failed']);

/** How many exported users have a synchronized hash, how many failed, and when the last one went. */
export function passwordSyncStatus(space: ConnectorSpace): { users: number; synced: number; errors: number; lastSyncedAt: string | null } {
  const r = space.db.prepare(`SELECT count(*) AS users, count(p.synced_at) AS synced, count(p.error_code) AS errors, max(p.synced_at) AS last
    FROM exports e LEFT JOIN password_sync p ON p.guid = e.guid WHERE e.type = 'user'`).get() as { users: number; synced: number; errors: number; last: string | null };
  return { users: r.users, synced: r.synced, errors: r.errors, lastSyncedAt: r.last };
}

/** The users whose hash could not be synchronized, with the reason (the first 1,000 by DN). */
export function passwordSyncErrors(space: ConnectorSpace): { guid: string; dn: string; code: string; message: string }[] {
  return space.db.prepare(`SELECT p.guid, o.dn, p.error_code AS code, p.error AS message FROM password_sync p JOIN objects o ON o.guid = p.guid
    WHERE p.error_code IS NOT NULL ORDER BY o.dn LIMIT 1000`).all() as { guid: string; dn: string; code: string; message: string }[];
}

export class PasswordHashSync {
  readonly #space: ConnectorSpace;
  readonly #cloud: CloudClient;
  readonly #openSource: () => Promise<HashSource>;
  readonly #options: PasswordHashSyncOptions;
  readonly #s: { candidates: StatementSync; count: StatementSync; one: StatementSync; synced: StatementSync; failed: StatementSync };

  constructor(space: ConnectorSpace, cloud: CloudClient, openSource: () => Promise<HashSource>, options: PasswordHashSyncOptions = {}) {
    this.#space = space;
    this.#cloud = cloud;
    this.#openSource = openSource;
    this.#options = options;
    const p = (sql: string) => space.db.prepare(sql);
    // due: an exported live user, on a full run, or never sent, or failed, or whose pwdLastSet moved since
    const from = `FROM exports e JOIN objects o ON o.guid = e.guid LEFT JOIN password_sync p ON p.guid = e.guid
      WHERE e.type = 'user' AND o.deleted = 0`;
    const due = `(? OR p.guid IS NULL OR p.error_code IS NOT NULL OR p.pwd_last_set IS NOT json_extract(o.attrs, '$.pwdLastSet[0]'))`;
    const columns = `e.guid, e.immutable_id, o.dn, json_extract(o.attrs, '$.pwdLastSet[0]') AS pls`;
    this.#s = {
      candidates: p(`SELECT ${columns} ${from} AND e.guid > ? AND ${due} ORDER BY e.guid LIMIT ?`),
      count: p(`SELECT count(*) AS n, min(o.dn) AS dn ${from} AND ${due}`),
      one: p(`SELECT ${columns} ${from} AND e.guid = ? AND ${due}`),
      synced: p(`INSERT INTO password_sync (guid, pwd_last_set, synced_at, error_code, error) VALUES (?, ?, ?, NULL, NULL)
        ON CONFLICT (guid) DO UPDATE SET pwd_last_set = excluded.pwd_last_set, synced_at = excluded.synced_at, error_code = NULL, error = NULL`),
      failed: p(`INSERT INTO password_sync (guid, pwd_last_set, synced_at, error_code, error) VALUES (?, NULL, NULL, ?, ?)
        ON CONFLICT (guid) DO UPDATE SET error_code = excluded.error_code, error = excluded.error`),
    };
  }

  async run(options: { full?: boolean } = {}): Promise<PasswordSyncSummary> {
    const started = Date.now();
    const pageSize = Math.min(this.#options.pageSize ?? 500, maxPasswordHashes);
    const summary: PasswordSyncSummary = { candidates: 0, stored: 0, notInCloud: 0, errors: 0, replicationPages: 0, milliseconds: 0 };
    const run: Run = { startedAt: started, leasedAt: 0, summary, source: undefined, epoch: undefined };
    let full = options.full ? 1 : 0;
    try {
      const { n: due, dn: someDn } = this.#s.count.get(full) as { n: number; dn: string | null };
      if (due >= (this.#options.bulkFrom ?? 1000) && someDn) {
        const source = await this.#open(run);
        if (source.readAll) {
          // many users due (the first sync, or --full): the whole domain in replication pages
          await source.readAll(namingContextOf(someDn), async (page) => {
            summary.replicationPages += 1;
            const due = page.flatMap((r) => {
              const c = this.#s.one.get(r.guid, full) as Candidate | undefined;
              return c ? [{ c, r }] : [];
            });
            if (due.length) await this.#deliver(run, due);
          });
          // what the pages did not cover (a user the DC had not replicated yet) goes one by one below
          full = 0;
        }
      }
      for (let after = ''; ;) {
        const page = this.#s.candidates.all(after, full, pageSize) as unknown as Candidate[];
        if (!page.length) break;
        after = page.at(-1)!.guid;
        const source = await this.#open(run);
        const read = new Map((await source.read(page.map((c) => ({ guid: c.guid, dn: c.dn })))).map((r) => [r.guid, r]));
        await this.#deliver(run, page.map((c) => ({ c, r: read.get(c.guid) })));
      }
    } finally {
      await run.source?.close().catch(() => {});
      if (run.epoch !== undefined) await this.#cloud.releaseLease(run.epoch).catch(() => {});
    }
    summary.milliseconds = Date.now() - started;
    return summary;
  }

  async #open(run: Run): Promise<HashSource> {
    run.source ??= await this.#openSource();
    await this.#renew(run);
    return run.source;
  }

  /** Acquires the lease, or renews it once a third of its time has passed (a long first sync keeps it). */
  async #renew(run: Run): Promise<void> {
    if (run.epoch !== undefined && Date.now() - run.leasedAt < (leaseSeconds / 3) * 1000) return;
    const epoch = await this.#lease();
    if (run.epoch !== undefined && epoch !== run.epoch) {
      throw new ConnectError('sync_lease_lost', `the sync lease moved on (epoch ${run.epoch} → ${epoch}) while this agent sent password hashes`, { fix: 'make sure only one agent is active for the tenant; the next run continues where this one stopped' });
    }
    run.epoch = epoch;
    run.leasedAt = Date.now();
  }

  /** Derives and sends the hashes of these users (up to a batch), and records what the cloud did with each. */
  async #deliver(run: Run, items: { c: Candidate; r: HashReadResult | undefined }[]): Promise<void> {
    const { summary } = run;
    for (let i = 0; i < items.length; i += maxPasswordHashes) {
      const pending: Promise<PasswordHashBatchRequest['hashes'][number]>[] = [];
      const sent: Candidate[] = [];
      for (const { c, r } of items.slice(i, i + maxPasswordHashes)) {
        summary.candidates += 1;
        if (!r || 'error' in r) {
          const error = r && 'error' in r ? r.error : new ConnectError('drsr_malformed_reply', `the domain controller did not return ${c.dn}`, { subject: c.dn });
          if (fatal.has(error.code)) throw error;
          this.#s.failed.run(c.guid, error.code, error.message);
          summary.errors += 1;
          continue;
        }
        // derived on the thread pool, the whole batch at once; pwdLastSet 0: "user must change password at next logon"
        const nt = r.ntHash;
        pending.push((nt ? passwordHashFromNtHashAsync(nt) : Promise.resolve(null)).then((passwordHash) => {
          nt?.fill(0);
          return { immutableId: c.immutable_id, passwordHash, ...(c.pls === '0' ? { mustChangePassword: true } : {}) };
        }));
        sent.push(c);
      }
      const hashes = await Promise.all(pending);
      if (hashes.length) {
        await this.#renew(run);
        const { results } = await this.#send({ epoch: run.epoch!, hashes });
        const at = new Date().toISOString();
        this.#space.transaction(() => {
          results.forEach((res, j) => {
            const c = sent[j]!;
            if (res.status === 'stored' || res.status === 'cleared') {
              this.#s.synced.run(c.guid, c.pls, at);
              summary.stored += 1;
            } else if (res.status === 'not_found') {
              summary.notInCloud += 1;
            } else {
              this.#s.failed.run(c.guid, 'sync_cloud_refused', `the cloud did not accept the hash of ${c.dn}`);
              summary.errors += 1;
            }
          });
        });
      }
      summary.milliseconds = Date.now() - run.startedAt;
      this.#options.onPage?.(summary);
    }
  }

  async #lease(): Promise<number> {
    try {
      return (await this.#cloud.acquireLease(leaseSeconds)).epoch;
    } catch (err) {
      if (err instanceof CloudApiError && err.code === 'lease_held') {
        throw new ConnectError('sync_lease_lost', `another agent holds the tenant's sync lease, so this one sends no password hashes: ${err.message}`, { fix: 'password hashes go from the active agent; run this one in staging mode or stop the other' });
      }
      throw err;
    }
  }

  async #send(request: PasswordHashBatchRequest) {
    try {
      return await this.#cloud.sendPasswordHashes(request);
    } catch (err) {
      if (err instanceof CloudApiError && err.code === 'password_hash_sync_disabled') {
        throw new ConnectError('sync_cloud_refused', 'the tenant does not accept password hashes: password hash synchronization is off in the cloud', {
          fix: 'turn it on (PATCH /api/v1/tenant {"passwordHashSync": true}, or the admin center), or set passwordHashSync.enabled: false in the agent configuration',
          cause: err,
        });
      }
      throw err;
    }
  }
}
