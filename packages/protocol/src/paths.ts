/**
 * The URL layout every part of Skybridge builds against (brief §8).
 * Change it here and in the README's reference, nowhere else.
 */
export const paths = {
  /** Tenant OIDC issuer: `{tenant}` is the tenant id or one of its verified domains. */
  issuer: (tenant: string) => `/${tenant}/v2.0`,
  discovery: (tenant: string) => `/${tenant}/v2.0/.well-known/openid-configuration`,
  /** Sign-in without knowing the tenant: home-realm discovery from the UPN's domain. */
  common: '/common',
  adminApi: '/api/v1',
  scim: '/scim/v2',
  operatorApi: '/operator/v1',
  agents: {
    register: '/agents/v1/register',
    heartbeat: '/agents/v1/heartbeat',
    channel: '/agents/v1/channel',
  },
  sync: {
    batches: '/sync/v1/batches',
    changes: '/sync/v1/changes',
    lease: '/sync/v1/lease',
    matchPreview: '/sync/v1/match-preview',
    /** PUT: the delete threshold stopped the export (a tenant alert; the answer says what an admin allowed); DELETE: it is over */
    pendingDeletions: '/sync/v1/pending-deletions',
    /** POST: synchronized password hashes of users, by immutable id (password hash synchronization) */
    passwordHashes: '/sync/v1/password-hashes',
  },
  health: '/healthz',
  /** The admin center, a web app; its pages live below this path (Users › Active users is `/admin/users`). */
  adminCenter: '/admin',
} as const;

/**
 * The admin center's OpenID client, present in every tenant: a public client
 * (authorization code with PKCE, no secret) whose redirect URI is the admin
 * center itself. Its access tokens carry the signed-in user, and the admin API
 * grants them what that user's roles allow.
 */
export const adminCenterClientId = 'skybridge-admin-center';

/** The audience (resource indicator) of access tokens for the cloud's own APIs. */
export const apiResource = (publicUrl: string): string => `${publicUrl.replace(/\/$/, '')}/api`;
