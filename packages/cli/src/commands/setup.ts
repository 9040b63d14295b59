/**
 * `skybridge connect setup`: the interactive wizard. Express (the whole
 * domain, password hash sync) or custom (containers, sign-in mode, staging,
 * source anchor). Each answer is checked live before the next question: the
 * cloud answers, the DC's TLS and the connector account's bind, the
 * containers exist, the rights the chosen features need, the registration
 * token. It writes the configuration (YAML, the same file every other
 * command reads) and the password file (mode 0600), registers the agent,
 * and ends with the doctor's table.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { confirm, input, password, select } from '@inquirer/prompts';
import { stringify } from 'yaml';
import { paths, currentAgentVersion } from '@skybridge/protocol';
import { AdConnection, agentConfigSchema, defaultConfigPath, defaultStateDirectory, httpExchange, registerAgent, runDoctor, saveCredentials, loadConfig, type AgentConfig } from '@skybridge/connect';

const ok = (line: string) => process.stdout.write(`  ✔ ${line}\n`);
const bad = (line: string) => process.stdout.write(`  ✖ ${line}\n`);

/** Asks until `check` accepts the answer; `check` says what is wrong, or returns a value to keep. */
async function askUntil<T>(ask: () => Promise<string>, check: (answer: string) => Promise<T>): Promise<T> {
  for (;;) {
    const answer = await ask();
    try {
      return await check(answer);
    } catch (err) {
      bad((err as Error).message);
    }
  }
}

