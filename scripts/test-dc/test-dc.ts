/**
 * A real Samba Active Directory domain controller for tests, benchmarks and
 * the demo, on a loopback address of its own.
 *
 * Provisioning costs about 5 s and seeding large directories far more (brief
 * §2), so a provisioned (and, on request, seeded) domain is kept once per
 * machine as a template under the cache directory, and every DC starts from
 * a fresh copy of it in a temporary directory. Several DCs run side by side on
 * distinct 127.x.y.z addresses, each with its own pid, lock and socket
 * directories.
 *
 * Samba's own tools are used here only to build the template (the connector
 * account and its rights); the product reaches the DC over the network only.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { cp, lstat, mkdir, mkdtemp, readFile, rm, writeFile, rename, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomInt } from 'node:crypto';

const run = promisify(execFile);

export interface TestDcAccount {
  /** sAMAccountName */
  name: string;
  userPrincipalName: string;
  dn: string;
  password: string;
}

export interface TestDc {
  ip: string;
  realm: string;
  /** NetBIOS domain name */
  domain: string;
  dnsDomain: string;
  baseDn: string;
  /** the DC's DNS name, which its TLS certificate carries */
  hostName: string;
  ldapsUrl: string;
  ldapUrl: string;
  /** PEM file of the CA that signed the DC's LDAPS certificate */
  caFile: string;
  /** the samba process, leader of its own process group (benchmarks read its CPU time) */
  pid: number;
  admin: TestDcAccount;
  /** least-privileged account holding "Replicating Directory Changes" only */
  connector: TestDcAccount;
  /** an account without "Replicating Directory Changes" (DirSync refused): the connector falls back to uSNChanged */
  reader: TestDcAccount;
  dir: string;
  /** the template it was copied from */
  template: string;
  /** what the template's seed returned (its manifest), if it was seeded */
  manifest: unknown;
  stop(): Promise<void>;
}

export interface TemplateOptions {
  realm?: string;
  /** seeds the template once, after provisioning, while a DC serves it over LDAP; what run returns is kept as the template's manifest */
  seed?: TemplateSeed;
}

export interface TemplateSeed {
  name: string;
  run(dc: TestDc): Promise<unknown>;
  /** a seeded template to start from instead of the empty domain (large directories grow from smaller ones) */
  base?: TemplateSeed;
}

export interface StartOptions extends TemplateOptions {
  /** loopback address; default: a free random one in 127.66.0.0/16 */
  ip?: string;
  /** give this copy its own database identity (invocationId), like a second DC of the same domain */
  newInvocationId?: boolean;
}

export const adminPassword = 'Skybridge-Adm1n!';
export const connectorPassword = 'Skybridge-C0nnect!';
const connectorName = 'skybridge-connect';
const readerName = 'skybridge-reader';
/** DS-Replication-Get-Changes ("Replicating Directory Changes") */
export const replicatingDirectoryChanges = '1131f6aa-9c07-11d1-f79f-00c04fc2dcd2';
const templateVersion = 3;

export function cacheDir(): string {
  return process.env.SKYBRIDGE_CACHE_DIR ?? join(homedir(), '.cache', 'skybridge');
}

function realmParts(realm: string) {
  const dnsDomain = realm.toLowerCase();
  const domain = realm.split('.')[0]!.toUpperCase();
  const baseDn = dnsDomain.split('.').map((p) => `DC=${p}`).join(',');
  return { dnsDomain, domain, baseDn };
}

export function sambaAvailable(): boolean {
  return existsSync('/usr/sbin/samba') && existsSync('/usr/bin/samba-tool');
}

