/**
 * The default rules: how an Active Directory object becomes a cloud user,
 * group or contact, after Azure AD Connect's defaults ("In from AD" and
 * "Out to AAD" rules), including its default exclusions.
 *
 * Out of scope (never exported): objects default scoping already excluded
 * (containers, critical system objects, AAD_/MSOL_ accounts, replication
 * conflicts, contacts without mail: see ad/scope.ts), computers, groups that
 * are neither security- nor mail-enabled.
 */
import type { SpaceObject } from '../space/connector-space.ts';
import type { ObjectType } from '@skybridge/protocol';

export type Projection =
  | { kind: 'export'; type: ObjectType; attributes: Record<string, unknown> }
  | { kind: 'skip'; reason: string }
  | { kind: 'error'; code: string; attribute: string; message: string };

const ADS_UF_ACCOUNTDISABLE = 0x2;
const GROUP_TYPE_SECURITY_ENABLED = 0x80000000;

export interface RuleContext {
  /** DNS name of the domain (onPremisesDomainName) */
  domainDns: string;
}

function one(o: SpaceObject, name: string): string | undefined {
  const v = o.attributes[name]?.[0];
  return v === undefined || v === '' ? undefined : v;
}

function many(o: SpaceObject, name: string): string[] | undefined {
  const v = o.attributes[name];
  return v && v.length ? [...v].sort() : undefined;
}

/** Keeps only the attributes that have a value, so that equal objects give equal JSON. */
function defined(attributes: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in attributes) if (attributes[k] !== undefined) out[k] = attributes[k];
  return out;
}

const onPremises = (o: SpaceObject, ctx: RuleContext) => ({
  onPremisesDistinguishedName: o.dn,
  onPremisesSecurityIdentifier: one(o, 'objectSid'),
  onPremisesSamAccountName: one(o, 'sAMAccountName'),
  onPremisesDomainName: ctx.domainDns,
});

export function project(o: SpaceObject, ctx: RuleContext): Projection {
  if (o.deleted) return { kind: 'skip', reason: 'deleted' };
  if (o.scope) return { kind: 'skip', reason: o.scope };
  switch (o.kind) {
    case 'user': {
      const upn = one(o, 'userPrincipalName');
      if (!upn) return { kind: 'error', code: 'missing_upn', attribute: 'userPrincipalName', message: `${o.dn} has no userPrincipalName: set one in Active Directory (user@domain) so that it can sign in to the cloud` };
      const uac = Number(one(o, 'userAccountControl') ?? 0);
      return {
        kind: 'export', type: 'user',
        attributes: defined({
          userPrincipalName: upn,
          displayName: one(o, 'displayName') ?? one(o, 'cn'),
          givenName: one(o, 'givenName'),
          surname: one(o, 'sn'),
          mail: one(o, 'mail'),
          mailNickname: one(o, 'mailNickname') ?? one(o, 'sAMAccountName'),
          proxyAddresses: many(o, 'proxyAddresses'),
          accountEnabled: (uac & ADS_UF_ACCOUNTDISABLE) === 0,
          jobTitle: one(o, 'title'),
          department: one(o, 'department'),
          companyName: one(o, 'company'),
          employeeId: one(o, 'employeeID'),
          telephoneNumber: one(o, 'telephoneNumber'),
          mobile: one(o, 'mobile'),
          streetAddress: one(o, 'streetAddress'),
          city: one(o, 'l'),
          state: one(o, 'st'),
          postalCode: one(o, 'postalCode'),
          country: one(o, 'co') ?? one(o, 'c'),
          ...onPremises(o, ctx),
        }),
      };
    }
    case 'group': {
      const groupType = Number(one(o, 'groupType') ?? 0) >>> 0;
      const security = (groupType & GROUP_TYPE_SECURITY_ENABLED) !== 0;
      const mailEnabled = !!(one(o, 'mail') || many(o, 'proxyAddresses'));
      if (!security && !mailEnabled) return { kind: 'skip', reason: 'distribution-group-without-mail' };
      return {
        kind: 'export', type: 'group',
        attributes: defined({
          displayName: one(o, 'displayName') ?? one(o, 'cn') ?? one(o, 'sAMAccountName'),
          description: one(o, 'description'),
          mail: one(o, 'mail'),
          mailNickname: one(o, 'mailNickname') ?? one(o, 'sAMAccountName'),
          mailEnabled,
          securityEnabled: security,
          proxyAddresses: many(o, 'proxyAddresses'),
          ...onPremises(o, ctx),
        }),
      };
    }
    case 'contact': {
      const mail = one(o, 'mail');
      if (!mail) return { kind: 'skip', reason: 'contact-not-mail-enabled' };
      return {
        kind: 'export', type: 'contact',
        attributes: defined({
          displayName: one(o, 'displayName') ?? one(o, 'cn') ?? mail,
          mail,
          givenName: one(o, 'givenName'),
          surname: one(o, 'sn'),
          mailNickname: one(o, 'mailNickname'),
          proxyAddresses: many(o, 'proxyAddresses'),
          companyName: one(o, 'company'),
          onPremisesDistinguishedName: o.dn,
          onPremisesDomainName: ctx.domainDns,
        }),
      };
    }
    case 'computer':
      return { kind: 'skip', reason: 'computer' };
    default:
      return { kind: 'skip', reason: o.kind };
  }
}
