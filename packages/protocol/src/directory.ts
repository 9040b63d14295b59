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

/** A typed value of a multi-valued attribute (SCIM emails, phoneNumbers, ims, photos, entitlements, roles, certificates). */
export const typedValue = z.strictObject({
  value: z.string(),
  type: z.string().optional(),
  primary: z.boolean().optional(),
  display: z.string().optional(),
});
export type TypedValue = z.infer<typeof typedValue>;

export const postalAddress = z.strictObject({
  formatted: text.optional(),
  streetAddress: text.optional(),
  locality: text.optional(),
  region: text.optional(),
  postalCode: text.optional(),
  country: text.optional(),
  type: text.optional(),
  primary: z.boolean().optional(),
});
export type PostalAddress = z.infer<typeof postalAddress>;

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
  // name parts, profile and enterprise fields (SCIM core and enterprise user)
  middleName: text.optional(),
  honorificPrefix: text.optional(),
  honorificSuffix: text.optional(),
  formattedName: text.optional(),
  nickName: text.optional(),
  profileUrl: text.optional(),
  userType: text.optional(),
  preferredLanguage: text.optional(),
  locale: text.optional(),
  timezone: text.optional(),
  costCenter: text.optional(),
  division: text.optional(),
  /** the manager's object id */
  managerId: z.uuid().optional(),
  // typed multi-valued attributes, kept only when mail, telephoneNumber, mobile and the address fields cannot say it all
  emails: z.array(typedValue).optional(),
  phoneNumbers: z.array(typedValue).optional(),
  addresses: z.array(postalAddress).optional(),
  ims: z.array(typedValue).optional(),
  photos: z.array(typedValue).optional(),
  entitlements: z.array(typedValue).optional(),
  roles: z.array(typedValue).optional(),
  x509Certificates: z.array(typedValue).optional(),
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
