/**
 * The SCIM view of directory objects, and back. The directory's attributes
 * (those of the admin API and of synchronization) are the data; SCIM is a
 * mapping of them:
 *
 *   userName ↔ userPrincipalName, name.givenName ↔ givenName, name.familyName ↔ surname,
 *   title ↔ jobTitle, active ↔ accountEnabled, externalId ↔ the immutable id,
 *   emails (work, primary) ↔ mail, phoneNumbers work/mobile ↔ telephoneNumber/mobile,
 *   addresses (work) ↔ streetAddress, city, state, postalCode, country,
 *   enterprise employeeNumber ↔ employeeId, organization ↔ companyName, manager ↔ managerId.
 *
 * A multi-valued attribute that says more than its directory fields (a home
 * email, a second phone) is kept whole as well.
 */
import type { PostalAddress, TypedValue } from '@skybridge/protocol';
import type { ObjectRow } from '../directory/objects.ts';
import { type Json, type JsonObject, type NormalizedResource } from './normalize.ts';
import { schemaUris } from './schemas.ts';

export const etagOf = (row: Pick<ObjectRow, 'version'>): string => `W/"${row.version}"`;

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

function clean<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined || o[k] === null || (Array.isArray(o[k]) && (o[k] as unknown[]).length === 0)) delete o[k];
  return o;
}

function meta(row: ObjectRow, kind: 'User' | 'Group', baseUrl: string): JsonObject {
  return {
    resourceType: kind,
    created: iso(row.created_at)!,
    lastModified: iso(row.updated_at)!,
    location: `${baseUrl}/${kind}s/${row.id}`,
    version: etagOf(row),
  };
}

type A = Record<string, unknown>;
const s = (a: A, k: string): string | undefined => (typeof a[k] === 'string' ? (a[k] as string) : undefined);

/** The emails of a user: stored ones, or the work address derived from mail. */
export function emailsOf(a: A, mail: string | null): TypedValue[] {
  if (Array.isArray(a.emails)) return a.emails as TypedValue[];
  return mail ? [{ value: mail, type: 'work', primary: true }] : [];
}

export function phonesOf(a: A): TypedValue[] {
  if (Array.isArray(a.phoneNumbers)) return a.phoneNumbers as TypedValue[];
  const out: TypedValue[] = [];
  if (s(a, 'telephoneNumber')) out.push({ value: s(a, 'telephoneNumber')!, type: 'work' });
  if (s(a, 'mobile')) out.push({ value: s(a, 'mobile')!, type: 'mobile' });
  return out;
}

export function addressesOf(a: A): PostalAddress[] {
  if (Array.isArray(a.addresses)) return a.addresses as PostalAddress[];
  const address = clean({ type: 'work', streetAddress: s(a, 'streetAddress'), locality: s(a, 'city'), region: s(a, 'state'), postalCode: s(a, 'postalCode'), country: s(a, 'country'), primary: true });
  return Object.keys(address).length > 2 ? [address] : [];
}

export interface UserExtras {
  groups?: { id: string; displayName: string | null }[];
  manager?: { id: string; displayName: string | null } | null;
}

