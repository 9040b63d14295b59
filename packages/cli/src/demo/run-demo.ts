/**
 * `skybridge demo`: the whole system on one machine. A throwaway Active
 * Directory domain (a real Samba AD DC on a loopback address, with sample
 * users, groups and contacts), Skybridge Cloud on the embedded store, a
 * tenant, and an agent registered with a one-time token that runs the first
 * full sync and then follows changes. Everything lives under one directory;
 * running the demo again reuses the tenant and the agent, starts the domain
 * from the same template (same objectGUIDs, so the same cloud objects), and
 * syncs again without creating duplicates.
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { addOperatorVerifiedDomain, createApiClient, createLogger, deleteClient, createRegistrationToken, operatorActor, createTenant, issueOneTimePassword, removeAgent, startCloud, type RunningCloud, type Store } from '@skybridge/cloud';
import { paths } from '@skybridge/protocol';
import { startTestDc, type TestDc } from '../../../../scripts/test-dc/test-dc.ts';
import { smallSeed, type SmallDirectory } from '../../../../scripts/test-dc/seed.ts';
import { writeAgentFiles } from '../../../../scripts/test-dc/agent-files.ts';
import { loadConfig, loadCredentials, prepareAd } from '@skybridge/connect';
import { ensureSambaPackages } from './samba-packages.ts';
import { runAgentCommand, startAgentProcess } from './agent-process.ts';

export interface DemoOptions {
  /** everything the demo keeps: cloud data, agent files, demo.json */
  dir: string;
  port: number;
  tenantName: string;
  /** install the Samba packages with apt-get when missing (as root) */
  install: boolean;
  /** keep the domain, the cloud and the agent running until SIGINT/SIGTERM; otherwise stop after the first sync */
  keepRunning: boolean;
  /** called once the first sync is done, with the result and its description for a person */
  onReady: (result: DemoResult, text: string) => void;
  progress: (line: string) => void;
}

/** What the demo remembers between runs; no secret is kept here. */
interface DemoState {
  tenantId: string;
  tenantName: string;
  apiClientId?: string;
}

