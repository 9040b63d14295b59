/** A seeded test DC and an agent configuration pointing at it. */
import { chmodSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startTestDc, type TestDc } from '../../../../scripts/test-dc/test-dc.ts';
import { seedSmall, type SmallDirectory } from '../../../../scripts/test-dc/seed.ts';
import { loadConfig, type LoadedConfig } from '../../src/config/load-config.ts';

export type { TestDc, SmallDirectory };

/** A DC holding the small seeded directory (seeded once per machine, copied per call). */
export async function smallDc(options: { newInvocationId?: boolean } = {}): Promise<{ dc: TestDc; seed: SmallDirectory }> {
  const dc = await startTestDc({ seed: { name: 'small-v1', run: (d) => seedSmall(d) }, ...options });
  return { dc, seed: dc.manifest as SmallDirectory };
}

export interface AgentFiles {
  dir: string;
  configPath: string;
  loaded: LoadedConfig;
  cleanup(): void;
}

/** Writes a config file (and a 0600 password file) for the DC, with `activeDirectory` overrides. */
export function agentConfig(dc: TestDc, overrides: Record<string, unknown> = {}, options: { account?: { bindAs: string; password: string } } = {}): AgentFiles {
  const dir = mkdtempSync(join(tmpdir(), 'skybridge-agent-'));
  const passwordFile = join(dir, 'ad-password');
  writeFileSync(passwordFile, `${options.account?.password ?? dc.connector.password}\n`, { mode: 0o600 });
  chmodSync(passwordFile, 0o600);
  const config = {
    version: 1,
    stateDirectory: './state',
    activeDirectory: {
      servers: [dc.ldapsUrl],
      tls: { caFile: dc.caFile, serverName: dc.hostName },
      bindAs: options.account?.bindAs ?? dc.connector.userPrincipalName,
      passwordFile: './ad-password',
      ...overrides,
    },
  };
  const configPath = join(dir, 'connect.yaml');
  writeFileSync(configPath, stringify(config));
  return { dir, configPath, loaded: loadConfig(configPath), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
