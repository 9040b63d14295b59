import { defaultQuotas, type Quotas } from '@skybridge/protocol';
import type { Queryable } from '../store/store.ts';
import { notFound } from '../http/problem.ts';
import { recordAudit, type Actor, type AuditEntry } from '../audit/audit-log.ts';
import { reconcileGroupLicences } from '../licences/reconcile.ts';

/**
 * A write transaction's hold on its tenant. Every directory write locks the
 * tenant row first: that serializes a tenant's writers (never two tenants'),
 * so change sequence numbers are handed out in commit order and the object
 * count stays exact.
 */
export class TenantWrite {
  readonly tx: Queryable;
  readonly tenantId: string;
  readonly quotas: Quotas;
  /** the administrator acting (recorded in the audit log); null for synchronization */
  readonly actor: Actor | null;
  #seq: number;
  #objectCount: number;
  readonly #startSeq: number;
  readonly #startCount: number;

  private constructor(tx: Queryable, tenantId: string, seq: number, objectCount: number, quotas: Quotas, actor: Actor | null) {
    this.tx = tx;
    this.actor = actor;
    this.tenantId = tenantId;
    this.#seq = this.#startSeq = seq;
    this.#objectCount = this.#startCount = objectCount;
    this.quotas = quotas;
  }

  static async begin(tx: Queryable, tenantId: string, deploymentQuotas: Quotas = defaultQuotas, actor: Actor | null = null): Promise<TenantWrite> {
    const { rows } = await tx.query<{ change_seq: number | string; object_count: number; quotas: Partial<Quotas> }>(
      'SELECT change_seq, object_count, quotas FROM tenants WHERE id = $1 FOR UPDATE',
      [tenantId],
    );
    const row = rows[0];
    if (!row) throw notFound('the tenant');
    return new TenantWrite(tx, tenantId, Number(row.change_seq), row.object_count, { ...deploymentQuotas, ...row.quotas }, actor);
  }

  /** The next change sequence number (for the change feed). */
  nextSeq(): number {
    return ++this.#seq;
  }

  /** Reserves `n` consecutive sequence numbers and returns the first. */
  reserveSeq(n: number): number {
    const first = this.#seq + 1;
    this.#seq += n;
    return first;
  }

  /** The last change sequence number taken. */
  get seq(): number {
    return this.#seq;
  }

  get objectCount(): number {
    return this.#objectCount;
  }

  adjustObjectCount(delta: number): void {
    this.#objectCount += delta;
  }

  /** Records an administrative action of this write in the audit log (nothing when synchronization writes). */
  async audit(entry: AuditEntry): Promise<void> {
    if (this.actor) await recordAudit(this.tx, this.tenantId, this.actor, entry);
  }

  /**
   * Writes the counters back; call once before the transaction commits.
   * Group-based licences follow what this write changed (memberships, users'
   * usage location, deletions), found through the change sequence numbers it took.
   */
  async finish(): Promise<void> {
    if (this.#seq === this.#startSeq && this.#objectCount === this.#startCount) return;
    if (this.#seq > this.#startSeq) await reconcileGroupLicences(this, { fromSeq: this.#startSeq + 1, toSeq: this.#seq });
    await this.tx.query('UPDATE tenants SET change_seq = $2, object_count = $3 WHERE id = $1', [this.tenantId, this.#seq, this.#objectCount]);
  }
}