export interface DemoResult {
  url: string;
  /** the admin center, where the administrator signs in */
  adminCenter: string;
  /** the cloud's self-signed certificate, to trust */
  caFile: string;
  tenantId: string;
  initialDomain: string;
  admin: { userPrincipalName: string; oneTimePassword: string };
  apiClient: { clientId: string; clientSecret: string };
  tokenEndpoint: string;
  apiAudience: string;
  domain: { realm: string; ldapsUrl: string; hostName: string; caFile: string; baseDn: string; administrator: string; administratorPassword: string };
  sampleUser: { userPrincipalName: string; dn: string; password: string };
  firstSync: { created: number; updated: number; unchanged: number; deleted: number; memberChanges: number; errors: number; passwordHashes: number };
  seconds: number;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const began = Date.now();
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const steps = 7;
  let stepNo = 0;
  const step = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    stepNo += 1;
    const t0 = Date.now();
    options.progress(`[${stepNo}/${steps}] ${what} …`);
    const value = await work();
    options.progress(`[${stepNo}/${steps}] ${what}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return value;
  };

  let dc: TestDc | null = null;
  let cloud: RunningCloud | null = null;
  let agent: ChildProcess | null = null;
  const shutdown = async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((done) => agent!.once('exit', done));
      agent.kill('SIGTERM');
      await Promise.race([exited, new Promise((done) => setTimeout(done, 10_000))]);
      if (agent.exitCode === null) agent.kill('SIGKILL');
    }
    await cloud?.close().catch(() => undefined);
    await dc?.stop().catch(() => undefined);
  };

  try {
    await step('Samba AD DC packages', () => ensureSambaPackages({ install: options.install, log: options.progress }));
    dc = await step('Active Directory: a throwaway domain with sample users and groups (the first run provisions it, about a minute)', () => startTestDc({ seed: smallSeed }));
    const seeded = dc.manifest as SmallDirectory;
    cloud = await step('Skybridge Cloud on the embedded store', () => startCloud({
      port: options.port, host: '127.0.0.1', dataDir: join(dir, 'cloud'), tls: 'self-signed',
      logger: createLogger({ level: process.env.SKYBRIDGE_LOG_LEVEL ?? 'warn' }),
    }));
    const running = cloud;
    const store = running.context.store;
    const tenant = await step(`tenant ${options.tenantName}: first Global Administrator and an API client`, () => ensureTenant(store, dir, options.tenantName, running.url));

    // the test domain is not in public DNS: the demo's operator vouches for it, so synced users keep their own UPNs
    const adDomain = dc!.dnsDomain;
    await step(`domain ${adDomain}: verified for the tenant by the operator; password hash synchronization on`, async () => {
      await addOperatorVerifiedDomain(store, tenant.tenantId, adDomain);
      // synced users sign in with their AD password, checked against the hash the agent synchronizes
      // (PATCH /api/v1/tenant {"passwordHashSync": true} does the same)
      await store.query('UPDATE tenants SET password_hash_sync = true WHERE id = $1', [tenant.tenantId]);
      // and the organisation's purchase, so that licences can be assigned in the admin center (kept as they are on a second run)
      await store.query(`INSERT INTO subscriptions (tenant_id, sku_id, seats) VALUES ($1, 'SKYBRIDGE_STANDARD', 25) ON CONFLICT (tenant_id, sku_id) DO NOTHING`, [tenant.tenantId]);
      return 'verified';
    });
    const agentDir = join(dir, 'agent');
    const caFile = running.tls!.certPath;
    const files = writeAgentFiles(dc, {}, { dir: agentDir, topLevel: { cloud: { url: running.url, caFile }, passwordHashSync: { enabled: true } } });
    // prepare AD as an administrator would (skybridge connect prepare-ad): the rights the configured features need
    const prepared = await prepareAd({ config: loadConfig(files.configPath, { withoutSecrets: true }).config, admin: { bindAs: dc.admin.userPrincipalName, password: dc.admin.password } });
    options.progress(`  prepare-ad: ${prepared.grants.filter((g) => !g.present).length} permission entries added for ${prepared.account.userPrincipalName}`);
    await step('Skybridge Connect: register the agent with a one-time token', async () => {
      const credentialsFile = join(agentDir, 'state', 'agent-credentials.json');
      if (existsSync(credentialsFile)) {
        const saved = loadCredentials(credentialsFile);
        if (saved.tenantId === tenant.tenantId && saved.cloudUrl === running.url) return 'registered before';
        // the cloud moved (another port): the old agent is removed, which also ends its lease, and a new one registers
        if (saved.tenantId === tenant.tenantId) await removeAgent(store, tenant.tenantId, { id: saved.agentId, clientId: saved.clientId }, operatorActor);
      }
      const { registrationToken } = await createRegistrationToken(store, tenant.tenantId, operatorActor);
      return runAgentCommand(['register', '--config', files.configPath, '--token', registrationToken]);
    });
    const firstSync = await step('first full sync: Active Directory → cloud', async () => {
      const out = await runAgentCommand(['sync', '--full', '--json', '--config', files.configPath]);
      const summary = JSON.parse(out) as { sync: { export?: { created: number; updated: number; unchanged: number; deleted: number; memberChanges: number } }; errors: unknown[]; passwordHashSync?: { stored: number } };
      const e = summary.sync.export ?? { created: 0, updated: 0, unchanged: 0, deleted: 0, memberChanges: 0 };
      return { created: e.created, updated: e.updated, unchanged: e.unchanged, deleted: e.deleted, memberChanges: e.memberChanges, errors: summary.errors.length, passwordHashes: summary.passwordHashSync?.stored ?? 0 };
    });

    const sample = seeded.passwordUsers[0]!;
    const result: DemoResult = {
      url: running.url,
      adminCenter: `${running.url}${paths.adminCenter}/`,
      caFile,
      tenantId: tenant.tenantId,
      initialDomain: tenant.initialDomain,
      admin: tenant.admin,
      apiClient: tenant.apiClient,
      tokenEndpoint: tenant.tokenEndpoint,
      apiAudience: tenant.apiAudience,
      domain: { realm: dc.realm, ldapsUrl: dc.ldapsUrl, hostName: dc.hostName, caFile: dc.caFile, baseDn: dc.baseDn, administrator: dc.admin.userPrincipalName, administratorPassword: dc.admin.password },
      sampleUser: { userPrincipalName: sample.user.userPrincipalName!, dn: sample.user.dn, password: sample.password },
      firstSync,
      seconds: Math.round((Date.now() - began) / 100) / 10,
    };
    options.onReady(result, describeDemo(result, dir, caFile, files.configPath, options.keepRunning));

    if (!options.keepRunning) return result;
    agent = startAgentProcess(['run', '--config', files.configPath], (line, stream) => options.progress(`agent${stream === 'stderr' ? ' (error)' : ''} | ${line}`));
    await new Promise<void>((done) => {
      process.once('SIGINT', () => done());
      process.once('SIGTERM', () => done());
      agent!.once('exit', (code, signal) => {
        options.progress(`agent | exited (${signal ?? code}); the domain and the cloud keep running until Ctrl-C`);
      });
    });
    options.progress('stopping: agent, cloud, domain controller');
    return result;
  } finally {
    await shutdown();
  }
}

/**
 * The demo tenant: created on the first run; on later runs the same tenant,
 * with a fresh one-time password for its administrator and a fresh API
 * client (the previous demo client is removed), since secrets are shown once
 * and never stored.
 */
async function ensureTenant(store: Store, dir: string, name: string, url: string) {
  const statePath = join(dir, 'demo.json');
  const state = existsSync(statePath) ? (JSON.parse(readFileSync(statePath, 'utf8')) as DemoState) : null;
  const { rows } = state ? await store.query<{ initial_domain: string }>('SELECT initial_domain FROM tenants WHERE id = $1', [state.tenantId]) : { rows: [] };
  const base = url.replace(/\/$/, '');
  if (state && rows[0]) {
    const initialDomain = rows[0].initial_domain;
    const adminUpn = `admin@${initialDomain}`;
    const oneTimePassword = await issueOneTimePassword(store, state.tenantId, adminUpn);
    if (state.apiClientId) await store.transaction((tx) => deleteClient(tx, state.tenantId, state.apiClientId!));
    const apiClient = await createApiClient(store, state.tenantId, 'Demo API client', ['GlobalAdministrator']);
    writeState(statePath, { ...state, apiClientId: apiClient.clientId });
    const issuer = `${base}${paths.issuer(state.tenantId)}`;
    return { tenantId: state.tenantId, initialDomain, admin: { userPrincipalName: adminUpn, oneTimePassword }, apiClient, tokenEndpoint: `${issuer}/token`, apiAudience: `${base}/api` };
  }
  const created = await createTenant(store, { name, publicUrl: url, initialDomainSuffix: 'skybridge.test' });
  writeState(statePath, { tenantId: created.tenantId, tenantName: created.name, apiClientId: created.apiClient.clientId });
  return { tenantId: created.tenantId, initialDomain: created.initialDomain, admin: { userPrincipalName: created.admin.userPrincipalName, oneTimePassword: created.admin.oneTimePassword }, apiClient: created.apiClient, tokenEndpoint: created.tokenEndpoint, apiAudience: created.apiAudience };
}

function writeState(path: string, state: DemoState): void {
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

function describeDemo(r: DemoResult, dir: string, caFile: string, configPath: string, keepRunning: boolean): string {
  const s = r.firstSync;
  return `
Skybridge demo is ready (${r.seconds} s)

  Cloud              ${r.url}   (TLS certificate ${caFile})
  Admin center       ${r.adminCenter}
                     (the browser warns about the demo's self-signed certificate: it is ${caFile})
  Tenant             ${r.initialDomain}  (id ${r.tenantId}), 25 seats of Skybridge Standard
  Administrator      ${r.admin.userPrincipalName}   one-time password ${r.admin.oneTimePassword}
                     (sign in to the admin center with it, then choose your own password)
  API client         ${r.apiClient.clientId}   secret ${r.apiClient.clientSecret}
  Token endpoint     ${r.tokenEndpoint}   (client_credentials, resource=${r.apiAudience})

  Active Directory   ${r.domain.realm} at ${r.domain.ldapsUrl}   administrator ${r.domain.administrator} / ${r.domain.administratorPassword}
  Synced user        ${r.sampleUser.userPrincipalName}   AD password ${r.sampleUser.password}
                     (signs in to applications of the tenant with it: password hash synchronization)
  Sign-in realm      ${r.url}/common/v2.0/realm?upn=${encodeURIComponent(r.sampleUser.userPrincipalName)}
  First sync         ${s.created} created, ${s.updated} updated, ${s.unchanged} unchanged, ${s.deleted} deleted, ${s.memberChanges} member changes, ${s.errors} objects with sync errors; ${s.passwordHashes} password hashes
  Agent              ${configPath}

Try:
  TOKEN=$(curl -s --cacert ${caFile} -u "${r.apiClient.clientId}:${r.apiClient.clientSecret}" -d grant_type=client_credentials -d resource=${r.apiAudience} ${r.tokenEndpoint} | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')
  curl -s --cacert ${caFile} -H "Authorization: Bearer $TOKEN" ${r.url}/api/v1/users
  ./skybridge connect status --config ${configPath}
${keepRunning ? `
The agent now follows Active Directory: a change made there (a password too) reaches the cloud within seconds.
Ctrl-C stops the agent, the cloud and the domain controller; the tenant stays in ${dir} and the next run reuses it.
` : ''}`;
}
