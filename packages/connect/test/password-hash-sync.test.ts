/**
 * Password hash synchronization end to end: the Samba DC, the agent as its
 * own process (`skybridge connect sync`), the cloud. The agent reads NT
 * hashes over MS-DRSR with the connector account, sends only the versioned
 * cloud hash, and synchronized users sign in to an application with their
 * AD password. The rights are checked with a clear error; a password
 * changed over LDAP replaces the old one; nothing hash-related is written
 * to the agent's disk or output.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Attribute, Change } from 'ldapts';
import type { TestCloud } from '../../cloud/test/helpers/cloud.ts';
import { runCli } from '../../cloud/test/helpers/cli.ts';
import { signInKit } from '../../cloud/test/helpers/sign-in-kit.ts';
import { grantOnRunningDc } from '../../../scripts/test-dc/test-dc.ts';
import { unicodePwd, userEntry } from '../../../scripts/test-dc/seed.ts';
import type { SmallDirectory, TestDc } from './helpers/ad.ts';
import { asDomainAdmin, editAgentConfig, startSyncWorld, stopSyncWorld, syncCli, type SyncWorld } from './helpers/sync.ts';
import { ntHash } from '../src/drsr/crypto/primitives.ts';

const getChangesAll = (sid: string) => `(OA;;CR;1131f6ad-9c07-11d1-f79f-00c04fc2dcd2;;${sid})`;

/** Every file under a directory, recursively. */
const filesUnder = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
  const path = join(dir, name);
  return statSync(path).isDirectory() ? filesUnder(path) : [path];
});

