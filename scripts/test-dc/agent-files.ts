/** An agent configuration (and its 0600 password file) pointing at a test DC. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { TestDc } from './test-dc.ts';

export interface AgentFiles {
  dir: string;
  configPath: string;
  cleanup(): void;
}

/**
 * Writes `connect.yaml` and `ad-password` into `dir` (a new temporary
 * directory by default), with `activeDirectory` overrides. The connector
 * account is the DC's least-privileged one unless `account` says otherwise;
 * `topLevel` adds sections such as cloud and sync.
 */
export function writeAgentFiles(dc: TestDc, overrides: Record<string, unknown> = {}, options: { account?: { bindAs: string; password: string }; dir?: string; topLevel?: Record<string, unknown> } = {}): AgentFiles {
  const dir = options.dir ? resolve(options.dir) : mkdtempSync(join(tmpdir(), 'skybridge-agent-'));
  mkdirSync(dir, { recursive: true });
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
    ...(options.topLevel ?? {}),
  };
  const configPath = join(dir, 'connect.yaml');
  writeFileSync(configPath, stringify(config));
  return { dir, configPath, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