/** Starts a DC from a copy of the template (built first if missing). */
export async function startTestDc(options: StartOptions = {}): Promise<TestDc> {
  const realm = options.realm ?? 'CORP.EXAMPLE.COM';
  const template = await ensureTemplate({ realm, ...(options.seed ? { seed: options.seed } : {}) });
  const dir = await mkdtemp(join(tmpdir(), 'skybridge-dc-'));
  await copyDc(template, dir);
  if (options.newInvocationId) {
    const conf = join(dir, 'etc', 'smb.conf');
    const text = await readFile(conf, 'utf8');
    await writeFile(conf, text.split(/^\s*private dir = (.*)\/private\s*$/m.exec(text)![1]!).join(dir));
    await run('/usr/bin/python3', [join(import.meta.dirname, 'new-invocation-id.py'), conf, join(dir, 'private', 'sam.ldb')]);
  }
  const ip = options.ip ?? (await freeLoopbackAddress());
  return launch(dir, ip, realm, template, true);
}

/** Path of a ready template, building it under a lock when missing. */
export async function ensureTemplate(options: TemplateOptions & { realm: string }): Promise<string> {
  const name = `${options.realm.toLowerCase()}-${options.seed?.name ?? 'empty'}-v${templateVersion}`;
  const path = join(cacheDir(), 'test-dc', name);
  if (existsSync(join(path, '.ready'))) return path;
  await mkdir(join(cacheDir(), 'test-dc'), { recursive: true });
  const lock = `${path}.lock`;
  await withDirLock(lock, async () => {
    if (existsSync(join(path, '.ready'))) return;
    const work = `${path}.building-${process.pid}`;
    await rm(work, { recursive: true, force: true });
    if (options.seed) {
      const base = await ensureTemplate({ realm: options.realm, ...(options.seed.base ? { seed: options.seed.base } : {}) });
      await copyDc(base, work);
      const dc = await launch(work, await freeLoopbackAddress(), options.realm, base, false);
      try {
        const manifest = await options.seed.run(dc);
        await writeFile(join(work, 'manifest.json'), `${JSON.stringify(manifest ?? null, null, 1)}\n`);
      } finally {
        await dc.stop();
      }
    } else {
      await provision(work, options.realm);
    }
    await writeFile(join(work, '.ready'), `${new Date().toISOString()}\n`);
    await rm(path, { recursive: true, force: true });
    await rename(work, path);
  });
  return path;
}

/** Copies a DC directory, leaving out the sockets a running DC leaves behind. */
const copyDc = (from: string, to: string) => cp(from, to, { recursive: true, filter: async (src) => !(await lstat(src)).isSocket() });

async function provision(dir: string, realm: string): Promise<void> {
  const { baseDn } = realmParts(realm);
  await mkdir(dir, { recursive: true });
  const ip = '127.0.0.1';
  await run('samba-tool', [
    'domain', 'provision', `--realm=${realm}`, `--domain=${realmParts(realm).domain}`, '--server-role=dc',
    '--dns-backend=NONE', '--backend-store=mdb', `--adminpass=${adminPassword}`, `--targetdir=${dir}`,
    '--host-name=dc1', `--host-ip=${ip}`, `--option=interfaces=${ip}/8`, '--option=bind interfaces only=yes',
    `--option=pid directory=${dir}/run`,
  ], { maxBuffer: 16 << 20 });
  const sam = ['-H', `${dir}/private/sam.ldb`, `--configfile=${dir}/etc/smb.conf`];
  // The connector's account: an ordinary user, plus "Replicating Directory Changes"
  // on the domain root (what DirSync needs without the object-security flag).
  await run('samba-tool', ['user', 'create', connectorName, connectorPassword, ...sam,
    '--description=Skybridge Connect directory reader', '--use-username-as-cn']);
  await run('samba-tool', ['user', 'setexpiry', connectorName, '--noexpiry', ...sam]);
  const { stdout } = await run('samba-tool', ['user', 'show', connectorName, '--attributes=objectSid', ...sam]);
  const sid = /objectSid: (\S+)/.exec(stdout)?.[1];
  if (!sid) throw new Error(`test DC: cannot read the connector account's SID:\n${stdout}`);
  await run('samba-tool', ['dsacl', 'set', ...sam, `--objectdn=${baseDn}`, '--action=allow',
    `--sddl=(OA;;CR;${replicatingDirectoryChanges};;${sid})`]);
  // Deletions: list and read the Deleted Objects container (Microsoft's documented grant, dsacls /G account:LCRP).
  await grantDeletedObjects(dir, sid);
  await run('samba-tool', ['user', 'create', readerName, connectorPassword, ...sam, '--description=Reads the directory without replication rights', '--use-username-as-cn']);
  await run('samba-tool', ['user', 'setexpiry', readerName, '--noexpiry', ...sam]);
  const reader = /objectSid: (\S+)/.exec((await run('samba-tool', ['user', 'show', readerName, '--attributes=objectSid', ...sam])).stdout)?.[1];
  await grantDeletedObjects(dir, reader!);
}

