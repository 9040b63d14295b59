import type { Role } from '@skybridge/protocol';

/**
 * Who is calling: resolved from a verified access token on every request. An
 * API client or an agent calls with its own token; a user calls through the
 * admin center, with the roles the user holds.
 */
export interface Principal {
  tenantId: string;
  kind: 'client' | 'agent' | 'user';
  clientId: string;
  /** Set when kind is 'agent'. */
  agentId: string | null;
  /** Set when kind is 'user': the signed-in user's object id. */
  userId: string | null;
  roles: ReadonlySet<Role>;
}

export const hasAnyRole = (principal: Principal, wanted: readonly Role[]): boolean => wanted.some((r) => principal.roles.has(r));
