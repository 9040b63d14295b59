/** A domain as the admin API presents it (packages/cloud/src/domains/domains.ts presentDomain). */
export interface Domain {
  name: string;
  isInitial: boolean;
  isDefault: boolean;
  isVerified: boolean;
  verifiedDateTime: string | null;
  authenticationType: 'managed' | 'federated';
  federation: Federation | null;
  createdDateTime: string;
  /** unverified domains only: the TXT record that proves ownership, and the MX alternative */
  verificationRecords?: VerificationRecord[];
  lastVerificationAttempt?: { at: string; found: boolean; detail: string } | null;
}

export interface VerificationRecord {
  type: 'TXT' | 'MX';
  name: string;
  fqdn: string;
  value: string;
  ttl: number;
  priority?: number;
  note?: string;
}

export type Federation =
  | { protocol: 'saml'; issuerUri: string; passiveSignInUri: string; signOutUri?: string; signingCertificate: { subject: string; notAfter: string; sha256: string } | null }
  | { protocol: 'oidc'; issuer: string; clientId: string; immutableIdClaim: string; clientSecretSet: boolean };

/** GET /domains/:name/service-records (packages/cloud/src/domains/service-records.ts). */
export interface ServiceRecords {
  domain: string;
  serviceDomain: string;
  allOk: boolean;
  checkedDateTime: string;
  records: RecordCheck[];
}

export type RecordStatus = 'ok' | 'missing' | 'wrong_value' | 'multiple_spf' | 'spf_missing_include' | 'conflicting_cname' | 'conflicting_record' | 'lookup_failed';

export interface RecordCheck {
  purpose: string;
  type: 'MX' | 'TXT' | 'CNAME';
  name: string;
  fqdn: string;
  value: string;
  priority?: number;
  ttl: number;
  status: RecordStatus;
  found: string[];
  fix?: string;
}

/** The roles that change domains (packages/cloud/src/routes/domains.ts domainAdmins). */
export const domainAdminRoles = ['GlobalAdministrator', 'HybridIdentityAdministrator'];
export const domainAdminNote = 'You can see the domains. Adding, verifying and removing domains, and changing the default, needs the Global Administrator or Hybrid Identity Administrator role.';

export function signInMethod(d: Pick<Domain, 'authenticationType' | 'federation'>): string {
  if (d.authenticationType === 'managed') return 'Managed (Skybridge)';
  if (d.federation?.protocol === 'saml') return 'Federated (SAML 2.0)';
  if (d.federation?.protocol === 'oidc') return 'Federated (OpenID Connect)';
  return 'Federated';
}

const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * The cloud's domain name rule (packages/cloud/src/domains/domains.ts
 * domainName), checked before sending so that the admin hears at once what
 * is wrong: the name, or a problem in plain words.
 */
export function checkDomainName(raw: string): { name: string } | { problem: string } {
  const v = raw.trim().toLowerCase().replace(/\.$/, '');
  if (!v) return { problem: 'Enter the domain name, such as contoso.com.' };
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(v) || v.includes('/')) return { problem: 'Enter the domain name alone, without https:// or a path: contoso.com, not https://contoso.com/.' };
  if (v.includes('@')) return { problem: `Enter only the domain, without the user name: ${v.slice(v.lastIndexOf('@') + 1) || 'contoso.com'}, not ${v}.` };
  if (/\s/.test(v)) return { problem: 'A domain name has no spaces: enter it as contoso.com.' };
  if (v.length > 253) return { problem: 'A domain name is at most 253 characters long.' };
  const labels = v.split('.');
  if (labels.length < 2) return { problem: `Enter the whole domain name, with its ending, such as ${v}.com: a domain has at least two parts separated by a dot.` };
  if (/^[0-9.]+$/.test(v)) return { problem: 'Enter a domain name, not an IP address.' };
  const bad = labels.find((l) => !label.test(l));
  if (bad !== undefined) {
    return { problem: bad === ''
      ? 'The name has an empty part (two dots in a row, or a dot at the start): enter it as contoso.com.'
      : `"${bad}" is not a valid part of a domain name: use letters, digits and hyphens only, at most 63 characters, not starting or ending with a hyphen. Internationalized names are entered in their xn-- form.` };
  }
  return { name: v };
}