/**
 * Adds an access control entry to an object of a running DC, as its
 * administrator over LDAP, for `account` (default: the connector account):
 * a test fixture standing for the grant an administrator makes (the product
 * itself never runs Samba's tools). `ace` receives the account's SID.
 */
export async function grantOnRunningDc(dc: TestDc, objectDn: string, ace: (sid: string) => string, account: TestDcAccount = dc.connector): Promise<void> {
  const auth = ['-H', `ldap://${dc.ip}`, `--configfile=${join(dc.dir, 'etc', 'smb.conf')}`, `-U${dc.domain}\\${dc.admin.name}%${dc.admin.password}`, '--use-kerberos=off'];
  const { stdout } = await run('samba-tool', ['user', 'show', account.name, '--attributes=objectSid', ...auth]);
  const sid = /objectSid: (\S+)/.exec(stdout)?.[1];
  if (!sid) throw new Error(`test DC: cannot read the SID of ${account.name}:\n${stdout}`);
  await run('samba-tool', ['dsacl', 'set', ...auth, `--objectdn=${objectDn}`, '--action=allow', `--sddl=${ace(sid)}`]);
}

/** Lets `sid` list and read CN=Deleted Objects (see grant-deleted-objects.py). */
export async function grantDeletedObjects(dir: string, sid: string): Promise<void> {
  const { baseDn } = realmParts(/^\s*realm = (.*)$/m.exec(await readFile(join(dir, 'etc', 'smb.conf'), 'utf8'))![1]!.trim());
  await run('/usr/bin/python3', [join(import.meta.dirname, 'grant-deleted-objects.py'), join(dir, 'etc', 'smb.conf'), join(dir, 'private', 'sam.ldb'), baseDn, sid]);
}

