/** An agent configured for a test DC and a test cloud, registered with the CLI as an administrator would. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import type { Client } from 'ldapts';
import { adminClient } from '../../../../scripts/test-dc/seed.ts';
import { randomUUID } from 'node:crypto';
import type { CreatedTenant } from '@skybridge/cloud';
import { startTestCloud, type TestCloud } from '../../../cloud/test/helpers/cloud.ts';
import type { StoreKind } from '../../../cloud/test/helpers/stores.ts';
import { runCli } from '../../../cloud/test/helpers/cli.ts';
import { agentConfig, smallDc, type AgentFiles, type SmallDirectory, type TestDc } from './ad.ts';

/**
 * `overrides` go to the activeDirectory section (containers, …). The test
 * domain is verified for the tenant (by the operator) unless
 * `options.verifyDomain` is false, or another tenant of this cloud verified
 * it first: a verified domain belongs to one tenant, so a second tenant
 * synced from the same DC gets its users on its initial domain.
 */
export async function registeredAgent(dc: TestDc, t: TestCloud, adminToken: string, overrides: Record<string, unknown> = {}, options: { verifyDomain?: boolean } = {}): Promise<AgentFiles & { agentId: string }> {
  const caFile = `${dc.dir}/cloud-ca-${randomUUID()}.pem`;
  writeFileSync(caFile, t.trust.ca!);
  const files = agentConfig(dc, overrides, { topLevel: { cloud: { url: t.url, caFile } } });
  // the test domain's users keep their own UPNs: the operator vouches for the domain (a real tenant verifies it in DNS)
  if (options.verifyDomain !== false) {
    const tenant = await t.call('GET', '/api/v1/tenant', { token: adminToken });
    const res = await t.operator('PUT', `/operator/v1/tenants/${tenant.body.id}/domains/${dc.dnsDomain}`, { verified: true });
    assert.ok(res.status === 200 || res.body.code === 'domain_taken', `verifying ${dc.dnsDomain}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const registration = await t.call('POST', '/api/v1/agents/registration-tokens', { token: adminToken });
  const registered = await runCli(['connect', 'register', '--config', files.configPath, '--token', registration.body.registrationToken]);
  assert.equal(registered.code, 0, registered.stderr);
  assert.match(registered.stdout, /Registered as agent/);
  return { ...files, agentId: /agent (\S+)/.exec(registered.stdout)![1]! };
}

/** `skybridge connect sync --json` with this config; `json` is the parsed summary when it succeeded. */
export async function syncCli(configPath: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string; json: any }> {
  const res = await runCli(['connect', 'sync', '--config', configPath, '--json', ...args]);
  return { ...res, json: res.code === 0 ? JSON.parse(res.stdout) : null };
}

/** Changes the agent's configuration file in place. */
export function editAgentConfig(configPath: string, change: (config: Record<string, any>) => void): void {
  const config = parse(readFileSync(configPath, 'utf8')) as Record<string, any>;
  change(config);
  writeFileSync(configPath, stringify(config));
}

/** Runs `fn` on an LDAPS session of the DC's administrator, as an administrator changes AD. */
export async function asDomainAdmin(dc: TestDc, fn: (client: Client) => Promise<unknown>): Promise<void> {
  const client = await adminClient(dc);
  try {
    await fn(client);
  } finally {
    await client.unbind();
  }
}

/** Binary attributes of one AD object (objectGUID, mS-DS-ConsistencyGuid…) in base64, read as the administrator; undefined when not set. */
export async function adBinaryValues(dc: TestDc, dn: string, attributes: string[]): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  await asDomainAdmin(dc, async (client) => {
    const { searchEntries } = await client.search(dn, { scope: 'base', attributes, explicitBufferAttributes: attributes });
    const e = searchEntries[0]!;
    for (const a of attributes) {
      const v = e[a];
      out[a] = v === undefined || (Array.isArray(v) && !v.length) ? undefined : Buffer.from(v as Buffer).toString('base64');
    }
  });
  return out;
}

/** What a sync test runs against: the small Samba DC, a cloud on one store, a tenant with its administrator's token, a registered agent. */
export interface SyncWorld {
  dc: TestDc;
  seed: SmallDirectory;
  t: TestCloud;
  tenant: CreatedTenant;
  token: string;
  files: AgentFiles & { agentId: string };
}

/**
 * Starts a SyncWorld. `beforeAgent` runs once the tenant exists and before
 * the agent registers (to fill the cloud as another tool left it). On a
 * failure what was started is stopped, so a failed `before` leaks nothing.
 */
export async function startSyncWorld(
  kind: StoreKind, tenantName: string,
  options: { verifyDomain?: boolean; beforeAgent?: (w: Omit<SyncWorld, 'files'>) => Promise<void> } = {},
): Promise<SyncWorld> {
  const partial: Partial<SyncWorld> = {};
  try {
    Object.assign(partial, await smallDc());
    partial.t = await startTestCloud(kind);
    partial.tenant = await partial.t.createTenant(tenantName);
    partial.token = await partial.t.token(partial.tenant);
    await options.beforeAgent?.(partial as Omit<SyncWorld, 'files'>);
    partial.files = await registeredAgent(partial.dc!, partial.t, partial.token, {}, options.verifyDomain === undefined ? {} : { verifyDomain: options.verifyDomain });
    return partial as SyncWorld;
  } catch (err) {
    await stopSyncWorld(partial);
    throw err;
  }
}

export async function stopSyncWorld(w: { dc?: TestDc | undefined; t?: TestCloud | undefined; files?: AgentFiles | undefined }): Promise<void> {
  w.files?.cleanup();
  await w.t?.close();
  await w.dc?.stop();
}
