/** A seeded test DC and an agent configuration pointing at it. */
import { startTestDc, type TestDc } from '../../../../scripts/test-dc/test-dc.ts';
import { smallSeed, type SmallDirectory } from '../../../../scripts/test-dc/seed.ts';
import { writeAgentFiles, type AgentFiles as WrittenFiles } from '../../../../scripts/test-dc/agent-files.ts';
import { loadConfig, type LoadedConfig } from '../../src/config/load-config.ts';

export type { TestDc, SmallDirectory };

/** A DC holding the small seeded directory (seeded once per machine, copied per call). */
export async function smallDc(options: { newInvocationId?: boolean } = {}): Promise<{ dc: TestDc; seed: SmallDirectory }> {
  const dc = await startTestDc({ seed: smallSeed, ...options });
  return { dc, seed: dc.manifest as SmallDirectory };
}

export interface AgentFiles extends WrittenFiles {
  loaded: LoadedConfig;
}

/** Writes a config file (and a 0600 password file) for the DC, with `activeDirectory` overrides, and loads it. */
export function agentConfig(dc: TestDc, overrides: Record<string, unknown> = {}, options: { account?: { bindAs: string; password: string }; topLevel?: Record<string, unknown> } = {}): AgentFiles {
  const files = writeAgentFiles(dc, overrides, options);
  return { ...files, loaded: loadConfig(files.configPath) };
}
