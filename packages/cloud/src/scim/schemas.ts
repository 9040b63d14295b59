/**
 * The SCIM schemas Skybridge serves (RFC 7643 §4, §8.7): core User and Group,
 * the enterprise user extension, and Skybridge's extensions for on-premises
 * fields. One definition drives /Schemas, attribute lookup in filters and
 * PATCH paths, case-exactness, mutability and `returned`.
 */

export const schemaUris = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterprise: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  skybridgeUser: 'urn:skybridge:params:scim:schemas:extension:2.0:User',
  skybridgeGroup: 'urn:skybridge:params:scim:schemas:extension:2.0:Group',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  searchRequest: 'urn:ietf:params:scim:api:messages:2.0:SearchRequest',
  bulkRequest: 'urn:ietf:params:scim:api:messages:2.0:BulkRequest',
  bulkResponse: 'urn:ietf:params:scim:api:messages:2.0:BulkResponse',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

export type AttributeType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex' | 'binary';
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
export type Returned = 'always' | 'never' | 'default' | 'request';

export interface AttributeDef {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: Mutability;
  returned: Returned;
  uniqueness: 'none' | 'server' | 'global';
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttributeDef[];
}

type Options = Partial<Omit<AttributeDef, 'name' | 'type' | 'description'>>;

function attr(name: string, type: AttributeType, description: string, o: Options = {}): AttributeDef {
  return {
    name, type, multiValued: false, description, required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none',
    ...o,
  };
}
const str = (name: string, description: string, o: Options = {}) => attr(name, 'string', description, o);

/** The sub-attributes of a typed multi-valued attribute (emails, phoneNumbers…). */
function multi(name: string, description: string, types: string[], valueType: AttributeType = 'string', extra: AttributeDef[] = []): AttributeDef {
  return attr(name, 'complex', description, {
    multiValued: true,
    subAttributes: [
      attr('value', valueType, `the ${name} value`),
      str('display', 'a human-readable name, primarily used for display purposes', { mutability: 'readWrite' }),
      str('type', 'a label indicating the attribute\'s function', { canonicalValues: types }),
      attr('primary', 'boolean', 'the primary or preferred value'),
      ...extra,
    ],
  });
}

