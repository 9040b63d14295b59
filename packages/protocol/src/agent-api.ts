import { z } from 'zod';
import { syncErrorCategories } from './errors.ts';
import { immutableId, objectTypes } from './directory.ts';

/** Public half of the agent's key pair, as a JWK. The private half never leaves the agent. */
export const publicJwk = z.union([
  z.strictObject({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: z.string().min(40).max(50),
    y: z.string().min(40).max(50),
    kid: z.string().max(100).optional(),
    alg: z.literal('ES256').optional(),
    use: z.literal('sig').optional(),
  }),
  z.strictObject({
    kty: z.literal('RSA'),
    n: z.string().min(342, 'RSA keys must be at least 2048 bits').max(1400),
    e: z.string().max(16),
    kid: z.string().max(100).optional(),
    alg: z.enum(['RS256', 'PS256']).optional(),
    use: z.literal('sig').optional(),
  }),
]);

/** POST /agents/v1/register */
export const registerRequest = z.strictObject({
  registrationToken: z.string().min(10).max(200),
  publicKey: publicJwk,
  hostname: z.string().min(1).max(255),
  version: z.string().min(1).max(64),
});
export type RegisterRequest = z.infer<typeof registerRequest>;

export const registerResponse = z.strictObject({
  agentId: z.string(),
  tenantId: z.string(),
  clientId: z.string(),
  issuer: z.string(),
  tokenEndpoint: z.string(),
  /** The `aud` of access tokens for the agent and sync APIs; sent as the `resource` parameter. */
  audience: z.string(),
  /** base64 SHA-256 of the cloud certificate's SubjectPublicKeyInfo; null when the cloud runs plain HTTP on loopback. */
  cloudCertificatePin: z.string().nullable(),
});
export type RegisterResponse = z.infer<typeof registerResponse>;

export const maxBatchOperations = 500;

/**
 * A group's member changes. The cloud lists a group's members to add that it
 * does not hold (`member_not_found`, see missingMembers) until a member
 * change of the group is made in full that adds members or names none: an
 * agent sends one naming none (`members: {}`) to say it owes the group no
 * more member changes. One that only removes members leaves the entry.
 */
const members = z.strictObject({
  add: z.array(immutableId).max(10_000).optional(),
  remove: z.array(immutableId).max(10_000).optional(),
});

/**
 * One operation of a sync batch. `attributes` is checked per object (a bad
 * object is reported in its result and never fails the batch), so here it is
 * only required to be a JSON object.
 */
export const syncOperation = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('upsert'),
    type: z.enum(objectTypes),
    immutableId,
    attributes: z.record(z.string(), z.unknown()),
    /** Groups only: membership changes, by member immutable id. */
    members: members.optional(),
  }),
  z.strictObject({
    op: z.literal('delete'),
    type: z.enum(objectTypes),
    immutableId,
  }),
]);
export type SyncOperation = z.infer<typeof syncOperation>;

/** POST /sync/v1/batches, with an `Idempotency-Key` header. */
export const syncBatchRequest = z.strictObject({
  /** The fencing epoch of the lease the agent holds. */
  epoch: z.number().int().positive(),
  operations: z.array(syncOperation).min(1).max(maxBatchOperations),
});
export type SyncBatchRequest = z.infer<typeof syncBatchRequest>;

export const maxPasswordHashes = 1000;

/**
 * POST /sync/v1/password-hashes: users' synchronized password hashes
 * (password-hash.ts; never a password or an NT hash). `passwordHash: null`
 * clears a user's hash (the account has no password on-premises any more).
 */
export const passwordHashBatchRequest = z.strictObject({
  epoch: z.number().int().positive(),
  hashes: z.array(z.strictObject({
    immutableId,
    passwordHash: z.string().max(200).nullable(),
    /** "User must change password at next logon" is set on-premises (pwdLastSet 0) */
    mustChangePassword: z.boolean().optional(),
  })).min(1).max(maxPasswordHashes),
});
export type PasswordHashBatchRequest = z.infer<typeof passwordHashBatchRequest>;

export const passwordHashBatchResponse = z.strictObject({
  results: z.array(z.strictObject({
    immutableId: z.string(),
    /** stored; cleared; no synchronized user has this immutable id (yet); or the hash is not one the cloud reads */
    status: z.enum(['stored', 'cleared', 'not_found', 'invalid']),
  })),
});
export type PasswordHashBatchResponse = z.infer<typeof passwordHashBatchResponse>;

export const syncResultStatus = ['created', 'updated', 'unchanged', 'deleted', 'error'] as const;

