/**
 * What the connector reads from Active Directory, and how it decodes it.
 *
 * The list covers what Azure AD Connect's default rules use for users,
 * groups, contacts and computers, plus what scoping needs. A DC ignores
 * requested attributes its schema does not know (Exchange's, on a domain
 * without Exchange).
 */
import { isUtf8 } from 'node:buffer';
import { guidToString, sidToString } from './guid.ts';
import { firstValue, type RawAttribute, type RawEntry } from './ldap/entry-bytes.ts';

export const importedAttributes = [
  // identity and anchors
  'objectGUID', 'objectSid', 'mS-DS-ConsistencyGuid', 'objectClass', 'objectCategory', 'sAMAccountName', 'userPrincipalName',
  'distinguishedName', 'name', 'cn', 'sIDHistory', 'isCriticalSystemObject', 'isDeleted', 'isRecycled', 'uSNChanged', 'whenChanged', 'whenCreated',
  // person
  'givenName', 'sn', 'initials', 'middleName', 'displayName', 'description', 'title', 'department', 'company', 'division',
  'physicalDeliveryOfficeName', 'telephoneNumber', 'otherTelephone', 'mobile', 'otherMobile', 'homePhone', 'ipPhone', 'pager',
  'facsimileTelephoneNumber', 'streetAddress', 'postOfficeBox', 'l', 'st', 'postalCode', 'c', 'co', 'countryCode',
  'employeeID', 'employeeNumber', 'employeeType', 'manager', 'info', 'preferredLanguage', 'wWWHomePage', 'url', 'thumbnailPhoto',
  'extensionAttribute1', 'extensionAttribute2', 'extensionAttribute3', 'extensionAttribute4', 'extensionAttribute5',
  'extensionAttribute6', 'extensionAttribute7', 'extensionAttribute8', 'extensionAttribute9', 'extensionAttribute10',
  'extensionAttribute11', 'extensionAttribute12', 'extensionAttribute13', 'extensionAttribute14', 'extensionAttribute15',
  // account state
  'userAccountControl', 'accountExpires', 'pwdLastSet',
  // mail
  'mail', 'mailNickname', 'proxyAddresses', 'targetAddress', 'showInAddressBook', 'msExchHideFromAddressLists', 'legacyExchangeDN',
  // groups
  'groupType', 'managedBy',
  // computers
  'dNSHostName', 'operatingSystem', 'operatingSystemVersion', 'userCertificate',
] as const;

/** Attributes whose values are bytes, not text; kept base64 in the connector space. */
export const binaryAttributes = new Set(['objectguid', 'objectsid', 'ms-ds-consistencyguid', 'sidhistory', 'thumbnailphoto', 'usercertificate']);

/** Linked, possibly huge: read by range, stored one row per value. */
export const memberAttribute = 'member';

const canonical = new Map<string, string>([...importedAttributes, memberAttribute].map((a) => [a.toLowerCase(), a]));

/** Object classes the connector imports; everything else in the domain is skipped at the search. */
export const importFilter = '(|(objectClass=user)(objectClass=group)(objectClass=contact)(objectClass=organizationalUnit)(objectClass=container)(objectClass=domainDNS))';

export type ObjectKind = 'user' | 'computer' | 'group' | 'contact' | 'organizationalUnit' | 'container' | 'domain' | 'other';

export function kindOf(objectClasses: string[]): ObjectKind {
  const classes = new Set(objectClasses.map((c) => c.toLowerCase()));
  if (classes.has('computer')) return 'computer';
  if (classes.has('user')) return 'user';
  if (classes.has('group')) return 'group';
  if (classes.has('contact')) return 'contact';
  if (classes.has('organizationalunit')) return 'organizationalUnit';
  if (classes.has('domaindns')) return 'domain';
  if (classes.has('container') || classes.has('builtindomain')) return 'container';
  return 'other';
}

/** Upper bounds on what one value may hold; larger values are refused, not truncated. */
export const valueLimits = {
  textBytes: 16 * 1024,
  binaryBytes: 256 * 1024,
  valuesPerAttribute: 5000,
};

export interface ValueProblem {
  attribute: string;
  code: 'invalid_utf8' | 'value_too_large' | 'too_many_values' | 'invalid_binary';
  message: string;
}

export interface RangeInfo {
  low: number;
  /** null when the range ends with *, i.e. this was the last part */
  high: number | null;
}

export interface DecodedEntry {
  dn: string;
  guid: string | undefined;
  /** canonical attribute name → values (text, or base64 for binary attributes) */
  attributes: Record<string, string[]>;
  /** member values in this answer, with the range they came in (undefined: the whole list) */
  member: { values: string[]; range: RangeInfo | undefined } | undefined;
  /** DirSync with incremental values: member values added and removed */
  memberDelta: { added: string[]; removed: string[] } | undefined;
  problems: ValueProblem[];
}


