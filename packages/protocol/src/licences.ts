/**
 * The licence catalogue: the SKUs a tenant can subscribe to, each a set of
 * service plans. A service plan gates something real: an application may
 * require one, and sign-in to it is refused to users without it.
 */
export const servicePlans = {
  SSO_APPS: 'Single sign-on to the tenant\'s applications',
  MAIL: 'Mailbox',
  FILES: 'File storage',
  MEETINGS: 'Meetings',
  PASSWORD_RESET: 'Self-service password reset with writeback',
  CONDITIONAL_ACCESS: 'Conditional access policies',
} as const;
export type ServicePlan = keyof typeof servicePlans;

export interface Sku {
  id: string;
  displayName: string;
  servicePlans: readonly ServicePlan[];
}

export const skuCatalogue: readonly Sku[] = [
  { id: 'SKYBRIDGE_BASIC', displayName: 'Skybridge Basic', servicePlans: ['SSO_APPS', 'MAIL'] },
  { id: 'SKYBRIDGE_STANDARD', displayName: 'Skybridge Standard', servicePlans: ['SSO_APPS', 'MAIL', 'FILES', 'MEETINGS'] },
  { id: 'SKYBRIDGE_PREMIUM', displayName: 'Skybridge Premium', servicePlans: ['SSO_APPS', 'MAIL', 'FILES', 'MEETINGS', 'PASSWORD_RESET', 'CONDITIONAL_ACCESS'] },
];

export const findSku = (id: string): Sku | undefined => skuCatalogue.find((s) => s.id === id.toUpperCase());
export const isServicePlan = (v: string): v is ServicePlan => Object.hasOwn(servicePlans, v);