export const syncObjectResult = z.strictObject({
  index: z.number().int(),
  immutableId: z.string(),
  status: z.enum(syncResultStatus),
  objectId: z.string().optional(),
  /** the object's version after the operation: the agent compares it with what the change feed shows later */
  version: z.number().int().optional(),
  /** how an upsert found an existing cloud object: by immutable id onto a cloud-managed one (hard), or by UPN or primary SMTP address (soft) */
  match: z.enum(['hard', 'soft']).optional(),
  /**
   * Duplicate attribute resiliency: values of this object that another object
   * already holds. The object synced without them (a userPrincipalName is
   * replaced by `placeholder` on the tenant's initial domain); the cloud gives
   * them back on its own once the other object lets them go.
   */
  quarantined: z.array(z.strictObject({
    attribute: z.enum(['userPrincipalName', 'proxyAddresses']),
    value: z.string(),
    placeholder: z.string().optional(),
    /** collision: another object holds the value; unverified_domain: the UPN's domain is not a verified domain of the tenant */
    reason: z.enum(['collision', 'unverified_domain']).optional(),
    /** the cloud object id of the holder (collisions) */
    heldBy: z.string().optional(),
  })).optional(),
  /**
   * Groups: members to add (immutable ids) that the cloud does not hold. The
   * rest of the member change was applied; the agent sends these again once
   * they are in the cloud (memberNotFoundError describes them).
   */
  missingMembers: z.array(z.string()).max(10_000).optional(),
  error: z
    .strictObject({
      category: z.enum(syncErrorCategories),
      code: z.string(),
      message: z.string(),
      attribute: z.string().optional(),
    })
    .optional(),
});
export type SyncObjectResult = z.infer<typeof syncObjectResult>;

/** One sentence for an object's quarantined values: the cloud's sync error list and the agent's status both show it. */
export function describeQuarantined(held: NonNullable<SyncObjectResult['quarantined']>): string {
  return held.map((h) => {
    if (h.reason === 'unverified_domain') {
      const domain = h.value.slice(h.value.lastIndexOf('@') + 1);
      return `userPrincipalName ${h.value} is on ${domain}, which is not a verified domain of the tenant: the user synced as ${h.placeholder} meanwhile, and gets ${h.value} back as soon as ${domain} is verified (admin center: Domains)`;
    }
    return `${h.attribute === 'userPrincipalName'
      ? `userPrincipalName ${h.value} is already used by the cloud object ${h.heldBy}: the object synced as ${h.placeholder} meanwhile`
      : `proxy address ${h.value} is already used by the cloud object ${h.heldBy}: the object synced without it meanwhile`}. The value comes back by itself once the other object gives it up; or give one of them another value on-premises`;
  }).join('; ') + '.';
}

/** The sync error an object with quarantined values is listed under (it synced; an administrator should still look). */
export function quarantineError(held: NonNullable<SyncObjectResult['quarantined']>): NonNullable<SyncObjectResult['error']> {
  const waitsForDomain = held.some((h) => h.reason === 'unverified_domain');
  return {
    category: waitsForDomain ? 'other' : 'duplicate_attribute',
    code: waitsForDomain ? 'upn_domain_unverified' : 'attribute_quarantined',
    attribute: waitsForDomain ? 'userPrincipalName' : held[0]!.attribute,
    message: describeQuarantined(held),
  };
}
/**
 * The preference (RFC 7240 `Prefer` header) of an agent that reads
 * `missingMembers`: with it, a group's member change naming members to add
 * that the cloud does not hold is made without them, and the result names
 * them; without it (agents before it), such a change is refused whole
 * (`member_not_found`), as the first version of the contract did.
 */
export const missingMembersPreference = 'missing-members';

/** A group's members to add that the cloud does not hold (a result's missingMembers), as its sync error. */
export function memberNotFoundError(missing: readonly string[]): NonNullable<SyncObjectResult['error']> {
  return {
    category: 'other', code: 'member_not_found', attribute: 'members',
    message: `${missing.length} member(s) to add are not in the cloud (first: ${missing[0]}); the other member changes were made, and these are sent again once the members are synchronized`,
  };
}

/** The codes of quarantineError: such an entry goes once the values are given back. */
export const quarantineErrorCodes = ['attribute_quarantined', 'upn_domain_unverified'] as const;

export const syncBatchResponse = z.strictObject({
  batchId: z.string(),
  replayed: z.boolean(),
  results: z.array(syncObjectResult),
});
export type SyncBatchResponse = z.infer<typeof syncBatchResponse>;

/**
 * POST /sync/v1/match-preview: how each object would match in the cloud,
 * before anything is written (skybridge connect takeover --preview). Read only.
 */
