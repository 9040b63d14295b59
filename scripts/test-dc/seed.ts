/**
 * Seeds a test domain over LDAPS, as an administrator would through any LDAP
 * tool: OUs, users with realistic attributes (non-ASCII and comma-escaped
 * names, several proxyAddresses, disabled and expired accounts, users without
 * a UPN), security and mail-enabled groups, nested groups, contacts,
 * computers, and the objects default scoping must skip.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import type { TemplateSeed, TestDc } from './test-dc.ts';

export async function adminClient(dc: TestDc, url = dc.ldapsUrl): Promise<Client> {
  const client = new Client({ url, timeout: 600_000, tlsOptions: { ca: readFileSync(dc.caFile), servername: dc.hostName } });
  await client.bind(dc.admin.userPrincipalName, dc.admin.password);
  return client;
}

export const escapeRdn = (v: string): string => v.replace(/[\\,+"<>;=#]/g, (c) => `\\${c}`);
export const unicodePwd = (password: string): Buffer => Buffer.from(`"${password}"`, 'utf16le');

/** userAccountControl flags */
export const uac = { disabled: 0x2, passwordNotRequired: 0x20, normal: 0x200, workstation: 0x1000, noExpiry: 0x10000 };
const ticksFrom1601 = (d: Date) => (BigInt(d.getTime()) + 11_644_473_600_000n) * 10_000n;

const givenNames = ['Zoë', 'José', 'Łukasz', 'Ana', 'Pat', 'Ingrid', 'Mohammed', 'Chloé', 'Søren', 'Yuki', 'Olivia', 'Raj', 'Björn', 'Amélie', 'Nguyễn', 'Grace'];
const surnames = ['Müller', 'García', 'Kowalski', 'Lee', "O'Brien", 'Ødegaard', 'Dubois', 'Tanaka', 'Smith', 'Rossi', 'Novák', 'Çelik', 'Ivanova', 'Andersson', 'Patel', 'Brown'];
const departments = ['Sales', 'Engineering', 'Finance', 'Support', 'Légal', 'Operations'];
const titles = ['Engineer', 'Account Manager', 'Analyst', 'Director', 'Consultant', 'Technician'];

export interface SeedUser {
  dn: string;
  sAMAccountName: string;
  userPrincipalName?: string;
  givenName: string;
  sn: string;
  mail: string;
}

export interface UserOptions {
  index: number;
  ou: string;
  dnsDomain: string;
  prefix?: string;
  /** commaName: cn is "Surname, Given" (escaped in the DN) */
  commaName?: boolean;
  noUpn?: boolean;
  disabled?: boolean;
  expired?: boolean;
  password?: string;
}

export function userEntry(o: UserOptions): { dn: string; attributes: Attribute[]; user: SeedUser } {
  const prefix = o.prefix ?? 'user';
  const givenName = givenNames[o.index % givenNames.length]!;
  const sn = surnames[Math.floor(o.index / givenNames.length) % surnames.length]!;
  const sam = `${prefix}${String(o.index).padStart(6, '0')}`;
  const tag = prefix === 'user' ? String(o.index) : sam;
  const cn = o.commaName ? `${sn}, ${givenName} ${tag}` : `${givenName} ${sn} ${tag}`;
  const dn = `CN=${escapeRdn(cn)},${o.ou}`;
  const mail = `${sam}@${o.dnsDomain}`;
  const flags = uac.normal | (o.password ? 0 : uac.passwordNotRequired) | (o.disabled ? uac.disabled : 0);
  const values: Record<string, string | string[]> = {
    objectClass: ['top', 'person', 'organizationalPerson', 'user'],
    sAMAccountName: sam,
    givenName, sn,
    displayName: `${givenName} ${sn}`,
    mail,
    proxyAddresses: [`SMTP:${mail}`, `smtp:${givenName.toLowerCase().normalize('NFD').replace(/[^\x20-\x7e]/g, '')}.${o.index}@${o.dnsDomain}`, `smtp:${sam}@mail.${o.dnsDomain}`],
    department: departments[o.index % departments.length]!,
    title: titles[o.index % titles.length]!,
    company: 'Skybridge Test Corp',
    telephoneNumber: `+1 555 ${String(o.index % 10000).padStart(4, '0')}`,
    employeeID: `E${String(o.index).padStart(7, '0')}`,
    l: o.index % 2 ? 'Zürich' : 'São Paulo',
    c: o.index % 2 ? 'CH' : 'BR',
    description: `Seeded user ${o.index}`,
    userAccountControl: String(flags),
  };
  if (!o.noUpn) values.userPrincipalName = `${sam}@${o.dnsDomain}`;
  if (o.expired) values.accountExpires = String(ticksFrom1601(new Date(Date.now() - 86_400_000)));
  const attributes = Object.entries(values).map(([type, v]) => new Attribute({ type, values: Array.isArray(v) ? v : [v] }));
  if (o.password) attributes.push(new Attribute({ type: 'unicodePwd', values: [unicodePwd(o.password)] }));
  const user: SeedUser = { dn, sAMAccountName: sam, givenName, sn, mail, ...(o.noUpn ? {} : { userPrincipalName: `${sam}@${o.dnsDomain}` }) };
  return { dn, attributes, user };
}

