import { defaultQuotas, type Quotas } from '@skybridge/protocol';
import type { Queryable } from '../store/store.ts';
import { notFound } from '../http/problem.ts';

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
  #seq: number;
  #objectCount: number;
  readonly #startSeq: number;
  readonly #startCount: number;

  private constructor(tx: Queryable, tenantId: string, seq: number, objectCount: number, quotas: Quotas) {
    this.tx = tx;
    this.tenantId = tenantId;
    this.#seq = this.#startSeq = seq;
    this.#objectCount = this.#startCount = objectCount;
    this.quotas = quotas;
  }

  static async begin(tx: Queryable, tenantId: string, deploymentQuotas: Quotas = defaultQuotas): Promise<TenantWrite> {
    const { rows } = await tx.query<{ change_seq: number | string; object_count: number; quotas: Partial<Quotas> }>(
      'SELECT change_seq, object_count, quotas FROM tenants WHERE id = $1 FOR UPDATE',
      [tenantId],
    );
    const row = rows[0];
    if (!row) throw notFound('the tenant');
    return new TenantWrite(tx, tenantId, Number(row.change_seq), row.object_count, { ...deploymentQuotas, ...row.quotas });
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

  get objectCount(): number {
    return this.#objectCount;
  }

  adjustObjectCount(delta: number): void {
    this.#objectCount += delta;
  }

  /** Writes the counters back; call once before the transaction commits. */
  async finish(): Promise<void> {
    if (this.#seq === this.#startSeq && this.#objectCount === this.#startCount) return;
    await this.tx.query('UPDATE tenants SET change_seq = $2, object_count = $3 WHERE id = $1', [this.tenantId, this.#seq, this.#objectCount]);
  }
}