export const matchPreviewRequest = z.strictObject({
  objects: z.array(z.strictObject({ type: z.enum(objectTypes), immutableId, attributes: z.record(z.string(), z.unknown()) })).min(1).max(maxBatchOperations),
});
export type MatchPreviewRequest = z.infer<typeof matchPreviewRequest>;
export const matchPreviewResponse = z.strictObject({
  results: z.array(z.strictObject({
    index: z.number().int(),
    immutableId: z.string(),
    /** hard: an object with this immutable id exists (synced already, or cloud-managed and taken over); soft: matched by UPN or primary SMTP address; new: created; refused: a match the rules forbid */
    outcome: z.enum(['hard', 'soft', 'new', 'refused']),
    objectId: z.string().optional(),
    /** for hard: whether the cloud object is synchronized already (else cloud-managed) */
    synced: z.boolean().optional(),
    by: z.string().optional(),
    reason: z.string().optional(),
  })),
});
export type MatchPreviewResponse = z.infer<typeof matchPreviewResponse>;

/** GET /sync/v1/changes?cursor=&limit= : the tenant's synced objects as the cloud sees them. */
export const objectChange = z.strictObject({
  kind: z.literal('object'),
  seq: z.string(),
  type: z.enum(objectTypes),
  objectId: z.string(),
  immutableId: z.string().nullable(),
  deleted: z.boolean(),
  version: z.number().int(),
  attributes: z.record(z.string(), z.unknown()).nullable(),
});
export const membershipChange = z.strictObject({
  kind: z.literal('membership'),
  seq: z.string(),
  groupId: z.string(),
  groupImmutableId: z.string().nullable(),
  memberId: z.string(),
  memberImmutableId: z.string().nullable(),
  removed: z.boolean(),
});
export const changesResponse = z.strictObject({
  changes: z.array(z.discriminatedUnion('kind', [objectChange, membershipChange])),
  /** Opaque; pass back as `cursor` to continue. */
  cursor: z.string(),
  hasMore: z.boolean(),
});
export type ChangesResponse = z.infer<typeof changesResponse>;

/** POST /sync/v1/lease: acquire or renew the tenant's single active-syncer lease. */
export const leaseRequest = z.strictObject({
  ttlSeconds: z.number().int().min(10).max(900).default(60),
});
export const leaseResponse = z.strictObject({
  epoch: z.number().int(),
  holderAgentId: z.string(),
  expiresAt: z.string(),
});
export type LeaseResponse = z.infer<typeof leaseResponse>;
export const leaseReleaseRequest = z.strictObject({ epoch: z.number().int().positive() });

/**
 * PUT /sync/v1/pending-deletions: the agent's delete threshold stopped an
 * export. The cloud shows the tenant an alert with the count and a sample,
 * and answers how many deletions an administrator allowed since (0: none);
 * the agent lets them through when that covers what is pending. DELETE
 * clears the alert once the deletions went out or the cause was fixed.
 */
export const pendingDeletionsReport = z.strictObject({
  pending: z.number().int().min(0),
  limit: z.number().int().min(0),
  sample: z.array(z.strictObject({ dn: z.string().max(2048), type: z.enum(objectTypes), immutableId })).max(20),
});
export type PendingDeletionsReport = z.infer<typeof pendingDeletionsReport>;
export const pendingDeletionsAnswer = z.strictObject({
  allowed: z.number().int().min(0),
  allowedBy: z.string().nullable(),
  allowedAt: z.string().nullable(),
});
export type PendingDeletionsAnswer = z.infer<typeof pendingDeletionsAnswer>;

/** POST /agents/v1/heartbeat */
export const heartbeatRequest = z.strictObject({
  version: z.string().min(1).max(64),
  role: z.enum(['active', 'standby', 'staging']),
  lastCycle: z
    .strictObject({
      kind: z.enum(['full', 'delta']),
      startedAt: z.iso.datetime(),
      finishedAt: z.iso.datetime().nullable(),
      adds: z.number().int().min(0),
      updates: z.number().int().min(0),
      deletes: z.number().int().min(0),
      errors: z.number().int().min(0),
    })
    .optional(),
  errorCounts: z.record(z.string().max(64), z.number().int().min(0)).optional(),
  /** the domain's account lockout threshold (0: never locks), for the cloud's smart lockout of pass-through sign-ins */
  domainPolicy: z.strictObject({ lockoutThreshold: z.number().int().min(0).max(1_000_000) }).optional(),
  /** password hash synchronization on this agent: its last run, and what stopped it if it failed */
  passwordHashSync: z.strictObject({
    lastRunAt: z.iso.datetime(),
    ok: z.boolean(),
    error: z.string().max(1000).optional(),
    /** users whose hash is synchronized, and those that failed */
    synced: z.number().int().min(0),
    errors: z.number().int().min(0),
  }).optional(),
});
export type HeartbeatRequest = z.infer<typeof heartbeatRequest>;
export const heartbeatResponse = z.strictObject({ serverTime: z.string() });
