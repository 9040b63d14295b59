/**
 * Password hash synchronization as the agent's configuration sets it up:
 * the domain controller (passwordHashSync.domainController, else the first
 * LDAP server's host) and the connector account as NTLM names it.
 */
import type { LoadedConfig } from '../config/load-config.ts';
import type { CloudClient } from '../cloud/cloud-client.ts';
import type { ConnectorSpace } from '../space/connector-space.ts';
import type { NtlmCredentials } from '../drsr/ntlm/client.ts';
import { DrsHashSource } from '../drsr/drs-hash-source.ts';
import { PasswordHashSync, type PasswordHashSyncOptions } from './password-hash-sync.ts';

/** DOMAIN\name, or a userPrincipalName with an empty domain (both accepted by NTLM). */
export function ntlmAccount(bindAs: string, password: string): NtlmCredentials {
  const slash = bindAs.indexOf('\\');
  if (slash > 0) return { domain: bindAs.slice(0, slash), user: bindAs.slice(slash + 1), password };
  return { domain: '', user: bindAs, password };
}

/** The host password hashes are replicated from. */
export function hashSourceHost(loaded: LoadedConfig): string {
  return loaded.config.passwordHashSync.domainController ?? new URL(loaded.config.activeDirectory.servers[0]!).hostname;
}

export function passwordHashSyncFor(loaded: LoadedConfig, space: ConnectorSpace, cloud: CloudClient, options: PasswordHashSyncOptions = {}): PasswordHashSync | null {
  if (!loaded.config.passwordHashSync.enabled) return null;
  const ad = loaded.config.activeDirectory;
  return new PasswordHashSync(space, cloud, () => DrsHashSource.open({
    host: hashSourceHost(loaded),
    credentials: ntlmAccount(ad.bindAs, loaded.secrets.adPassword),
    timeoutMs: ad.connectTimeoutSeconds * 1000 * 3,
  }), { bulkFrom: loaded.config.passwordHashSync.bulkFrom, ...options });
}
