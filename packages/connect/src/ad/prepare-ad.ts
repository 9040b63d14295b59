/**
 * `skybridge connect prepare-ad`: with a domain administrator's credentials,
 * used once and never stored, create the connector account (if missing) and
 * grant exactly the rights the configured features need, as Microsoft
 * documents them for its own connector account:
 *
 * - "Replicating Directory Changes" on the domain root (DirSync);
 * - "Replicating Directory Changes All" there too, with password hash sync;
 * - "Write mS-DS-ConsistencyGuid" on descendant users, when stamping;
 * - List Contents and Read Property on CN=Deleted Objects (deletions).
 *
 * Each grant is an access-allowed object ACE added to the object's DACL
 * (nTSecurityDescriptor with SD_FLAGS = DACL), once: running it again adds
 * nothing. `dryRun` reads and plans, and writes nothing.
 */
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Attribute, Change } from 'ldapts';
import type { AgentConfig } from '../config/agent-config.ts';
import { ConnectError } from '../errors.ts';
import { AdConnection } from './connection.ts';
import { ShowDeletedControl } from './controls/show-deleted-control.ts';
import { OWNER_SECURITY_INFORMATION, SdFlagsControl } from './controls/sd-flags-control.ts';
import { consistencyGuidAttributeId } from './consistency-guid.ts';
import { sidToString } from './guid.ts';
import { dnsDomainOf } from './dn.ts';
import { AccessRight, AceFlag, AceType, addAllowAces, describeAce, parseSecurityDescriptor, serializeSecurityDescriptor, type Ace } from './security-descriptor.ts';

/** Extended rights and schema ids (MS-ADTS 5.1.3.2.1, MS-ADA). */
export const rights = {
  replicatingDirectoryChanges: '1131f6aa-9c07-11d1-f79f-00c04fc2dcd2',
  replicatingDirectoryChangesAll: '1131f6ad-9c07-11d1-f79f-00c04fc2dcd2',
  userClass: 'bf967aba-0de6-11d0-a285-00aa003049e2',
} as const;

/** UF_NORMAL_ACCOUNT | UF_DONT_EXPIRE_PASSWD */
const SERVICE_ACCOUNT_UAC = 0x200 | 0x10000;

export interface PrepareInput {
  config: AgentConfig;
  admin: { bindAs: string; password: string };
  /** where the new account goes (default CN=Users of the domain) */
  container?: string;
  dryRun?: boolean;
}

export interface Grant {
  object: string;
  reason: string;
  ace: string;
  /** already there before this run */
  present: boolean;
}

export interface PrepareResult {
  account: { name: string; dn: string; userPrincipalName: string; sid: string | null; existed: boolean; created: boolean; passwordFile: string };
  grants: Grant[];
  dryRun: boolean;
}

/** The connector account's sAMAccountName from bindAs (a UPN or DOMAIN\name; a DN names no account to create). */
export function accountNameOf(bindAs: string): string {
  if (/^[a-z][a-z0-9-]*=/i.test(bindAs)) {
    throw new ConnectError('config_invalid', 'prepare-ad creates the account bindAs names, and a DN is not a name it can create', { subject: 'activeDirectory.bindAs', fix: 'write bindAs as the account\'s userPrincipalName (name@domain) or DOMAIN\\name' });
  }
  const slash = bindAs.indexOf('\\');
  if (slash > 0) return bindAs.slice(slash + 1);
  const at = bindAs.indexOf('@');
  return at > 0 ? bindAs.slice(0, at) : bindAs;
}

/** A SID of the domain: the domain's SID with one more sub-authority (512: Domain Admins). */
function withRid(domainSid: Buffer, rid: number): Buffer {
  const out = Buffer.concat([domainSid, Buffer.alloc(4)]);
  out[1] = domainSid[1]! + 1;
  out.writeUInt32LE(rid, domainSid.length);
  return out;
}

