import type { ActiveDirectoryConfig } from '../config/agent-config.ts';
import { AdConnection } from './connection.ts';

/**
 * The domain's account lockout threshold (failed sign-ins before AD locks an
 * account; 0: never), read from the domain object. The agent reports it, so
 * that the cloud keeps its own smart lockout for pass-through sign-ins below
 * it: the cloud stops a guesser before AD locks the real user out.
 */
export async function readLockoutThreshold(config: ActiveDirectoryConfig, password: string): Promise<number> {
  const conn = await AdConnection.open(config, password);
  try {
    return await lockoutThresholdOf(conn);
  } finally {
    await conn.close();
  }
}

/** The same, on an open connection. */
export async function lockoutThresholdOf(conn: AdConnection): Promise<number> {
  const { entries } = await conn.search({ base: conn.rootDse.defaultNamingContext, scope: 'base', filter: '(objectClass=*)', attributes: ['lockoutThreshold'] });
  const value = Number(entries[0]?.attributes.get('lockoutthreshold')?.values[0]?.toString('utf8') ?? '0');
  return Number.isSafeInteger(value) && value >= 0 ? value : 0;
}