export function userToScim(row: ObjectRow, baseUrl: string, extras: UserExtras = {}): JsonObject {
  const a = row.attributes;
  const name = clean({
    formatted: s(a, 'formattedName'), familyName: s(a, 'surname'), givenName: s(a, 'givenName'), middleName: s(a, 'middleName'),
    honorificPrefix: s(a, 'honorificPrefix'), honorificSuffix: s(a, 'honorificSuffix'),
  });
  const enterprise = clean({
    employeeNumber: s(a, 'employeeId'), costCenter: s(a, 'costCenter'), organization: s(a, 'companyName'), division: s(a, 'division'), department: s(a, 'department'),
    manager: s(a, 'managerId') ? clean({ value: s(a, 'managerId'), $ref: `${baseUrl}/Users/${s(a, 'managerId')}`, displayName: extras.manager?.displayName ?? undefined }) : undefined,
  });
  const skybridge = clean({
    onPremisesSyncEnabled: row.source === 'onprem',
    onPremisesDistinguishedName: s(a, 'onPremisesDistinguishedName'), onPremisesSecurityIdentifier: s(a, 'onPremisesSecurityIdentifier'),
    onPremisesSamAccountName: s(a, 'onPremisesSamAccountName'), onPremisesDomainName: s(a, 'onPremisesDomainName'),
    onPremisesLastSyncDateTime: iso(row.last_sync_at), mailNickname: s(a, 'mailNickname'), proxyAddresses: a.proxyAddresses as string[] | undefined,
    usageLocation: row.usage_location,
  });
  const resource = clean({
    schemas: [schemaUris.user, ...(Object.keys(enterprise).length ? [schemaUris.enterprise] : []), schemaUris.skybridgeUser],
    id: row.id,
    externalId: row.immutable_id,
    userName: s(a, 'userPrincipalName'),
    name: Object.keys(name).length ? name : undefined,
    displayName: s(a, 'displayName'), nickName: s(a, 'nickName'), profileUrl: s(a, 'profileUrl'), title: s(a, 'jobTitle'),
    userType: s(a, 'userType'), preferredLanguage: s(a, 'preferredLanguage'), locale: s(a, 'locale'), timezone: s(a, 'timezone'),
    active: row.account_enabled,
    emails: emailsOf(a, row.mail), phoneNumbers: phonesOf(a), addresses: addressesOf(a),
    ims: a.ims, photos: a.photos, entitlements: a.entitlements, roles: a.roles, x509Certificates: a.x509Certificates,
    groups: extras.groups?.map((g) => clean({ value: g.id, $ref: `${baseUrl}/Groups/${g.id}`, display: g.displayName ?? undefined, type: 'direct' })),
    [schemaUris.enterprise]: Object.keys(enterprise).length ? enterprise : undefined,
    [schemaUris.skybridgeUser]: skybridge,
    meta: meta(row, 'User', baseUrl),
  });
  return resource as JsonObject;
}

export interface GroupMember {
  id: string;
  objectType: string;
  displayName: string | null;
}

const memberType = (t: string) => (t === 'user' ? 'User' : t === 'group' ? 'Group' : 'Contact');

export function memberToScim(m: GroupMember, baseUrl: string): JsonObject {
  return clean({ value: m.id, $ref: m.objectType === 'contact' ? undefined : `${baseUrl}/${memberType(m.objectType)}s/${m.id}`, display: m.displayName ?? undefined, type: memberType(m.objectType) }) as JsonObject;
}

export function groupToScim(row: ObjectRow, baseUrl: string, members?: { page: GroupMember[]; nextCursor: string | null }): JsonObject {
  const a = row.attributes;
  const skybridge = clean({
    onPremisesSyncEnabled: row.source === 'onprem',
    onPremisesDistinguishedName: s(a, 'onPremisesDistinguishedName'), onPremisesSecurityIdentifier: s(a, 'onPremisesSecurityIdentifier'),
    onPremisesSamAccountName: s(a, 'onPremisesSamAccountName'), onPremisesDomainName: s(a, 'onPremisesDomainName'),
    onPremisesLastSyncDateTime: iso(row.last_sync_at), mailNickname: s(a, 'mailNickname'), proxyAddresses: a.proxyAddresses as string[] | undefined,
    description: s(a, 'description'), mail: s(a, 'mail'), mailEnabled: a.mailEnabled as boolean | undefined, securityEnabled: a.securityEnabled as boolean | undefined,
    membersNextCursor: members?.nextCursor ?? undefined,
  });
  return clean({
    schemas: [schemaUris.group, schemaUris.skybridgeGroup],
    id: row.id,
    externalId: row.immutable_id,
    displayName: s(a, 'displayName'),
    members: members?.page.map((m) => memberToScim(m, baseUrl)),
    [schemaUris.skybridgeGroup]: skybridge,
    meta: meta(row, 'Group', baseUrl),
  }) as JsonObject;
}

