import { createContext, useContext } from 'react';

export interface Me {
  tenant: { id: string; name: string; initialDomain: string };
  principal: { type: string; id: string | null; displayName: string | null; userPrincipalName?: string | null };
  roles: { id: string; displayName: string }[];
}

export const MeContext = createContext<Me | null>(null);

/** The signed-in admin, their roles and their tenant. */
export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error('useMe outside the signed-in app');
  return me;
}

export const hasRole = (me: Me, ...roles: string[]) => me.roles.some((r) => roles.includes(r.id));
