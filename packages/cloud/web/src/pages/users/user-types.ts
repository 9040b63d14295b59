/** A user as the admin API presents it (packages/cloud/src/directory/objects.ts presentObject). */
export interface User {
  id: string;
  displayName?: string;
  userPrincipalName?: string;
  mail?: string;
  givenName?: string;
  surname?: string;
  jobTitle?: string;
  department?: string;
  mobilePhone?: string;
  accountEnabled: boolean;
  usageLocation: string | null;
  onPremisesSyncEnabled: boolean;
  onPremisesImmutableId: string | null;
  onPremisesLastSyncDateTime: string | null;
  onPremisesDistinguishedName?: string;
  onPremisesSamAccountName?: string;
  onPremisesDomainName?: string;
  onPremisesSecurityIdentifier?: string;
  createdDateTime: string;
  updatedDateTime: string;
}

export const userFilters = [
  { value: '', label: 'All users' },
  { value: 'synced', label: 'Synced from on-premises' },
  { value: 'cloud', label: 'Cloud only' },
  { value: 'licensed', label: 'Licensed' },
  { value: 'unlicensed', label: 'Unlicensed' },
  { value: 'blocked', label: 'Sign-in blocked' },
] as const;