export function parseRange(type: string): { name: string; range: RangeInfo | undefined } {
  if (!type.includes(';')) return { name: type, range: undefined };
  const m = /^([^;]+)(?:;.*?range=(\d+)-(\d+|\*))?/i.exec(type)!;
  return { name: m[1]!, range: m[2] === undefined ? undefined : { low: Number(m[2]), high: m[3] === '*' ? null : Number(m[3]) } };
}

function decodeValues(name: string, lower: string, attr: RawAttribute, problems: ValueProblem[], dn: string): string[] | undefined {
  const binary = binaryAttributes.has(lower);
  const isMember = lower === memberAttribute;
  if (!isMember && attr.values.length > valueLimits.valuesPerAttribute) {
    problems.push({ attribute: name, code: 'too_many_values', message: `${dn}: ${name} has ${attr.values.length} values; at most ${valueLimits.valuesPerAttribute} are synchronized` });
    return undefined;
  }
  const out: string[] = [];
  for (let i = 0; i < attr.values.length; i++) {
    const value = attr.values[i]!;
    const limit = binary ? valueLimits.binaryBytes : valueLimits.textBytes;
    if (!isMember && value.length > limit) {
      problems.push({ attribute: name, code: 'value_too_large', message: `${dn}: a value of ${name} has ${value.length} bytes; the limit is ${limit}` });
      return undefined;
    }
    if (binary) {
      if (lower === 'objectguid' || lower === 'ms-ds-consistencyguid') {
        if (value.length !== 16) {
          problems.push({ attribute: name, code: 'invalid_binary', message: `${dn}: ${name} must hold 16 bytes, it holds ${value.length}` });
          return undefined;
        }
        out.push(lower === 'objectguid' ? guidToString(value) : value.toString('base64'));
      } else if (lower === 'objectsid' || lower === 'sidhistory') {
        try {
          out.push(sidToString(value));
        } catch (err) {
          problems.push({ attribute: name, code: 'invalid_binary', message: `${dn}: ${name} is not a valid SID (${(err as Error).message})` });
          return undefined;
        }
      } else out.push(value.toString('base64'));
    } else {
      // strict: bytes that are not UTF-8 are reported, never decoded with replacement characters
      if (isUtf8(value)) out.push(value.toString('utf8'));
      else {
        problems.push({ attribute: name, code: 'invalid_utf8', message: `${dn}: ${name} holds bytes that are not UTF-8 (${value.subarray(0, 24).toString('hex')}…)` });
        return undefined;
      }
    }
  }
  return out;
}

/** Decodes and validates one entry; a value that cannot be used is reported in `problems`, never guessed at. */
export function decodeEntry(raw: RawEntry, options: { dirsyncIncremental?: boolean } = {}): DecodedEntry {
  const problems: ValueProblem[] = [];
  const attributes: Record<string, string[]> = {};
  let member: DecodedEntry['member'];
  let memberDelta: DecodedEntry['memberDelta'];
  let guid: string | undefined;
  for (const attr of raw.attributes.values()) {
    const { name: sent, range } = parseRange(attr.type);
    // DirSync adds attributes nobody asked for (parentGUID, instanceType): only what the connector reads is kept.
    const lower = sent.toLowerCase();
    const name = canonical.get(lower);
    if (name === undefined) continue;
    const values = decodeValues(name, lower, attr, problems, raw.dn);
    if (!values) continue;
    if (name === 'objectGUID') {
      // the anchor, kept apart from the attributes
      guid = values[0];
      continue;
    }
    if (name === memberAttribute) {
      // DirSync incremental values: range=1-1 carries added values, range=0-0 removed ones.
      if (options.dirsyncIncremental && range && range.low === 1 && range.high === 1) (memberDelta ??= { added: [], removed: [] }).added.push(...values);
      else if (options.dirsyncIncremental && range && range.low === 0 && range.high === 0) (memberDelta ??= { added: [], removed: [] }).removed.push(...values);
      else member = { values, range };
      continue;
    }
    attributes[name] = values;
  }
  return { dn: raw.dn, guid, attributes, member, memberDelta, problems };
}

/** The objectGUID of an entry (its BER, ldap/entry-bytes.ts), if it carries a valid one; the other attributes are not read. */
export function guidOf(entry: Buffer): string | undefined {
  const g = firstValue(entry, 'objectGUID');
  return g && g.length === 16 ? guidToString(g) : undefined;
}
