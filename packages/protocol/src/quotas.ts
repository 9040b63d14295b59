/**
 * Per-tenant limits, enforced by the cloud and known to the agent so that it
 * can report an oversize object before sending it. Documented in docs/quotas.md.
 */
export interface Quotas {
  /** Directory objects (users, groups, contacts) per tenant, deleted ones excluded. */
  maxObjects: number;
  /** Characters in any single string value unless a tighter per-attribute limit applies. */
  maxStringLength: number;
  /** Values in one multi-valued attribute (memberships are not attributes and are unbounded). */
  maxValuesPerAttribute: number;
  /** Bytes of one object's attributes serialized as JSON. */
  maxObjectBytes: number;
  /** Sync batch operations per minute (a token bucket holding ten seconds' worth); above it a batch gets 429 with Retry-After. */
  syncOperationsPerMinute: number;
}

export const defaultQuotas: Quotas = {
  maxObjects: 1_000_000,
  maxStringLength: 1024,
  maxValuesPerAttribute: 1000,
  maxObjectBytes: 64 * 1024,
  syncOperationsPerMinute: 1_200_000,
};

/** Tighter limits for attributes that Microsoft 365 also limits. */
export const attributeLengthLimits: Record<string, number> = {
  userPrincipalName: 113,
  mailNickname: 64,
  displayName: 256,
  givenName: 64,
  surname: 64,
  mail: 256,
  onPremisesSamAccountName: 20,
};
