/** Administrative roles, named as in Microsoft Entra ID so administrators recognise them. */
export const roles = [
  'GlobalAdministrator',
  'HybridIdentityAdministrator',
  'UserAdministrator',
  'LicenseAdministrator',
  'DirectorySynchronizationAccounts',
] as const;

export type Role = (typeof roles)[number];

export const roleDisplayNames: Record<Role, string> = {
  GlobalAdministrator: 'Global Administrator',
  HybridIdentityAdministrator: 'Hybrid Identity Administrator',
  UserAdministrator: 'User Administrator',
  LicenseAdministrator: 'License Administrator',
  DirectorySynchronizationAccounts: 'Directory Synchronization Accounts',
};

export const isRole = (value: unknown): value is Role =>
  typeof value === 'string' && (roles as readonly string[]).includes(value);