export async function runSetup(configPath: string): Promise<void> {
  const dir = dirname(configPath);
  process.stdout.write(`Skybridge Connect ${currentAgentVersion} setup: writes ${configPath}\n\n`);

  // 1. the cloud
  const cloud = await askUntil(async () => input({ message: 'Skybridge Cloud URL (https://…)', validate: (v) => /^https:\/\/\S+$/.test(v) || 'an https:// URL' }), async (url) => {
    const caFile = (await input({ message: 'CA certificate of the cloud (PEM file; empty: the system\'s CAs)', default: '' })).trim();
    const res = await httpExchange(`${url.replace(/\/$/, '')}${paths.health}`, { trust: caFile ? { ca: readFileSync(resolve(caFile), 'utf8') } : {}, timeoutMs: 10_000 });
    if (res.status !== 200) throw new Error(`${url} answered ${paths.health} with HTTP ${res.status}`);
    ok(`the cloud answers at ${url}`);
    return { url: url.replace(/\/$/, ''), ...(caFile ? { caFile: resolve(caFile) } : {}) };
  });

  // 2. the domain controller and the connector account
  const { activeDirectory, adPassword, domain } = await askUntil(async () => input({ message: 'Domain controller (ldaps://HOST or ldap://HOST for StartTLS)', validate: (v) => /^ldaps?:\/\/\S+$/.test(v) || 'ldaps://HOST or ldap://HOST' }), async (server) => {
    const caFile = (await input({ message: 'CA certificate of the DC (PEM file; empty: the system\'s CAs)', default: '' })).trim();
    const serverName = (await input({ message: 'Name in the DC\'s certificate (empty: the host of the URL)', default: '' })).trim();
    const bindAs = (await input({ message: 'Connector account (name@domain or DOMAIN\\name)', validate: (v) => v.trim().length > 0 || 'required' })).trim();
    const secret = await password({ message: `Password of ${bindAs}`, mask: true });
    const ad = agentConfigSchema.shape.activeDirectory.parse({
      servers: [server], tls: { ...(caFile ? { caFile: resolve(caFile) } : {}), ...(serverName ? { serverName } : {}) }, bindAs, passwordFile: join(dir, 'ad-password'),
    });
    const conn = await AdConnection.open(ad, secret);
    const domainDn = conn.rootDse.defaultNamingContext;
    await conn.close();
    ok(`bound to ${server} as ${bindAs}; domain ${domainDn}`);
    return { activeDirectory: ad, adPassword: secret, domain: domainDn };
  });

  // 3. express or custom
  const mode = await select({ message: 'Set-up', choices: [
    { name: 'Express: the whole domain, password hash synchronization', value: 'express' },
    { name: 'Custom: containers, sign-in mode, staging, source anchor', value: 'custom' },
  ] });
  let containers: string[] = [];
  let signIn: 'passwordHashSync' | 'passThrough' | 'federation' = 'passwordHashSync';
  let staging = false;
  let sourceAnchor: 'objectGUID' | 'mS-DS-ConsistencyGuid' = 'objectGUID';
  if (mode === 'custom') {
    containers = await askUntil(async () => input({ message: `Containers to synchronize (DNs separated by ";", empty: all of ${domain})`, default: '' }), async (answer) => {
      const list = answer.split(';').map((s) => s.trim()).filter(Boolean);
      if (!list.length) return [];
      const conn = await AdConnection.open(activeDirectory, adPassword);
      try {
        for (const dn of list) {
          const found = await conn.search({ base: dn, scope: 'base', filter: '(objectClass=*)', attributes: ['objectClass'] }).catch(() => ({ entries: [] }));
          if (!found.entries.length) throw new Error(`${dn} is not in the directory (or the connector account cannot read it)`);
        }
      } finally {
        await conn.close();
      }
      ok(`${list.length} container${list.length > 1 ? 's' : ''} found`);
      return list;
    });
    signIn = await select({ message: 'How users sign in to the cloud', choices: [
      { name: 'Password hash synchronization', value: 'passwordHashSync' as const },
      { name: 'Pass-through authentication (the agent checks each sign-in with AD)', value: 'passThrough' as const },
      { name: 'Federation (a domain of yours signs users in; no hashes)', value: 'federation' as const },
    ] });
    sourceAnchor = await select({ message: 'Source anchor (the immutable id)', choices: [
      { name: 'objectGUID', value: 'objectGUID' as const },
      { name: 'mS-DS-ConsistencyGuid (survives a move to another forest)', value: 'mS-DS-ConsistencyGuid' as const },
    ] });
    staging = await confirm({ message: 'Staging mode (import and plan everything, export nothing)?', default: false });
  }

  // 4. the configuration, checked by the schema every command uses
  const config: AgentConfig = agentConfigSchema.parse({
    version: 1,
    // beside a config in the default place, state goes where the service unit keeps it (/var/lib/skybridge, writable;
    // /etc/skybridge is read-only to the service); a config elsewhere (a trial, a test) keeps its state next to it
    stateDirectory: resolve(configPath) === defaultConfigPath ? defaultStateDirectory : join(dir, 'state'),
    activeDirectory: { ...activeDirectory, containers },
    cloud,
    sync: { sourceAnchor, staging },
    passwordHashSync: { enabled: signIn === 'passwordHashSync' },
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'ad-password'), `${adPassword}\n`, { mode: 0o600 });
  writeFileSync(configPath, stringify(config), { mode: 0o640 });
  ok(`wrote ${configPath} and ${join(dir, 'ad-password')} (mode 0600)`);

  // 5. the rights the chosen features need, before registering
  const loaded = loadConfig(configPath);
  const rights = (await runDoctor({ ...loaded, config: { ...loaded.config, cloud: undefined } })).filter((c) => /rights|password hash sync/.test(c.name));
  for (const c of rights) (c.status === 'fail' ? bad : ok)(`${c.name}: ${c.detail}${c.fix && c.status !== 'pass' ? `\n      fix: ${c.fix}` : ''}`);
  if (rights.some((c) => c.status === 'fail') && !(await confirm({ message: 'Some rights are missing (skybridge connect prepare-ad grants them). Register anyway?', default: false }))) {
    process.exitCode = 1;
    return;
  }

  // 6. registration with the one-time token from the admin center
  const credentials = await askUntil(async () => password({ message: 'Registration token (admin center: Directory synchronization > Get the agent)', mask: true }), async (token) => {
    const c = await registerAgent({ cloudUrl: cloud.url, registrationToken: token.trim(), hostname: hostname(), version: currentAgentVersion, trust: cloud.caFile ? { ca: readFileSync(cloud.caFile, 'utf8') } : {} });
    saveCredentials(loaded.config.cloud!.credentialsFile!, c);
    return c;
  });
  ok(`registered as agent ${credentials.agentId} of tenant ${credentials.tenantId}`);
  if (signIn === 'passThrough') process.stdout.write('  Pass-through: turn it on in the tenant (PATCH /api/v1/tenant {"passThroughAuthentication": true}) and keep skybridge connect run running.\n');
  if (signIn === 'passwordHashSync') process.stdout.write('  Password hash sync: turn it on in the tenant (PATCH /api/v1/tenant {"passwordHashSync": true}).\n');

  // 7. the doctor's table
  const checks = await runDoctor(loadConfig(configPath));
  process.stdout.write('\nChecks:\n');
  for (const c of checks) process.stdout.write(`  ${{ pass: '✔', fail: '✖', warn: '!', skip: '-' }[c.status]} ${c.name}: ${c.detail}\n`);
  process.stdout.write(`\nNext: skybridge connect sync --config ${configPath}, then skybridge connect run (or the systemd service).\n`);
}
