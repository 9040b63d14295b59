/**
 * `skybridge connect prepare-ad` against the Samba DC, as an administrator
 * runs it: the doctor fails before it (no account, no rights) and passes
 * after it; --dry-run plans and changes nothing; a second run adds nothing.
 * Samba's own tool (samba-tool dsacl get, over LDAP) is the oracle for the
 * permission entries written.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../../cloud/test/helpers/cli.ts';
import { smallDc, agentConfig, type AgentFiles, type TestDc } from './helpers/ad.ts';

const run = promisify(execFile);
const account = 'skybridge-sync';

describe('prepare-ad against the Samba DC', () => {
  let dc: TestDc;
  let files: AgentFiles;
  let adminPasswordFile: string;
  const prepare = (...args: string[]) => runCli(['connect', 'prepare-ad', '--config', files.configPath, '--admin', dc.admin.userPrincipalName, '--admin-password-file', adminPasswordFile, '--json', ...args]);
  const doctor = async () => {
    const res = await runCli(['connect', 'doctor', '--json', '--config', files.configPath]);
    return Object.fromEntries((JSON.parse(res.stdout).checks as { name: string; status: string }[]).map((c) => [c.name, c.status]));
  };
  /** The domain root's DACL as Samba reads it (the oracle), in SDDL. */
  const rootSddl = async () => (await run('samba-tool', ['dsacl', 'get', `--objectdn=${dc.baseDn}`, '-H', `ldap://${dc.ip}`, `--configfile=${join(dc.dir, 'etc', 'smb.conf')}`, `-U${dc.domain}\\${dc.admin.name}%${dc.admin.password}`, '--use-kerberos=off'])).stdout;

  before(async () => {
    ({ dc } = await smallDc());
    // the account does not exist yet; its password is chosen in advance in the agent's password file
    files = agentConfig(dc, {}, {
      account: { bindAs: `${account}@${dc.dnsDomain}`, password: 'Chosen-by-the-admin-2026!' },
      topLevel: { passwordHashSync: { enabled: true }, sync: { sourceAnchor: 'mS-DS-ConsistencyGuid', stampConsistencyGuid: true } },
    });
    adminPasswordFile = join(files.dir, 'admin-password');
    writeFileSync(adminPasswordFile, `${dc.admin.password}\n`, { mode: 0o600 });
  });
  after(async () => {
    files?.cleanup();
    await dc?.stop();
  });

  test('before it the doctor fails; --dry-run lists the account and each permission entry, and changes nothing', async () => {
    assert.equal((await doctor())['domain controller'], 'fail', 'the account does not exist yet');
    const dry = await prepare('--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout);
    assert.equal(plan.dryRun, true);
    assert.equal(plan.account.existed, false);
    assert.equal(plan.account.dn, `CN=${account},CN=Users,${dc.baseDn}`);
    const reasons = plan.grants.map((g: { reason: string; present: boolean }) => [g.reason, g.present]);
    assert.deepEqual(reasons, [
      ['DirSync: Replicating Directory Changes', false],
      ['password hash sync: Replicating Directory Changes All', false],
      ['stamping: Write mS-DS-ConsistencyGuid on users', false],
      ['deletions: List Contents and Read Property on Deleted Objects (after taking ownership for Domain Admins)', false],
    ]);
    assert.match(plan.grants[1].ace, /^\(OA;;CR;1131f6ad-9c07-11d1-f79f-00c04fc2dcd2;;<SID of skybridge-sync>\)$/);
    assert.match(plan.grants[2].ace, /^\(OA;CIIO;WP;23773dc2-b63a-11d2-90e1-00c04fd91ab1;bf967aba-0de6-11d0-a285-00aa003049e2;/);
    assert.equal((await doctor())['domain controller'], 'fail', 'a dry run creates nothing');
  });

  test('it creates the account and grants the rights; the doctor passes; Samba reads the entries; a second run adds nothing', async () => {
    const res = await prepare();
    assert.equal(res.code, 0, res.stderr);
    const done = JSON.parse(res.stdout);
    assert.equal(done.account.created, true);
    assert.match(done.account.sid, /^S-1-5-21-/);
    assert.ok(done.grants.every((g: { present: boolean }) => !g.present));

    const checks = await doctor();
    assert.equal(checks['domain controller'], 'pass', 'the account binds with the password chosen in advance');
    assert.equal(checks['connector account rights'], 'pass');
    assert.equal(checks['password hash sync (MS-DRSR)'], 'pass');
    assert.equal(checks['stamping right'], 'pass');

    const sddl = await rootSddl();
    for (const right of ['1131f6aa-9c07-11d1-f79f-00c04fc2dcd2', '1131f6ad-9c07-11d1-f79f-00c04fc2dcd2']) {
      assert.equal(sddl.split(`(OA;;CR;${right};;${done.account.sid})`).length - 1, 1, `${right} once`);
    }
    assert.ok(sddl.includes(`(OA;CIIO;WP;23773dc2-b63a-11d2-90e1-00c04fd91ab1;bf967aba-0de6-11d0-a285-00aa003049e2;${done.account.sid})`));

    const again = JSON.parse((await prepare()).stdout);
    assert.equal(again.account.existed, true);
    assert.ok(again.grants.every((g: { present: boolean }) => g.present), 'every entry is already there');
    assert.equal((await rootSddl()).split(done.account.sid).length, sddl.split(done.account.sid).length, 'no entry added twice');
  });

  test('a wrong administrator password is a clear error, and the admin password is never written anywhere', async () => {
    const wrongFile = join(files.dir, 'wrong');
    writeFileSync(wrongFile, 'not-the-password\n', { mode: 0o600 });
    const res = await runCli(['connect', 'prepare-ad', '--config', files.configPath, '--admin', dc.admin.userPrincipalName, '--admin-password-file', wrongFile]);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /bind|password|credentials/i);
    const { stdout } = await run('grep', ['-rl', dc.admin.password, files.dir]).catch((e: { stdout: string }) => ({ stdout: e.stdout ?? '' }));
    assert.deepEqual(stdout.trim().split('\n').filter(Boolean), [adminPasswordFile], 'only the file the test wrote holds it');
  });
});