describe('password hash synchronization: AD → agent over MS-DRSR → cloud → sign-in (pglite)', () => {
  let w: SyncWorld;
  let dc: TestDc;
  let seed: SmallDirectory;
  let t: TestCloud;
  let admin: string;
  let files: SyncWorld['files'];
  let kit: ReturnType<typeof signInKit>;
  const outputs: string[] = [];
  const sync = async (...args: string[]) => {
    const res = await syncCli(files.configPath, ...args);
    outputs.push(res.stdout, res.stderr);
    return res;
  };
  const signIn = async (username: string, password: string) => {
    const b = kit.browser();
    return b.submit((await kit.authorize(b, 'portal')).page, { username, password });
  };
  const setPassword = (dn: string, password: string) =>
    asDomainAdmin(dc, (c) => c.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'unicodePwd', values: [unicodePwd(password)] }) })));

  before(async () => {
    w = await startSyncWorld('pglite', 'contoso');
    ({ dc, seed, t, token: admin, files } = w);
    // from 10 users due the agent reads the domain in replication pages: the first sync does, the deltas go user by user
    editAgentConfig(files.configPath, (c) => { c.passwordHashSync = { enabled: true, bulkFrom: 10 }; });
    kit = signInKit(t, w.tenant, admin);
    await kit.register('portal');
  });
  after(() => stopSyncWorld(w));

  test('the connector account\'s rights and the tenant\'s switch are checked, each with an error that says what to do; the objects sync regardless', async () => {
    const noRights = await sync();
    assert.notEqual(noRights.code, 0);
    assert.match(noRights.stderr, /Replicating Directory Changes All/);
    const users = (await t.call('GET', `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${seed.passwordUsers[0]!.user.userPrincipalName}"`)}`, { token: admin })).body;
    assert.equal(users.totalResults, 1, 'the directory synchronized even though the hashes could not');

    const doctor = async () => JSON.parse((await runCli(['connect', 'doctor', '--json', '--config', files.configPath])).stdout).checks.find((c: { name: string }) => /password hash sync/.test(c.name));
    const before = await doctor();
    assert.equal(before.status, 'fail');
    assert.match(`${before.detail} ${before.fix}`, /Replicating Directory Changes All/);

    await grantOnRunningDc(dc, dc.baseDn, getChangesAll);
    assert.equal((await doctor()).status, 'pass', 'the doctor checks the right up front');
    const switchOff = await sync();
    assert.notEqual(switchOff.code, 0);
    assert.match(switchOff.stderr, /password hash synchronization is off in the cloud/);
    assert.match(switchOff.stderr, /passwordHashSync/);

    assert.equal((await t.call('PATCH', '/api/v1/tenant', { token: admin, body: { passwordHashSync: true } })).body.passwordHashSync, true);
    const first = await sync();
    assert.equal(first.code, 0, first.stderr);
    const phs = first.json.passwordHashSync;
    assert.equal(phs.errors, 0);
    assert.equal(phs.notInCloud, 0);
    assert.equal(phs.stored, phs.candidates, 'every exported user\'s hash (or its absence) went');
    assert.ok(phs.stored >= seed.users.length, `${phs.stored} users`);
    assert.ok(phs.replicationPages >= 1, 'the first sync read the domain in replication pages');

    const again = await sync();
    assert.equal(again.json.passwordHashSync.candidates, 0, 'nothing changed, nothing sent');
  });

  test('synchronized users sign in with their AD password; a wrong one fails; the log says password hash sync', async () => {
    for (const { user, password } of seed.passwordUsers.slice(0, 2)) {
      kit.atApp(await signIn(user.userPrincipalName!, password), 'portal');
      const entry = (await t.call('GET', '/api/v1/sign-ins?limit=1', { token: admin })).body.items[0];
      assert.equal(entry.method, 'password_hash_sync');
      assert.equal(entry.result, 'success');
    }
    assert.equal((await signIn(seed.passwordUsers[0]!.user.userPrincipalName!, 'Not-the-AD-passw0rd')).status, 401);
  });

  test('a password changed over LDAP reaches the cloud with the next delta: the old one fails, the new one works; a new user signs in too', async () => {
    const { user, password } = seed.passwordUsers[1]!;
    await setPassword(user.dn, 'Changed-in-AD-2026!');
    const fresh = userEntry({ index: 7100, ou: seed.ous.staff, dnsDomain: dc.dnsDomain, prefix: 'phs', password: 'Brand-new-Passw0rd!' });
    await asDomainAdmin(dc, (c) => c.add(fresh.dn, fresh.attributes));
    const delta = await sync();
    assert.equal(delta.code, 0, delta.stderr);
    assert.equal(delta.json.passwordHashSync.candidates, 2, 'only the changed and the new user');
    assert.equal(delta.json.passwordHashSync.stored, 2);
    assert.equal(delta.json.passwordHashSync.replicationPages, 0, 'a delta reads the two users one by one');
    assert.equal((await signIn(user.userPrincipalName!, password)).status, 401, 'the old password no longer works');
    kit.atApp(await signIn(user.userPrincipalName!, 'Changed-in-AD-2026!'), 'portal');
    kit.atApp(await signIn(fresh.user.userPrincipalName!, 'Brand-new-Passw0rd!'), 'portal');

    const status = await runCli(['connect', 'status', '--config', files.configPath, '--json']);
    const s = JSON.parse(status.stdout).passwordHashSync;
    assert.equal(s.synced, s.users);
    assert.equal(s.errors, 0);
  });

  test('"must change password at next logon" set in AD goes with the hash; with the tenant\'s switch on, the user must change it first', async () => {
    const { user, password } = seed.passwordUsers[0]!;
    await asDomainAdmin(dc, (c) => c.modify(user.dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'pwdLastSet', values: ['0'] }) })));
    const delta = await sync();
    assert.equal(delta.json.passwordHashSync.stored, 1);
    await t.call('PATCH', '/api/v1/tenant', { token: admin, body: { forcePasswordChangeOnLogOn: true } });
    assert.match((await signIn(user.userPrincipalName!, password)).text, /change your password before you sign in/);
    await setPassword(user.dn, 'Changed-after-flag-1!');
    assert.equal((await sync()).json.passwordHashSync.stored, 1);
    kit.atApp(await signIn(user.userPrincipalName!, 'Changed-after-flag-1!'), 'portal');
    await t.call('PATCH', '/api/v1/tenant', { token: admin, body: { forcePasswordChangeOnLogOn: false } });
    await setPassword(user.dn, password);
    assert.equal((await sync()).json.passwordHashSync.stored, 1);
  });

  test('nothing hash-related is on the agent\'s disk or in its output', async () => {
    const secrets: Buffer[] = [];
    for (const password of ['Changed-in-AD-2026!', 'Brand-new-Passw0rd!', seed.passwordUsers[0]!.password]) {
      const nt = await ntHash(password);
      secrets.push(nt, Buffer.from(nt.toString('hex')), Buffer.from(nt.toString('hex').toUpperCase()), Buffer.from(nt.toString('hex').toUpperCase(), 'utf16le'), Buffer.from(password), Buffer.from(password, 'utf16le'));
    }
    const onDisk = filesUnder(files.dir).map((f) => readFileSync(f));
    assert.ok(onDisk.length > 2, 'the agent wrote its state');
    for (const [i, s] of secrets.entries()) {
      for (const [j, content] of onDisk.entries()) assert.equal(content.indexOf(s), -1, `secret ${i} in file ${j}`);
      for (const out of outputs) assert.equal(Buffer.from(out).indexOf(s), -1, `secret ${i} in the agent's output`);
    }
    assert.ok(outputs.join('').includes('"passwordHashSync"'), 'the outputs were collected');
  });

  test('turning password hash sync off in the cloud clears the hashes: the users are told it is not turned on', async () => {
    await t.call('PATCH', '/api/v1/tenant', { token: admin, body: { passwordHashSync: false } });
    const page = await signIn(seed.passwordUsers[0]!.user.userPrincipalName!, seed.passwordUsers[0]!.password);
    assert.match(page.text, /not turned on/);
  });
});
