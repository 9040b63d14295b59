/**
 * Default scoping (brief §2, Azure AD Connect's defaults): which imported
 * objects the sync engine may project. Out-of-scope objects stay in the
 * connector space with the reason, so that moving into or out of scope is a
 * change like any other.
 */
import type { ActiveDirectoryConfig } from '../config/agent-config.ts';
import type { ObjectKind } from './attributes.ts';
import { dnKey, isWithinKey } from './dn.ts';

export type ScopeReason =
  | 'container'
  | 'outside-containers'
  | 'excluded-container'
  | 'critical-system-object'
  | 'no-samaccountname'
  | 'reserved-name'
  | 'replication-conflict'
  | 'contact-not-mail-enabled'
  | 'other-class';

export interface ScopeInput {
  dn: string;
  kind: ObjectKind;
  attributes: Record<string, string[]>;
}

/** The keys of the configured containers, computed once (every imported object is scoped against them). */
const containerKeys = new Map<string, string>();
function containerKey(dn: string): string {
  let key = containerKeys.get(dn);
  if (key === undefined) {
    if (containerKeys.size >= 256) containerKeys.clear();
    key = dnKey(dn);
    containerKeys.set(dn, key);
  }
  return key;
}

export function scopeOf(object: ScopeInput, config: Pick<ActiveDirectoryConfig, 'containers' | 'excludedContainers'>, domainDn: string): ScopeReason | null {
  const containers = config.containers.length ? config.containers : [domainDn];
  const key = dnKey(object.dn);
  if (!containers.some((c) => isWithinKey(key, containerKey(c)))) return 'outside-containers';
  if (config.excludedContainers.some((c) => isWithinKey(key, containerKey(c)))) return 'excluded-container';
  if (object.kind === 'organizationalUnit' || object.kind === 'container' || object.kind === 'domain') return 'container';
  if (object.kind === 'other') return 'other-class';
  const a = object.attributes;
  if (/\\0ACNF:|\nCNF:/i.test(object.dn)) return 'replication-conflict';
  if (a.isCriticalSystemObject?.[0]?.toUpperCase() === 'TRUE') return 'critical-system-object';
  if (object.kind === 'contact') {
    return a.mail?.length || a.proxyAddresses?.length ? null : 'contact-not-mail-enabled';
  }
  const sam = a.sAMAccountName?.[0];
  if (!sam) return 'no-samaccountname';
  if (/^(AAD_|MSOL_)/i.test(sam)) return 'reserved-name';
  return null;
}
