/** The rootDSE: naming contexts, the DC's identity and its highest committed USN. */
import type { Client } from 'ldapts';
import { ConnectError } from '../errors.ts';
import { guidToString } from './guid.ts';
import { searchOnce } from './ldap/raw-search.ts';

export interface RootDse {
  defaultNamingContext: string;
  configurationNamingContext: string;
  rootDomainNamingContext: string;
  dnsHostName: string;
  /** DN of the DC's NTDS Settings object */
  dsServiceName: string;
  highestCommittedUSN: bigint;
  supportedControls: Set<string>;
  /** The DC's database identity (its NTDS Settings' invocationId): a USN watermark is only valid for it. */
  invocationId: string;
}

export async function readRootDse(client: Client): Promise<RootDse> {
  const { entries } = await searchOnce(client, {
    base: '', scope: 'base', filter: '(objectClass=*)',
    attributes: ['defaultNamingContext', 'configurationNamingContext', 'rootDomainNamingContext', 'dnsHostName', 'dsServiceName', 'highestCommittedUSN', 'supportedControl'],
  });
  const e = entries[0];
  const one = (name: string) => e?.attributes.get(name.toLowerCase())?.values[0]?.toString('utf8');
  const defaultNamingContext = one('defaultNamingContext');
  const dsServiceName = one('dsServiceName');
  const usn = one('highestCommittedUSN');
  if (!e || !defaultNamingContext || !dsServiceName || !usn) {
    throw new ConnectError('ad_protocol_error', 'the server\'s rootDSE lacks defaultNamingContext, dsServiceName or highestCommittedUSN: it is not an Active Directory domain controller', {
      subject: 'activeDirectory.servers', fix: 'point activeDirectory.servers at a domain controller',
    });
  }
  const { entries: ntds } = await searchOnce(client, { base: dsServiceName, scope: 'base', filter: '(objectClass=*)', attributes: ['invocationId'] });
  const invocation = ntds[0]?.attributes.get('invocationid')?.values[0];
  if (!invocation || invocation.length !== 16) {
    throw new ConnectError('ad_missing_rights', `cannot read invocationId of ${dsServiceName}`, {
      subject: dsServiceName, fix: 'let the connector account read the DC\'s NTDS Settings object (Authenticated Users can by default)',
    });
  }
  return {
    defaultNamingContext,
    configurationNamingContext: one('configurationNamingContext') ?? '',
    rootDomainNamingContext: one('rootDomainNamingContext') ?? defaultNamingContext,
    dnsHostName: one('dnsHostName') ?? '',
    dsServiceName,
    highestCommittedUSN: BigInt(usn),
    supportedControls: new Set((e.attributes.get('supportedcontrol')?.values ?? []).map((v) => v.toString('utf8'))),
    invocationId: guidToString(invocation),
  };
}