export async function addOu(client: Client, dn: string): Promise<string> {
  await client.add(dn, { objectClass: ['top', 'organizationalUnit'] });
  return dn;
}

export async function addGroup(client: Client, dn: string, options: { sam: string; mail?: string; security?: boolean; members?: string[] }): Promise<string> {
  // groupType: 0x2 global, 0x80000000 security.
  const groupType = (options.security === false ? 0x2 : 0x80000002) | 0;
  const values: Record<string, string | string[]> = { objectClass: ['top', 'group'], sAMAccountName: options.sam, groupType: String(groupType) };
  if (options.mail) {
    values.mail = options.mail;
    values.proxyAddresses = [`SMTP:${options.mail}`];
  }
  await client.add(dn, values);
  if (options.members?.length) await addMembers(client, dn, options.members);
  return dn;
}

export async function addMembers(client: Client, groupDn: string, members: string[], chunk = 5000): Promise<void> {
  for (let i = 0; i < members.length; i += chunk) {
    await client.modify(groupDn, new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: members.slice(i, i + chunk) }) }));
  }
}

/** One LDIF record (RFC 2849) adding an entry: values other than plain ASCII go base64. */
export function ldifAdd(dn: string, attributes: Attribute[]): string {
  const lines = [ldifLine('dn', dn)];
  for (const a of attributes) for (const v of a.values) lines.push(ldifLine(a.type, v));
  return `${lines.join('\n')}\n`;
}

/** One LDIF record adding values to a multi-valued attribute. */
export function ldifAddValues(dn: string, type: string, values: string[]): string {
  return `${[ldifLine('dn', dn), 'changetype: modify', `add: ${type}`, ...values.map((v) => ldifLine(type, v)), '-'].join('\n')}\n`;
}

function ldifLine(type: string, value: string | Buffer): string {
  const text = typeof value === 'string' ? value : null;
  return text !== null && /^[\x21-\x39\x3b\x3d-\x7e][\x20-\x7e]*$/.test(text) && !text.endsWith(' ')
    ? `${type}: ${text}`
    : `${type}:: ${Buffer.from(value).toString('base64')}`;
}

/**
 * Loads LDIF records into a template DC's database through Samba's own ldb
 * modules in batch mode (bulk-load.py), `perTransaction` records at a time.
 * Adds over LDAP slow down linearly with the directory on Samba (about
 * 40 users/s at 15,000 users here), which puts a 100,000-user template out
 * of reach; this stays at about 350 users/s. For building templates only:
 * the product reads AD over the network.
 */
