/**
 * The DNS records a customer domain needs to use the service, built from the
 * deployment's service domain (--service-domain), as Microsoft 365 lists
 * them for a domain: mail delivery, the sender policy, client set-up, mail
 * signing and device registration. Each is checked live and gets a status,
 * what was found, and the exact value to set. The table is documented in
 * docs/domains.md.
 */
import type { DnsLookup } from './dns-lookup.ts';

export type RecordStatus = 'ok' | 'missing' | 'wrong_value' | 'multiple_spf' | 'spf_missing_include' | 'conflicting_cname' | 'conflicting_record' | 'lookup_failed';

export interface ServiceRecord {
  purpose: string;
  type: 'MX' | 'TXT' | 'CNAME';
  /** the host name, relative to the domain ("@" is the domain itself) */
  name: string;
  fqdn: string;
  value: string;
  priority?: number;
  ttl: number;
}

export interface RecordCheck extends ServiceRecord {
  status: RecordStatus;
  found: string[];
  /** what to do, in one sentence; absent when the record is right */
  fix?: string;
}

const dashes = (domain: string) => domain.replace(/\./g, '-');

export function serviceRecords(domain: string, serviceDomain: string): ServiceRecord[] {
  const at = (name: string) => (name === '@' ? domain : `${name}.${domain}`);
  const rec = (purpose: string, type: ServiceRecord['type'], name: string, value: string, extra: Partial<ServiceRecord> = {}): ServiceRecord =>
    ({ purpose, type, name, fqdn: at(name), value, ttl: 3600, ...extra });
  return [
    rec('Mail delivery', 'MX', '@', `${dashes(domain)}.mail.${serviceDomain}`, { priority: 0 }),
    rec('Sender policy (SPF)', 'TXT', '@', `v=spf1 include:spf.${serviceDomain} -all`),
    rec('Mail client set-up', 'CNAME', 'autodiscover', `autodiscover.${serviceDomain}`),
    rec('Mail signing (DKIM)', 'CNAME', 'selector1._domainkey', `selector1-${dashes(domain)}._domainkey.${serviceDomain}`),
    rec('Device registration', 'CNAME', 'enterpriseregistration', `enterpriseregistration.${serviceDomain}`),
    rec('Device management', 'CNAME', 'enterpriseenrollment', `enterpriseenrollment.${serviceDomain}`),
  ];
}

/** Checks every service record of a domain; a failed query marks its record, never the others. */
export async function checkServiceRecords(dns: DnsLookup, domain: string, serviceDomain: string): Promise<RecordCheck[]> {
  return Promise.all(serviceRecords(domain, serviceDomain).map(async (r) => {
    try {
      return await checkRecord(dns, r, serviceDomain);
    } catch (err) {
      return { ...r, status: 'lookup_failed' as const, found: [], fix: `${(err as Error).message}` };
    }
  }));
}

async function checkRecord(dns: DnsLookup, r: ServiceRecord, serviceDomain: string): Promise<RecordCheck> {
  if (r.type === 'MX') {
    const found = (await dns.mx(r.fqdn)).sort((a, b) => a.priority - b.priority);
    const shown = found.map((m) => `${m.priority} ${m.exchange}`);
    const ours = found.find((m) => m.exchange === r.value);
    if (!found.length) return { ...r, status: 'missing', found: shown, fix: `add an MX record at ${r.fqdn} pointing to ${r.value} with priority ${r.priority}` };
    if (!ours) return { ...r, status: 'wrong_value', found: shown, fix: `mail for ${r.fqdn} goes to ${found[0]!.exchange}: change the MX record to ${r.value} (priority ${r.priority})` };
    if (found.some((m) => m !== ours && m.priority <= ours.priority)) {
      return { ...r, status: 'wrong_value', found: shown, fix: `another MX record has the same or a higher priority than ${r.value}: remove it, or give ${r.value} the lowest priority number` };
    }
    return { ...r, status: 'ok', found: shown };
  }
  if (r.type === 'TXT') {
    const spf = (await dns.txt(r.fqdn)).filter((t) => /^v=spf1(\s|$)/i.test(t.trim()));
    if (!spf.length) return { ...r, status: 'missing', found: [], fix: `add a TXT record at ${r.fqdn}: ${r.value}` };
    if (spf.length > 1) {
      return { ...r, status: 'multiple_spf', found: spf, fix: `${r.fqdn} has ${spf.length} SPF records, which makes every SPF check fail (RFC 7208 §3.2): merge them into one that includes include:spf.${serviceDomain}` };
    }
    const include = `include:spf.${serviceDomain}`;
    const terms = spf[0]!.trim().split(/\s+/);
    if (!terms.some((t) => t.toLowerCase() === include)) {
      const allAt = terms.findIndex((t) => /^[-~?+]?all$/i.test(t));
      const merged = allAt < 0 ? [...terms, include, '-all'] : [...terms.slice(0, allAt), include, ...terms.slice(allAt)];
      return { ...r, status: 'spf_missing_include', found: spf, value: merged.join(' '), fix: `the SPF record lacks ${include}: change it to "${merged.join(' ')}"` };
    }
    return { ...r, status: 'ok', found: spf };
  }
  const found = await dns.cname(r.fqdn);
  if (found.length && found.includes(r.value)) return { ...r, status: 'ok', found };
  if (found.length) return { ...r, status: 'conflicting_cname', found, fix: `${r.fqdn} is a CNAME to ${found[0]}: change it to point to ${r.value}` };
  const other = await dns.a(r.fqdn);
  if (other.length) return { ...r, status: 'conflicting_record', found: other.map((a) => `A ${a}`), fix: `${r.fqdn} has A records, and a CNAME cannot sit beside other records: remove them, then add a CNAME to ${r.value}` };
  return { ...r, status: 'missing', found: [], fix: `add a CNAME record at ${r.fqdn} pointing to ${r.value}` };
}
