import type { Role } from '@skybridge/protocol';

/** Who is calling: resolved from a verified access token on every request. */
export interface Principal {
  tenantId: string;
  kind: 'client' | 'agent';
  clientId: string;
  /** Set when kind is 'agent'. */
  agentId: string | null;
  roles: ReadonlySet<Role>;
}

export const hasAnyRole = (principal: Principal, wanted: readonly Role[]): boolean => wanted.some((r) => principal.roles.has(r));
