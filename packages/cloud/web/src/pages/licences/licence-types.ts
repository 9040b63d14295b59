import type { ApiError } from '../../api/client.ts';

/** GET /subscriptions: one subscribed SKU and its use (packages/cloud/src/licences/assignments.ts subscriptionUsage). */
export interface Subscription {
  skuId: string;
  displayName: string;
  servicePlans: string[];
  seats: number;
  consumed: number;
  available: number;
  assignedDirectly: number;
  assignedThroughGroups: number;
  /** users a group's licence could not reach (no usage location, no seat) */
  errors: number;
}

/** GET /subscriptions/:skuId/assignments: one user holding (or waiting for) the SKU. */
export interface Assignment {
  userId: string;
  userPrincipalName: string | null;
  assignedDirectly: boolean;
  viaGroups: string[];
  errors: { groupId: string; code: string; message: string }[];
}

/** GET /users/:id/licenses. */
export interface UserLicences {
  userId: string;
  usageLocation: string | null;
  licences: { skuId: string; displayName: string; servicePlans: string[]; assignedDirectly: boolean; viaGroups: string[] }[];
  errors: { skuId: string; groupId: string; code: string; message: string; since: string }[];
}

/** POST /groups/:id/licenses and GET /groups/:id/licenses. */
export interface GroupLicences {
  groupId: string;
  items: { skuId: string; servicePlans: string[]; assignedDateTime: string; assignedUsers: number; errors: { usageLocationMissing: number; noSeats: number } }[];
}

/** A user or a group as the directory lists them (presentObject); only what the licence pages use. */
export interface DirectoryUser {
  id: string;
  displayName?: string;
  userPrincipalName?: string;
  mail?: string;
  usageLocation: string | null;
  accountEnabled: boolean;
}
export interface DirectoryGroup {
  id: string;
  displayName?: string;
  description?: string;
  mail?: string;
  onPremisesSyncEnabled: boolean;
}

/** Who assigns licences and sets usage location (routes/licences.ts licenceAdmins, routes/directory.ts cloudFieldWriters). */
export const licenceAdminRoles = ['GlobalAdministrator', 'UserAdministrator', 'LicenseAdministrator'];
export const licenceAdminNote = 'Assigning licences needs the Global Administrator, User Administrator or License Administrator role.';

/** An ISO 3166 two-letter country code, as the cloud takes it (routes/directory.ts usageLocation). */
export const usageLocationPattern = /^[A-Z]{2}$/;

/** What to do, on this page, after a licence error the cloud answered (its detail says what is wrong). */
export function licenceAdvice(e: ApiError): string | undefined {
  switch (e.code) {
    case 'usage_location_required':
      return 'Set the usage location (the country where the user uses the services), then assign the licence again.';
    case 'no_seats':
      return 'Seats are added by your Skybridge deployment\'s operator; or free one by removing the licence from someone who no longer needs it.';
    case 'invalid_request':
      return 'Correct the value and try again.';
    case 'forbidden':
      return licenceAdminNote;
    case 'not_found':
      return 'It may have been deleted meanwhile: reload the page.';
    default:
      return undefined;
  }
}

/** A group-based assignment that failed for a user, said with what to do here. */
export function assignmentProblem(code: string, message: string): string {
  if (code === 'usage_location_missing') return 'No usage location: open the user and set one; the group\'s licence then reaches them.';
  if (code === 'no_seats') return 'No free seat: the user gets it through the group as soon as a seat is free.';
  return message;
}

export const seatsLeft = (s: Pick<Subscription, 'available'>) => (s.available === 1 ? '1 seat available' : `${s.available} seats available`);