export async function bulkLoad(dc: TestDc, records: Iterable<string>, options: { perTransaction?: number; onProgress?: (done: number) => void } = {}): Promise<number> {
  const file = join(dc.dir, `bulk-${process.pid}.ldif`);
  const out = createWriteStream(file, 'utf8');
  let count = 0;
  for (const r of records) {
    count += 1;
    if (!out.write(`${r}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('/usr/bin/python3', [join(import.meta.dirname, 'bulk-load.py'), join(dc.dir, 'etc', 'smb.conf'), join(dc.dir, 'private', 'sam.ldb'), file, String(options.perTransaction ?? 5000)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        const last = d.toString().trim().split('\n').at(-1);
        if (last) options.onProgress?.(Number(last));
      });
      child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`test DC: bulk-load.py exited ${code}: ${stderr}`))));
    });
  } finally {
    rmSync(file, { force: true });
  }
  return count;
}

/** Adds users `count` at a time in parallel requests on one connection (Samba serializes them anyway). */
export async function addUsers(client: Client, options: Omit<UserOptions, 'index'> & { from?: number; count: number; onProgress?: (done: number) => void }): Promise<SeedUser[]> {
  const users: SeedUser[] = [];
  const from = options.from ?? 0;
  const inFlight = 8;
  let next = from;
  const end = from + options.count;
  const worker = async () => {
    while (next < end) {
      const index = next++;
      const e = userEntry({ ...options, index });
      await client.add(e.dn, e.attributes);
      users.push(e.user);
      if (users.length % 500 === 0) options.onProgress?.(users.length);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return users;
}

export interface SmallDirectory {
  root: string;
  ous: { staff: string; sales: string; engineering: string; groups: string; contacts: string; computers: string; disabled: string; excluded: string; special: string };
  users: SeedUser[];
  /** users created with a password that works for LDAP binds */
  passwordUsers: { user: SeedUser; password: string }[];
  disabledUser: SeedUser;
  expiredUser: SeedUser;
  noUpnUser: SeedUser;
  commaUser: SeedUser;
  groups: { security: string; mailEnabled: string; nested: string; parent: string; large: string };
  largeGroupMembers: number;
  contacts: { mailEnabled: string; plain: string };
  computers: string[];
  skipped: { aadUser: string; msolUser: string };
}

/** The small directory as a template seed: seeded once per machine, copied per DC. */
export const smallSeed: TemplateSeed = { name: 'small-v1', run: (dc) => seedSmall(dc) };

/** The small directory most tests use: every kind of object, a few dozen users, one 3,001-member group. */
export async function seedSmall(dc: TestDc, options: { users?: number; largeGroupMembers?: number } = {}): Promise<SmallDirectory> {
  const client = await adminClient(dc);
  try {
    const root = await addOu(client, `OU=Skybridge,${dc.baseDn}`);
    const ou = async (name: string, parent = root) => addOu(client, `OU=${escapeRdn(name)},${parent}`);
    const staff = await ou('Staff');
    const ous = {
      staff, sales: await ou('Sales', staff), engineering: await ou('Engineering', staff), groups: await ou('Groups'),
      contacts: await ou('Contacts'), computers: await ou('Computers'), disabled: await ou('Disabled'), excluded: await ou('Excluded'),
      special: await ou('Müller, Söhne & Co'),
    };
    const d = dc.dnsDomain;
    const users = await addUsers(client, { ou: ous.sales, dnsDomain: d, count: options.users ?? 20 });
    const eng = await addUsers(client, { ou: ous.engineering, dnsDomain: d, from: 1000, count: 10, commaName: true });
    users.push(...eng);
    const passwordUsers: SmallDirectory['passwordUsers'] = [];
    for (let i = 0; i < 3; i++) {
      const password = `Pw-${i}-Skybridge!${i}`;
      const e = userEntry({ index: 2000 + i, ou: ous.staff, dnsDomain: d, password });
      await client.add(e.dn, e.attributes);
      passwordUsers.push({ user: e.user, password });
      users.push(e.user);
    }
    const one = async (o: Omit<UserOptions, 'dnsDomain'>) => {
      const e = userEntry({ ...o, dnsDomain: d });
      await client.add(e.dn, e.attributes);
      users.push(e.user);
      return e.user;
    };
    const disabledUser = await one({ index: 3000, ou: ous.disabled, disabled: true });
    const expiredUser = await one({ index: 3001, ou: ous.staff, expired: true });
    const noUpnUser = await one({ index: 3002, ou: ous.staff, noUpn: true });
    const commaUser = eng[0]!;
    await one({ index: 3003, ou: ous.special });
    await one({ index: 3004, ou: ous.excluded });
    // Objects default scoping skips.
    const aad = userEntry({ index: 1, ou: ous.staff, dnsDomain: d, prefix: 'AAD_' });
    await client.add(aad.dn, aad.attributes);
    const msol = userEntry({ index: 1, ou: ous.staff, dnsDomain: d, prefix: 'MSOL_' });
    await client.add(msol.dn, msol.attributes);

    const security = await addGroup(client, `CN=Sales Team,${ous.groups}`, { sam: 'sales-team', members: users.slice(0, 10).map((u) => u.dn) });
    const mailEnabled = await addGroup(client, `CN=All Staff (mail),${ous.groups}`, { sam: 'all-staff', security: false, mail: `all-staff@${d}`, members: users.slice(0, 20).map((u) => u.dn) });
    const nested = await addGroup(client, `CN=Engineers,${ous.groups}`, { sam: 'engineers', members: eng.map((u) => u.dn) });
    const parent = await addGroup(client, `CN=Everyone Nested,${ous.groups}`, { sam: 'everyone-nested', members: [security, nested] });
    // A group larger than three ranges of 1,000: its members are contacts (cheap to create).
    const largeCount = options.largeGroupMembers ?? 3001;
    const largeOu = await ou('Large Group Members');
    const largeMembers: string[] = [];
    const pending: Promise<void>[] = [];
    for (let i = 0; i < largeCount; i++) {
      const dn = `CN=Member ${i},${largeOu}`;
      largeMembers.push(dn);
      pending.push(client.add(dn, { objectClass: ['top', 'person', 'organizationalPerson', 'contact'] }));
      if (pending.length >= 16) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    const large = await addGroup(client, `CN=Large Group,${ous.groups}`, { sam: 'large-group', members: largeMembers });

    const mailContact = `CN=${escapeRdn('Partner, External')},${ous.contacts}`;
    await client.add(mailContact, { objectClass: ['top', 'person', 'organizationalPerson', 'contact'], mail: 'partner@example.net', proxyAddresses: ['SMTP:partner@example.net'], displayName: 'External Partner', givenName: 'External', sn: 'Partner' });
    const plainContact = `CN=Plain Contact,${ous.contacts}`;
    await client.add(plainContact, { objectClass: ['top', 'person', 'organizationalPerson', 'contact'], displayName: 'Plain Contact' });
    const computers: string[] = [];
    for (const name of ['WS0001', 'WS0002']) {
      const dn = `CN=${name},${ous.computers}`;
      await client.add(dn, { objectClass: ['top', 'person', 'organizationalPerson', 'user', 'computer'], sAMAccountName: `${name}$`, userAccountControl: String(uac.workstation), dNSHostName: `${name.toLowerCase()}.${d}` });
      computers.push(dn);
    }
    return {
      root, ous, users, passwordUsers, disabledUser, expiredUser, noUpnUser, commaUser,
      groups: { security, mailEnabled, nested, parent, large }, largeGroupMembers: largeCount,
      contacts: { mailEnabled: mailContact, plain: plainContact }, computers,
      skipped: { aadUser: aad.dn, msolUser: msol.dn },
    };
  } finally {
    await client.unbind();
  }
}

export interface UpgradeDirectory {
  /** users with a UPN and a primary SMTP address, in index order */
  users: SeedUser[];
  /** a security group whose direct members are every user and every contact */
  group: string;
  groupMembers: number;
  contacts: number;
}

/**
 * The upgrade case at scale (issue 5): 1,100 users to match against a
 * preloaded tenant, and a security group above the old DirSync limit of
 * 15,000 members (the users plus mail-enabled contacts, which sync too).
 */
export const upgradeSeed: TemplateSeed = {
  name: 'upgrade-v1',
  run: async (dc) => {
    const client = await adminClient(dc);
    try {
      const root = await addOu(client, `OU=Upgrade,${dc.baseDn}`);
      const users = await addUsers(client, { ou: root, dnsDomain: dc.dnsDomain, from: 10_000, count: 1100 });
      users.sort((a, b) => a.sAMAccountName.localeCompare(b.sAMAccountName));
      const contactOu = await addOu(client, `OU=Partners,${root}`);
      const contacts = 15_001 - users.length;
      const members = users.map((u) => u.dn);
      const pending: Promise<void>[] = [];
      for (let i = 0; i < contacts; i++) {
        const dn = `CN=Partner ${i},${contactOu}`;
        members.push(dn);
        const mail = `partner${i}@partners.example.net`;
        pending.push(client.add(dn, { objectClass: ['top', 'person', 'organizationalPerson', 'contact'], mail, proxyAddresses: [`SMTP:${mail}`], displayName: `Partner ${i}` }));
        if (pending.length >= 16) await Promise.all(pending.splice(0));
      }
      await Promise.all(pending);
      const group = await addGroup(client, `CN=Upgrade Everyone,${root}`, { sam: 'upgrade-everyone' });
      await addMembers(client, group, members);
      return { users, group, groupMembers: members.length, contacts } satisfies UpgradeDirectory;
    } finally {
      await client.unbind();
    }
  },
};