export const commonAttributes: AttributeDef[] = [
  str('id', 'unique identifier of the resource, assigned by the service provider', { caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' }),
  str('externalId', 'the identifier the provisioning client uses; for synchronized objects, the immutable id (the on-premises source anchor, base64)', { caseExact: true }),
  attr('meta', 'complex', 'resource metadata', {
    mutability: 'readOnly',
    subAttributes: [
      str('resourceType', 'the resource type', { caseExact: true, mutability: 'readOnly' }),
      attr('created', 'dateTime', 'when the resource was added', { mutability: 'readOnly' }),
      attr('lastModified', 'dateTime', 'when the resource was last changed', { mutability: 'readOnly' }),
      attr('location', 'reference', 'the URI of the resource', { mutability: 'readOnly', caseExact: true }),
      str('version', 'the version (ETag) of the resource', { caseExact: true, mutability: 'readOnly' }),
    ],
  }),
];

export const userAttributes: AttributeDef[] = [
  str('userName', 'the user principal name (user@domain), unique in the tenant', { required: true, uniqueness: 'server' }),
  attr('name', 'complex', 'the components of the user\'s name', {
    subAttributes: [
      str('formatted', 'the full name, formatted for display'),
      str('familyName', 'family name (surname)'),
      str('givenName', 'given name'),
      str('middleName', 'middle name(s)'),
      str('honorificPrefix', 'honorific prefix, such as Ms.'),
      str('honorificSuffix', 'honorific suffix, such as III'),
    ],
  }),
  str('displayName', 'the name displayed to end users'),
  str('nickName', 'the casual name'),
  attr('profileUrl', 'reference', 'a URI of the user\'s online profile', { referenceTypes: ['external'] }),
  str('title', 'job title'),
  str('userType', 'the relationship to the organization, such as Employee or Contractor'),
  str('preferredLanguage', 'preferred language, such as en-US'),
  str('locale', 'default location, such as en-US'),
  str('timezone', 'time zone in the Olson database format, such as Europe/Paris'),
  attr('active', 'boolean', 'whether the user may sign in'),
  str('password', 'the cloud password (write only; never returned; stored as a hash)', { mutability: 'writeOnly', returned: 'never', caseExact: true }),
  multi('emails', 'email addresses', ['work', 'home', 'other']),
  multi('phoneNumbers', 'phone numbers', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
  multi('ims', 'instant messaging addresses', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo']),
  multi('photos', 'URLs of photos', ['photo', 'thumbnail'], 'reference'),
  attr('addresses', 'complex', 'physical mailing addresses', {
    multiValued: true,
    subAttributes: [
      str('formatted', 'the full address, formatted for display'),
      str('streetAddress', 'street address'),
      str('locality', 'city or locality'),
      str('region', 'state or region'),
      str('postalCode', 'zip or postal code'),
      str('country', 'country, ISO 3166-1 alpha-2'),
      str('type', 'a label indicating the address\'s function', { canonicalValues: ['work', 'home', 'other'] }),
      attr('primary', 'boolean', 'the primary address'),
    ],
  }),
  attr('groups', 'complex', 'the groups the user belongs to directly (read only; change them through Groups)', {
    multiValued: true, mutability: 'readOnly',
    subAttributes: [
      str('value', 'the group\'s id', { mutability: 'readOnly' }),
      attr('$ref', 'reference', 'the URI of the group', { mutability: 'readOnly', referenceTypes: ['Group'] }),
      str('display', 'the group\'s display name', { mutability: 'readOnly' }),
      str('type', 'direct or indirect', { mutability: 'readOnly', canonicalValues: ['direct', 'indirect'] }),
    ],
  }),
  multi('entitlements', 'entitlements', []),
  multi('roles', 'roles', []),
  multi('x509Certificates', 'X.509 certificates (DER, base64)', [], 'binary'),
];

export const enterpriseAttributes: AttributeDef[] = [
  str('employeeNumber', 'employee number'),
  str('costCenter', 'cost center'),
  str('organization', 'organization (company)'),
  str('division', 'division'),
  str('department', 'department'),
  attr('manager', 'complex', 'the user\'s manager', {
    subAttributes: [
      str('value', 'the manager\'s id'),
      attr('$ref', 'reference', 'the URI of the manager', { referenceTypes: ['User'] }),
      str('displayName', 'the manager\'s display name', { mutability: 'readOnly' }),
    ],
  }),
];

const onPremisesAttributes: AttributeDef[] = [
  attr('onPremisesSyncEnabled', 'boolean', 'whether the object is synchronized from on-premises Active Directory (then read only here)', { mutability: 'readOnly' }),
  str('onPremisesDistinguishedName', 'the distinguished name in Active Directory', { mutability: 'readOnly' }),
  str('onPremisesSecurityIdentifier', 'the objectSid in Active Directory', { mutability: 'readOnly', caseExact: true }),
  str('onPremisesSamAccountName', 'the sAMAccountName in Active Directory', { mutability: 'readOnly' }),
  str('onPremisesDomainName', 'the DNS name of the Active Directory domain', { mutability: 'readOnly' }),
  attr('onPremisesLastSyncDateTime', 'dateTime', 'when the agent last changed the object', { mutability: 'readOnly' }),
  str('mailNickname', 'the mail alias'),
  str('proxyAddresses', 'typed addresses such as SMTP:alice@contoso.com', { multiValued: true }),
];

export const skybridgeUserAttributes: AttributeDef[] = [
  ...onPremisesAttributes,
  str('usageLocation', 'ISO 3166 country code where the user uses services (needed for licences)', { caseExact: true }),
];

export const groupAttributes: AttributeDef[] = [
  str('displayName', 'the group\'s name', { required: true }),
  attr('members', 'complex', 'the direct members; a large group returns them a page at a time (see the Skybridge group extension)', {
    multiValued: true,
    subAttributes: [
      str('value', 'the member\'s id', { mutability: 'immutable', caseExact: true }),
      attr('$ref', 'reference', 'the URI of the member', { mutability: 'immutable', referenceTypes: ['User', 'Group'] }),
      str('display', 'the member\'s display name', { mutability: 'readOnly' }),
      str('type', 'User, Group or Contact', { mutability: 'immutable', canonicalValues: ['User', 'Group', 'Contact'] }),
    ],
  }),
];

export const skybridgeGroupAttributes: AttributeDef[] = [
  ...onPremisesAttributes,
  str('description', 'description'),
  str('mail', 'the group\'s email address'),
  attr('mailEnabled', 'boolean', 'whether the group receives mail'),
  attr('securityEnabled', 'boolean', 'whether the group grants access'),
  str('membersNextCursor', 'when the group has more members than this response holds: pass it as membersCursor to read the next page', { mutability: 'readOnly', caseExact: true, returned: 'default' }),
];

export interface SchemaDef {
  id: string;
  name: string;
  description: string;
  attributes: AttributeDef[];
}

export const schemas: SchemaDef[] = [
  { id: schemaUris.user, name: 'User', description: 'User Account', attributes: userAttributes },
  { id: schemaUris.enterprise, name: 'EnterpriseUser', description: 'Enterprise User', attributes: enterpriseAttributes },
  { id: schemaUris.skybridgeUser, name: 'SkybridgeUser', description: 'On-premises and cloud-owned fields of a user', attributes: skybridgeUserAttributes },
  { id: schemaUris.group, name: 'Group', description: 'Group', attributes: groupAttributes },
  { id: schemaUris.skybridgeGroup, name: 'SkybridgeGroup', description: 'On-premises and mail fields of a group', attributes: skybridgeGroupAttributes },
];

export type ResourceKind = 'User' | 'Group';

export interface ResourceTypeDef {
  name: ResourceKind;
  endpoint: string;
  schema: string;
  extensions: string[];
}

export const resourceTypes: Record<ResourceKind, ResourceTypeDef> = {
  User: { name: 'User', endpoint: '/Users', schema: schemaUris.user, extensions: [schemaUris.enterprise, schemaUris.skybridgeUser] },
  Group: { name: 'Group', endpoint: '/Groups', schema: schemaUris.group, extensions: [schemaUris.skybridgeGroup] },
};

/** An attribute of a resource type, found by (optionally qualified) name. */
export interface ResolvedAttribute {
  schema: string;
  def: AttributeDef;
  sub?: AttributeDef;
}

const byId = new Map(schemas.map((s) => [s.id.toLowerCase(), s]));

/**
 * Finds `attr` (and `sub`) in a resource type's schemas, case-insensitively
 * (attribute names are case-insensitive, RFC 7643 §2.1). Unqualified names
 * are looked up in the core schema, then in the extensions.
 */
export function resolveAttribute(kind: ResourceKind, path: { schema?: string | undefined; attr: string; sub?: string | undefined }): ResolvedAttribute | null {
  const type = resourceTypes[kind];
  const candidates = path.schema ? [path.schema] : [type.schema, ...type.extensions];
  const name = path.attr.toLowerCase();
  if (!path.schema || path.schema.toLowerCase() === type.schema.toLowerCase()) {
    const common = commonAttributes.find((a) => a.name.toLowerCase() === name);
    if (common) return withSub(type.schema, common, path.sub);
  }
  for (const uri of candidates) {
    if (![type.schema, ...type.extensions].some((s) => s.toLowerCase() === uri.toLowerCase())) return null;
    const schema = byId.get(uri.toLowerCase());
    const def = schema?.attributes.find((a) => a.name.toLowerCase() === name);
    if (schema && def) return withSub(schema.id, def, path.sub);
  }
  return null;
}

function withSub(schema: string, def: AttributeDef, sub: string | undefined): ResolvedAttribute | null {
  if (!sub) return { schema, def };
  const s = def.subAttributes?.find((a) => a.name.toLowerCase() === sub.toLowerCase());
  return s ? { schema, def, sub: s } : null;
}

/** A schema as /Schemas serves it. */
export function schemaResource(s: SchemaDef, baseUrl: string): Record<string, unknown> {
  return {
    schemas: [schemaUris.schema],
    id: s.id, name: s.name, description: s.description,
    attributes: s.attributes,
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${s.id}` },
  };
}
