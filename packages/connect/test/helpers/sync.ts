/** An agent configured for a test DC and a test cloud, registered with the CLI as an administrator would. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { TestCloud } from '../../../cloud/test/helpers/cloud.ts';
import { runCli } from '../../../cloud/test/helpers/cli.ts';
import { agentConfig, type AgentFiles, type TestDc } from './ad.ts';

/** `overrides` go to the activeDirectory section (containers, …). */
export async function registeredAgent(dc: TestDc, t: TestCloud, adminToken: string, overrides: Record<string, unknown> = {}): Promise<AgentFiles & { agentId: string }> {
  const caFile = `${dc.dir}/cloud-ca-${randomUUID()}.pem`;
  writeFileSync(caFile, t.trust.ca!);
  const files = agentConfig(dc, overrides, { topLevel: { cloud: { url: t.url, caFile } } });
  const registration = await t.call('POST', '/api/v1/agents/registration-tokens', { token: adminToken });
  const registered = await runCli(['connect', 'register', '--config', files.configPath, '--token', registration.body.registrationToken]);
  assert.equal(registered.code, 0, registered.stderr);
  assert.match(registered.stdout, /Registered as agent/);
  return { ...files, agentId: /agent (\S+)/.exec(registered.stdout)![1]! };
}
