/**
 * Per-tenant throttling of sync batches: a token bucket of operations,
 * refilled at the tenant's `syncOperationsPerMinute` and holding ten
 * seconds' worth. A batch that finds too few tokens is refused with 429 and
 * the seconds to wait (Retry-After); the agent waits and sends the same batch
 * again. The default (docs/quotas.md) is far above what one tenant's batches
 * reach, so throttling protects a shared deployment without slowing an
 * initial sync. The buckets live in the cloud process: a deployment of
 * several cloud processes throttles per process.
 */
export class SyncThrottle {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /**
   * Takes `operations` from the key's bucket (a tenant; sign-in uses tenant and
   * source address): 0 when taken, else the whole seconds to wait before
   * trying again. The bucket holds `burstSeconds` worth of the rate.
   */
  take(tenantId: string, operations: number, perMinute: number, now = Date.now(), burstSeconds = 10): number {
    if (!(perMinute > 0)) return 0;
    const capacity = Math.max(1, (perMinute * burstSeconds) / 60);
    const perMs = perMinute / 60_000;
    const bucket = this.#buckets.get(tenantId) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + Math.max(0, now - bucket.at) * perMs);
    bucket.at = now;
    this.#buckets.set(tenantId, bucket);
    // a batch larger than the bucket passes once the bucket is full
    const need = Math.min(operations, capacity);
    if (bucket.tokens >= need) {
      bucket.tokens -= need;
      return 0;
    }
    return Math.max(1, Math.ceil((need - bucket.tokens) / perMs / 1000));
  }
}