/** A password for the service account: 32 characters from four classes, which any AD complexity policy accepts. */
function newPassword(): string {
  const sets = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz', '23456789', '!#%+-.=@_'];
  const chars = Array.from({ length: 32 }, (_, i) => { const set = sets[i % 4]!; return set[randomInt(set.length)]!; });
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

const objectAce = (sid: Buffer, objectType: string, mask: number, inherit?: { classId: string }): Ace => ({
  type: AceType.ACCESS_ALLOWED_OBJECT,
  flags: inherit ? AceFlag.CONTAINER_INHERIT | AceFlag.INHERIT_ONLY : 0,
  mask, objectType, sid,
  ...(inherit ? { inheritedObjectType: inherit.classId } : {}),
});

export async function prepareAd(input: PrepareInput): Promise<PrepareResult> {
  const { config } = input;
  const ad = config.activeDirectory;
  const name = accountNameOf(ad.bindAs);
  const conn = await AdConnection.open({ ...ad, bindAs: input.admin.bindAs }, input.admin.password);
  try {
    const domain = conn.rootDse.defaultNamingContext;
    const upn = ad.bindAs.includes('@') ? ad.bindAs : `${name}@${dnsDomainOf(domain)}`;
    const found = (await conn.search({ base: domain, scope: 'sub', filter: `(sAMAccountName=${name.replace(/[*()\\\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`)})`, attributes: ['objectSid'] })).entries[0];
    const dn = found?.dn ?? `CN=${name},${input.container ?? `CN=Users,${domain}`}`;
    const account: PrepareResult['account'] = { name, dn, userPrincipalName: upn, sid: null, existed: Boolean(found), created: false, passwordFile: ad.passwordFile };
    let sid = found?.attributes.get('objectsid')?.values[0] ?? null;

    if (!found && !input.dryRun) {
      // the password the agent will use: the one already in passwordFile (chosen by the administrator), else a new one written there
      const kept = existsSync(ad.passwordFile) ? readFileSync(ad.passwordFile, 'utf8').trim() : '';
      const password = kept || newPassword();
      await conn.client.add(dn, [
        new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
        new Attribute({ type: 'sAMAccountName', values: [name] }),
        new Attribute({ type: 'userPrincipalName', values: [upn] }),
        new Attribute({ type: 'description', values: ['Skybridge Connect: reads the directory for synchronization (created by skybridge connect prepare-ad)'] }),
        new Attribute({ type: 'unicodePwd', values: [Buffer.from(`"${password}"`, 'utf16le')] }),
        new Attribute({ type: 'userAccountControl', values: [String(SERVICE_ACCOUNT_UAC)] }),
      ]).catch((err: Error) => {
        throw new ConnectError('ad_missing_rights', `creating ${dn} failed: ${err.message}`, { subject: dn, fix: 'run prepare-ad as a domain administrator, or create the account yourself and run prepare-ad again' });
      });
      if (!kept) writeFileSync(ad.passwordFile, `${password}\n`, { mode: 0o600 });
      account.created = true;
      const created = (await conn.search({ base: dn, scope: 'base', filter: '(objectClass=*)', attributes: ['objectSid'] })).entries[0];
      sid = created?.attributes.get('objectsid')?.values[0] ?? null;
    }
    account.sid = sid ? sidToString(sid) : null;

    // the grants the configured features need, on the objects they apply to
    const trustee = sid ?? Buffer.from('010100000000000000000000', 'hex'); // (dry run, no account yet: a placeholder SID)
    const wanted: { object: string; deleted: boolean; reason: string; ace: Ace }[] = [
      { object: domain, deleted: false, reason: 'DirSync: Replicating Directory Changes', ace: objectAce(trustee, rights.replicatingDirectoryChanges, AccessRight.DS_CONTROL_ACCESS) },
      ...(config.passwordHashSync.enabled ? [{ object: domain, deleted: false, reason: 'password hash sync: Replicating Directory Changes All', ace: objectAce(trustee, rights.replicatingDirectoryChangesAll, AccessRight.DS_CONTROL_ACCESS) }] : []),
      ...(config.sync.stampConsistencyGuid ? [{ object: domain, deleted: false, reason: 'stamping: Write mS-DS-ConsistencyGuid on users', ace: objectAce(trustee, consistencyGuidAttributeId, AccessRight.DS_WRITE_PROPERTY, { classId: rights.userClass }) }] : []),
      { object: `CN=Deleted Objects,${domain}`, deleted: true, reason: 'deletions: List Contents and Read Property on Deleted Objects', ace: { type: AceType.ACCESS_ALLOWED, flags: 0, mask: AccessRight.DS_LIST_CHILDREN | AccessRight.DS_READ_PROPERTY, sid: trustee } },
    ];
    const grants: Grant[] = [];
    for (const object of [...new Set(wanted.map((w) => w.object))]) {
      const mine = wanted.filter((w) => w.object === object);
      const controls = [new SdFlagsControl(), ...(mine[0]!.deleted ? [new ShowDeletedControl()] : [])];
      const readSd = async () => (await conn.search({ base: object, scope: 'base', filter: '(objectClass=*)', attributes: ['nTSecurityDescriptor'] }, controls)).entries[0]?.attributes.get('ntsecuritydescriptor')?.values[0];
      let raw = await readSd();
      if (!raw && mine[0]!.deleted) {
        // Deleted Objects belongs to SYSTEM and lets nobody read its permissions: take ownership for Domain Admins first,
        // as Microsoft documents it (dsacls "CN=Deleted Objects,…" /takeownership)
        if (input.dryRun) {
          for (const w of mine) grants.push({ object, reason: `${w.reason} (after taking ownership for Domain Admins)`, ace: describeAce(w.ace).replace(sidToString(trustee), sid ? sidToString(sid) : `<SID of ${name}>`), present: false });
          continue;
        }
        const domainSid = (await conn.search({ base: domain, scope: 'base', filter: '(objectClass=*)', attributes: ['objectSid'] })).entries[0]?.attributes.get('objectsid')?.values[0];
        if (!domainSid) throw new ConnectError('ad_missing_rights', `cannot read the domain's SID on ${domain}`, { subject: domain, fix: 'run prepare-ad as a domain administrator' });
        const owner = serializeSecurityDescriptor({ control: 0, owner: withRid(domainSid, 512), group: null, sacl: null, daclRevision: 4, dacl: null });
        await conn.client.modify(object, [new Change({ operation: 'replace', modification: new Attribute({ type: 'nTSecurityDescriptor', values: [owner] }) })], [new SdFlagsControl(OWNER_SECURITY_INFORMATION), new ShowDeletedControl()]).catch((err: Error) => {
          throw new ConnectError('ad_missing_rights', `taking ownership of ${object} failed: ${err.message}`, { subject: object, fix: `run prepare-ad as a domain administrator, or on Windows: dsacls "${object}" /takeownership, then run it again` });
        });
        raw = await readSd();
      }
      if (!raw) throw new ConnectError('ad_missing_rights', `cannot read the permissions of ${object}`, { subject: object, fix: 'run prepare-ad as a domain administrator' });
      const sd = parseSecurityDescriptor(raw);
      const added = sid ? addAllowAces(sd, mine.map((w) => w.ace)) : mine.map((w) => w.ace);
      for (const w of mine) grants.push({ object, reason: w.reason, ace: describeAce(w.ace).replace(sidToString(trustee), sid ? sidToString(sid) : `<SID of ${name}>`), present: !added.includes(w.ace) });
      if (added.length && !input.dryRun) {
        await conn.client.modify(object, [new Change({ operation: 'replace', modification: new Attribute({ type: 'nTSecurityDescriptor', values: [serializeSecurityDescriptor(sd)] }) })], controls).catch((err: Error) => {
          throw new ConnectError('ad_missing_rights', `writing the permissions of ${object} failed: ${err.message}`, {
            subject: object,
            fix: mine[0]!.deleted
              ? `on Windows take ownership first: dsacls "${object}" /takeownership, then run prepare-ad again (or dsacls "${object}" /G "<account>:LCRP")`
              : 'run prepare-ad as a domain administrator',
          });
        });
      }
    }
    return { account, grants, dryRun: input.dryRun ?? false };
  } finally {
    await conn.close();
  }
}
