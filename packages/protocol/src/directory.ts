import { z } from 'zod';

/** Object kinds of the cloud directory. */
export const objectTypes = ['user', 'group', 'contact'] as const;
export type ObjectType = (typeof objectTypes)[number];

/**
 * The immutable id: the on-premises source anchor (objectGUID or
 * ms-DS-ConsistencyGuid) as standard base64. 16 bytes → 24 characters, but
 * other anchors are allowed up to 256 characters, as in Entra ID.
 */
export const immutableId = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9+/=_-]+$/, 'must be base64 (the source anchor, for example base64 of objectGUID)');

const text = z.string();
const email = z.string().regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address');
const upn = z.string().regex(/^[^\s@]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$/, 'must be a user principal name such as alice@contoso.com');
const proxyAddress = z.string().regex(/^[A-Za-z0-9]+:.+$/, 'must be a typed address such as SMTP:alice@contoso.com');

/** On-premises fields carried by every synced object. */
const onPremises = {
  onPremisesDistinguishedName: text.optional(),
  onPremisesSecurityIdentifier: z.string().regex(/^S-1-[0-9-]+$/, 'must be a SID string such as S-1-5-21-…').optional(),
  onPremisesSamAccountName: text.optional(),
  onPremisesDomainName: text.optional(),
};

export const userAttributes = z.strictObject({
  userPrincipalName: upn,
  displayName: text.optional(),
  givenName: text.optional(),
  surname: text.optional(),
  mail: email.optional(),
  mailNickname: text.optional(),
  proxyAddresses: z.array(proxyAddress).optional(),
  accountEnabled: z.boolean().optional(),
  jobTitle: text.optional(),
  department: text.optional(),
  companyName: text.optional(),
  employeeId: text.optional(),
  telephoneNumber: text.optional(),
  mobile: text.optional(),
  streetAddress: text.optional(),
  city: text.optional(),
  state: text.optional(),
  postalCode: text.optional(),
  country: text.optional(),
  ...onPremises,
});
export type UserAttributes = z.infer<typeof userAttributes>;

export const groupAttributes = z.strictObject({
  displayName: text,
  description: text.optional(),
  mail: email.optional(),
  mailNickname: text.optional(),
  mailEnabled: z.boolean().optional(),
  securityEnabled: z.boolean().optional(),
  proxyAddresses: z.array(proxyAddress).optional(),
  ...onPremises,
});
export type GroupAttributes = z.infer<typeof groupAttributes>;

export const contactAttributes = z.strictObject({
  displayName: text,
  mail: email,
  givenName: text.optional(),
  surname: text.optional(),
  mailNickname: text.optional(),
  proxyAddresses: z.array(proxyAddress).optional(),
  companyName: text.optional(),
  ...onPremises,
});
export type ContactAttributes = z.infer<typeof contactAttributes>;

export const attributeSchemas = {
  user: userAttributes,
  group: groupAttributes,
  contact: contactAttributes,
} as const;

/** Attributes an administrator may change on an object synced from on-premises (cloud-owned fields). */
export const cloudOwnedFields = ['usageLocation'] as const;
