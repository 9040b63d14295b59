/**
 * `skybridge connect setup` driven through a pseudo-terminal (pexpect, from
 * Debian's python3-pexpect), as an administrator answers it: a wrong cloud
 * URL and a wrong password are caught on the spot and asked again; custom
 * mode checks the container; the configuration it writes is the one every
 * command reads, the agent is registered, and the doctor passes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { cliMain } from '../../cloud/test/helpers/cli.ts';
import { startTestCloud, type TestCloud } from '../../cloud/test/helpers/cloud.ts';
import { smallDc, type SmallDirectory, type TestDc } from '../../connect/test/helpers/ad.ts';

const run = promisify(execFile);

describe('the setup wizard, through a pseudo-terminal', () => {
  let dc: TestDc;
  let seed: SmallDirectory;
  let t: TestCloud;
  let dir: string;
  let token: string;

  before(async () => {
    ({ dc, seed } = await smallDc());
    t = await startTestCloud('pglite');
    const tenant = await t.createTenant('wizard');
    token = await t.token(tenant);
    dir = mkdtempSync(join(tmpdir(), 'skybridge-setup-'));
    writeFileSync(join(dir, 'cloud-ca.pem'), t.trust.ca!);
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t?.close();
    await dc?.stop();
  });

  test('custom set-up: each answer checked live, the configuration written, the agent registered, the doctor green', async () => {
    const registration = (await t.call('POST', '/api/v1/agents/registration-tokens', { token })).body.registrationToken as string;
    const configPath = join(dir, 'etc', 'connect.yaml');
    const script = `
import pexpect, sys, json
a = json.loads(sys.argv[1])
DOWN = '\\x1b[B'
c = pexpect.spawn(a['node'], [a['cli'], 'connect', 'setup', '--config', a['config']], encoding='utf-8', timeout=120, dimensions=(50, 200), env={'PATH': '/usr/bin:/bin', 'HOME': a['dir']})
c.logfile_read = sys.stdout
c.expect('Skybridge Cloud URL'); c.sendline('https://127.0.0.1:1')
c.expect('CA certificate of the cloud'); c.sendline(a['cloudCa'])
# a wrong answer: its error first, then the question again (keys typed while an answer is checked are not read)
c.expect('✖'); c.expect('Skybridge Cloud URL'); c.sendline(a['cloudUrl'])
c.expect('CA certificate of the cloud'); c.sendline(a['cloudCa'])
c.expect('the cloud answers')
c.expect('Domain controller'); c.sendline(a['ldaps'])
c.expect('CA certificate of the DC'); c.sendline(a['dcCa'])
c.expect('Name in the DC'); c.sendline(a['dcName'])
c.expect('Connector account'); c.sendline(a['bindAs'])
c.expect('Password of'); c.sendline('wrong-password')
c.expect('✖'); c.expect('Domain controller'); c.sendline(a['ldaps'])
c.expect('CA certificate of the DC'); c.sendline(a['dcCa'])
c.expect('Name in the DC'); c.sendline(a['dcName'])
c.expect('Connector account'); c.sendline(a['bindAs'])
c.expect('Password of'); c.sendline(a['password'])
c.expect('bound to')
c.expect('Set-up'); c.send(DOWN); c.send('\\r')
c.expect('Containers to synchronize'); c.sendline('OU=Nowhere,' + a['base'])
c.expect('is not in the directory'); c.expect('Containers to synchronize'); c.sendline(a['container'])
c.expect('container found')
c.expect('How users sign in'); c.send('\\r')
c.expect('Source anchor'); c.send('\\r')
c.expect('Staging mode'); c.sendline('n')
c.expect('Register anyway'); c.sendline('y')
c.expect('Registration token'); c.sendline(a['token'])
c.expect('registered as agent')
c.expect('Next:')
c.expect(pexpect.EOF)
c.close()
sys.exit(c.exitstatus or 0)
`;
    const answers = {
      node: process.execPath, cli: cliMain, config: configPath, dir,
      cloudUrl: t.url, cloudCa: join(dir, 'cloud-ca.pem'),
      ldaps: dc.ldapsUrl, dcCa: dc.caFile, dcName: dc.hostName,
      bindAs: dc.connector.userPrincipalName, password: dc.connector.password,
      base: dc.baseDn, container: seed.ous.staff, token: registration,
    };
    const { stdout } = await run('/usr/bin/python3', ['-c', script, JSON.stringify(answers)], { maxBuffer: 16 << 20 }).catch((e: { stdout: string; stderr: string }) => {
      assert.fail(`the wizard did not finish: ${e.stderr}\n${e.stdout.slice(-3000)}`);
    });
    assert.match(stdout, /✖ .*127\.0\.0\.1:1/, 'the unreachable cloud is named, then asked again');
    assert.match(stdout, /✖ .*(bind|password|credentials)/i, 'the wrong password is caught, then asked again');
    assert.match(stdout, /✖ OU=Nowhere.*is not in the directory/, 'a container that does not exist is refused');
    assert.match(stdout, /✔ registered as agent/);

    const config = parse(readFileSync(configPath, 'utf8'));
    assert.deepEqual(config.activeDirectory.containers, [seed.ous.staff]);
    assert.equal(config.passwordHashSync.enabled, true);
    assert.equal(config.cloud.url, t.url);
    assert.equal(statSync(join(dir, 'etc', 'ad-password')).mode & 0o777, 0o600);
    // the connector account lacks "Replicating Directory Changes All": the wizard said so before registering
    assert.match(stdout, /password hash sync \(MS-DRSR\).*Replicating Directory Changes All/s);

    // the file it wrote is the one every command reads
    const doctor = await run(process.execPath, [cliMain, 'connect', 'doctor', '--json', '--config', configPath]).catch((e: { stdout: string }) => e);
    const checks = Object.fromEntries((JSON.parse(doctor.stdout).checks as { name: string; status: string }[]).map((c) => [c.name, c.status]));
    for (const name of ['configuration', 'domain controller', 'connector account rights', 'cloud', 'registration']) assert.equal(checks[name], 'pass', name);
  });
});
