/** An agent for a benchmark: a tenant with the DC's domain verified, the agent's files, its registration; `connect run` as its own process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CreatedTenant } from '../../packages/cloud/src/tenants/create-tenant.ts';
import type { TestCloud } from '../../packages/cloud/test/helpers/cloud.ts';
import { registerAgent } from '../../packages/connect/src/cloud/cloud-client.ts';
import { saveCredentials } from '../../packages/connect/src/cloud/credentials-file.ts';
import { loadConfig } from '../../packages/connect/src/config/load-config.ts';
import { writeAgentFiles, type AgentFiles } from '../../scripts/test-dc/agent-files.ts';
import type { TestDc } from '../../scripts/test-dc/test-dc.ts';
import { agentFlags } from './child-process.ts';

export const cliMain = new URL('../../packages/cli/src/main.ts', import.meta.url).pathname;

/** The tenant `bench` with the DC's domain, an administrator's token, and a registered agent whose config has `topLevel` (beside cloud). */
export async function benchAgent(dc: TestDc, t: TestCloud, topLevel: Record<string, unknown> = {}): Promise<{ tenant: CreatedTenant; token: string; files: AgentFiles }> {
  const tenant = await t.createTenant('bench');
  await t.addVerifiedDomain(tenant.tenantId, dc.dnsDomain);
  const token = await t.token(tenant);
  const caFile = join(dc.dir, 'cloud-ca.pem');
  writeFileSync(caFile, t.trust.ca!);
  const files = writeAgentFiles(dc, {}, { topLevel: { cloud: { url: t.url, caFile }, ...topLevel } });
  const reg = await t.call('POST', '/api/v1/agents/registration-tokens', { token });
  const credentials = await registerAgent({ cloudUrl: t.url, registrationToken: reg.body.registrationToken, hostname: 'bench', version: '0.1.0', trust: { ca: t.trust.ca! } });
  saveCredentials(loadConfig(files.configPath).config.cloud!.credentialsFile!, credentials);
  return { tenant, token, files };
}

/** `skybridge connect run` in its own process, with the agent's V8 limits; resolves once it follows AD. `output()` is what it said. */
export async function startAgentRun(configPath: string): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [...agentFlags, cliMain, 'connect', 'run', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SKYBRIDGE_LOG_LEVEL: 'warn' } });
  let said = '';
  child.stdout!.on('data', (d: Buffer) => { said += d; if (process.env.BENCH_VERBOSE) process.stderr.write(`  agent: ${d}`); });
  child.stderr!.on('data', (d: Buffer) => (said += d));
  for (let i = 0; i < 600 && !/running/.test(said); i++) await new Promise((r) => setTimeout(r, 100));
  if (!/running/.test(said)) throw new Error(`connect run did not start within 60 s: ${said.slice(-2000)}`);
  return { child, output: () => said };
}