const str = (v: Json | undefined): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const obj = (v: Json | undefined): JsonObject => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
const list = (v: Json | undefined): JsonObject[] => (Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object' && !Array.isArray(x)) as JsonObject[]) : []);

/** The one value a single-valued directory field takes from a typed list: the primary, else the first of the type. */
function pick(values: JsonObject[], type: string | null): JsonObject | undefined {
  const typed = type === null ? values : values.filter((v) => (str(v.type) ?? type) === type);
  return typed.find((v) => v.primary === true) ?? typed[0];
}

function typedValues(values: JsonObject[]): TypedValue[] {
  return values.map((v) => clean({ value: String(v.value ?? ''), type: str(v.type), primary: v.primary === true ? true : undefined, display: str(v.display) }) as TypedValue);
}

export interface DirectoryForm {
  attributes: Record<string, unknown>;
  immutableId: string | null;
  usageLocation: string | null | undefined;
  password: string | undefined;
}

/** A user resource as directory attributes. */
export function userFromScim(r: NormalizedResource): DirectoryForm {
  const c = r.core;
  const name = obj(c.name);
  const ent = obj(r.extensions[schemaUris.enterprise]);
  const sky = obj(r.extensions[schemaUris.skybridgeUser]);
  const emails = list(c.emails);
  const phones = list(c.phoneNumbers);
  const addresses = list(c.addresses);
  const primaryEmail = pick(emails, 'work') ?? pick(emails, null);
  const workPhone = pick(phones, 'work');
  const mobile = pick(phones, 'mobile');
  const address = pick(addresses, 'work') ?? (addresses.length === 1 ? addresses[0] : undefined);
  // Kept whole only when the single-valued fields cannot carry everything.
  const emailsWhole = emails.length > 1 || emails.some((e) => str(e.display) || (str(e.type) && e.type !== 'work'));
  const phonesWhole = phones.length > (workPhone ? 1 : 0) + (mobile ? 1 : 0) || phones.some((p) => str(p.display) || p.primary === true);
  const addressesWhole = addresses.length > 1 || addresses.some((x) => str(x.formatted) || (str(x.type) && x.type !== 'work'));
  const managerId = str(obj(ent.manager).value);
  const attributes = clean({
    userPrincipalName: str(c.userName),
    displayName: str(c.displayName),
    givenName: str(name.givenName), surname: str(name.familyName), middleName: str(name.middleName),
    honorificPrefix: str(name.honorificPrefix), honorificSuffix: str(name.honorificSuffix), formattedName: str(name.formatted),
    nickName: str(c.nickName), profileUrl: str(c.profileUrl), jobTitle: str(c.title), userType: str(c.userType),
    preferredLanguage: str(c.preferredLanguage), locale: str(c.locale), timezone: str(c.timezone),
    accountEnabled: typeof c.active === 'boolean' ? c.active : undefined,
    mail: str(primaryEmail?.value),
    emails: emailsWhole ? typedValues(emails) : undefined,
    telephoneNumber: str(workPhone?.value), mobile: str(mobile?.value),
    phoneNumbers: phonesWhole ? typedValues(phones) : undefined,
    streetAddress: str(address?.streetAddress), city: str(address?.locality), state: str(address?.region), postalCode: str(address?.postalCode), country: str(address?.country),
    addresses: addressesWhole ? addresses.map((x) => clean({ ...x })) : undefined,
    ims: list(c.ims).length ? typedValues(list(c.ims)) : undefined,
    photos: list(c.photos).length ? typedValues(list(c.photos)) : undefined,
    entitlements: list(c.entitlements).length ? typedValues(list(c.entitlements)) : undefined,
    roles: list(c.roles).length ? typedValues(list(c.roles)) : undefined,
    x509Certificates: list(c.x509Certificates).length ? typedValues(list(c.x509Certificates)) : undefined,
    employeeId: str(ent.employeeNumber), costCenter: str(ent.costCenter), companyName: str(ent.organization), division: str(ent.division), department: str(ent.department),
    managerId,
    mailNickname: str(sky.mailNickname),
    proxyAddresses: Array.isArray(sky.proxyAddresses) && sky.proxyAddresses.length ? sky.proxyAddresses : undefined,
  });
  return {
    attributes,
    immutableId: str(c.externalId) ?? null,
    usageLocation: sky.usageLocation === undefined ? undefined : (str(sky.usageLocation) ?? null),
    password: typeof c.password === 'string' ? c.password : undefined,
  };
}

/** A group resource as directory attributes (members are handled apart). */
export function groupFromScim(r: NormalizedResource): DirectoryForm {
  const c = r.core;
  const sky = obj(r.extensions[schemaUris.skybridgeGroup]);
  return {
    attributes: clean({
      displayName: str(c.displayName),
      description: str(sky.description), mail: str(sky.mail), mailNickname: str(sky.mailNickname),
      mailEnabled: typeof sky.mailEnabled === 'boolean' ? sky.mailEnabled : undefined,
      securityEnabled: typeof sky.securityEnabled === 'boolean' ? sky.securityEnabled : undefined,
      proxyAddresses: Array.isArray(sky.proxyAddresses) && sky.proxyAddresses.length ? sky.proxyAddresses : undefined,
    }),
    immutableId: str(c.externalId) ?? null,
    usageLocation: undefined,
    password: undefined,
  };
}

/** The attributes an on-premises object keeps whatever SCIM sends (they belong to AD). */
export const onPremisesKeys = ['onPremisesDistinguishedName', 'onPremisesSecurityIdentifier', 'onPremisesSamAccountName', 'onPremisesDomainName'];