async function launch(dir: string, ip: string, realm: string, template: string, removeOnStop: boolean): Promise<TestDc> {
  const { dnsDomain, domain, baseDn } = realmParts(realm);
  // The copy keeps the template's paths and address: point them at this copy.
  const conf = join(dir, 'etc', 'smb.conf');
  const original = await readFile(conf, 'utf8');
  const templateDir = /^\s*private dir = (.*)\/private\s*$/m.exec(original)?.[1];
  if (!templateDir) throw new Error(`test DC: ${conf} has no "private dir"`);
  let text = original.split(templateDir).join(dir)
    .replace(/^\s*interfaces = .*$/m, `\tinterfaces = ${ip}/8`)
    .replace(/^\s*log file = .*$/m, `\tlog file = ${dir}/log/samba.log`)
    .replace(/^\s*server services = .*\n/m, '');
  text = text.replace('[global]\n', [
    '[global]',
    `\tncalrpc dir = ${dir}/ncalrpc`,
    `\tntp signd socket directory = ${dir}/ntp_signd`,
    `\twinbindd socket directory = ${dir}/winbindd`,
    // LDAP, DCE/RPC (DRSUAPI, for password hash sync) and Kerberos; nothing else is needed.
    '\tserver services = ldap, rpc, kdc, drepl, cldap',
    '\tldap server require strong auth = yes',
    // a throwaway directory: commits need not wait for the disk (Samba's own selftest does the same)
    '\tldb:nosync = true',
    '',
  ].join('\n'));
  await writeFile(conf, text);
  for (const d of ['run', 'log', 'ncalrpc', 'ntp_signd', 'winbindd']) await mkdir(join(dir, d), { recursive: true });

  const child = spawn('/usr/sbin/samba', ['-s', conf, '-i', '-M', 'single', '--debuglevel=1'], {
    stdio: ['ignore', 'ignore', 'pipe'], detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-8000); });
  let exited = false;
  child.on('exit', () => { exited = true; });
  const killOnExit = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } };
  process.once('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    await terminate(child, () => exited);
    if (removeOnStop) await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(ip, 636, 60_000, () => (exited ? `samba exited:\n${stderr}` : undefined));
    // the RPC endpoint mapper (MS-DRSR's way in) may open a moment after LDAPS
    await waitForPort(ip, 135, 30_000, () => (exited ? `samba exited:\n${stderr}` : undefined));
    // Samba writes its LDAPS certificate at first start; the template already has it.
    await waitFor(async () => (await stat(join(dir, 'private', 'tls', 'ca.pem'))).size > 0, 10_000);
  } catch (err) {
    await stop();
    throw err;
  }
  const account = (name: string, password: string, cn: string): TestDcAccount => ({
    name, password, userPrincipalName: `${name}@${dnsDomain}`, dn: `CN=${cn},CN=Users,${baseDn}`,
  });
  const manifest: unknown = existsSync(join(dir, 'manifest.json')) ? JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) : undefined;
  return {
    ip, realm, domain, dnsDomain, baseDn, dir, template, manifest,
    hostName: `dc1.${dnsDomain}`,
    pid: child.pid!,
    ldapsUrl: `ldaps://${ip}:636`,
    ldapUrl: `ldap://${ip}:389`,
    caFile: join(dir, 'private', 'tls', 'ca.pem'),
    admin: account('Administrator', adminPassword, 'Administrator'),
    connector: account(connectorName, connectorPassword, connectorName),
    reader: account(readerName, connectorPassword, readerName),
    stop,
  };
}

async function terminate(child: ChildProcess, exited: () => boolean): Promise<void> {
  if (exited()) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try { process.kill(-child.pid!, 'SIGTERM'); } catch { return; }
  const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5000);
  await done;
  clearTimeout(timer);
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => { s.destroy(); resolve(false); });
  });
}

async function waitForPort(host: string, port: number, ms: number, failed: () => string | undefined): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const why = failed();
    if (why) throw new Error(`test DC on ${host}: ${why}`);
    if (await portOpen(host, port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`test DC on ${host}: port ${port} did not answer within ${ms / 1000} s`);
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try { if (await check()) return; } catch { /* not yet */ }
    if (Date.now() > end) throw new Error('test DC: timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A 127.66.x.y address nobody listens on (LDAP, LDAPS, RPC). */
export async function freeLoopbackAddress(): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const ip = `127.66.${randomInt(1, 255)}.${randomInt(2, 255)}`;
    if (!(await portOpen(ip, 636)) && !(await portOpen(ip, 389)) && !(await portOpen(ip, 135))) return ip;
  }
  throw new Error('test DC: no free loopback address in 127.66.0.0/16');
}

/** A lock directory held while a template is built; a dead holder's lock is taken over. */
async function withDirLock(lock: string, fn: () => Promise<void>): Promise<void> {
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => '0'));
      let alive = pid > 0;
      if (alive) { try { process.kill(pid, 0); } catch { alive = false; } }
      if (!alive) {
        const age = await stat(lock).then((s) => Date.now() - s.mtimeMs).catch(() => 0);
        if (pid > 0 || age > 10_000) { await rm(lock, { recursive: true, force: true }); continue; }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}
