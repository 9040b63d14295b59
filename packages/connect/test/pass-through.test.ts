/**
 * Pass-through authentication end to end: a Samba AD DC, the cloud, and two
 * agents running `skybridge connect run` as their own processes. Synchronized
 * users sign in to an application with their AD password; the agent binds to
 * AD as the user, and each data code AD answers becomes the right page and
 * the right sign-in log entry. One agent hangs, then is killed mid-run: the
 * other answers.
 * With none left, sign-in says so cleanly.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { Attribute, Change } from 'ldapts';
import type { CreatedTenant } from '@skybridge/cloud';
import { startTestCloud, type TestCloud } from '../../cloud/test/helpers/cloud.ts';
import { cliMain } from '../../cloud/test/helpers/cli.ts';
import { signInKit } from '../../cloud/test/helpers/sign-in-kit.ts';
import { adminClient, userEntry } from '../../../scripts/test-dc/seed.ts';
import { smallDc, type AgentFiles, type TestDc } from './helpers/ad.ts';
import { registeredAgent, syncCli } from './helpers/sync.ts';

describe('pass-through authentication against the Samba DC, with two agents (pglite)', () => {
  let dc: TestDc;
  let t: TestCloud;
  let tenant: CreatedTenant;
  let admin: string;
  let kit: ReturnType<typeof signInKit>;
  const agents: { files: AgentFiles & { agentId: string }; child?: ChildProcess }[] = [];
  const password = 'Pass-through-Passw0rd!';
  const users: Record<string, string> = {};

  const startAgent = (a: (typeof agents)[number]) => {
    a.child = spawn(process.execPath, [cliMain, 'connect', 'run', '--config', a.files.configPath], { env: { ...process.env, SKYBRIDGE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
    a.child.stderr!.resume();
  };
  const connected = async () => ((await t.call('GET', '/api/v1/agents', { token: admin })).body.items as { id: string; channel: { connected: boolean } }[]).filter((x) => x.channel.connected).map((x) => x.id);
  const waitFor = async (what: string, check: () => Promise<boolean>) => {
    for (let i = 0; i < 150; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail(`timed out waiting for ${what}`);
  };
  const signInAs = async (name: string, pw = password) => {
    const b = kit.browser();
    const { page } = await kit.authorize(b, 'portal');
    return b.submit(page, { username: users[name]!, password: pw });
  };
  const lastSignIn = async () => (await t.call('GET', '/api/v1/sign-ins?limit=1', { token: admin })).body.items[0];

  before(async () => {
    ({ dc } = await smallDc());
    // users in each state AD reports with a data code
    const ldap = await adminClient(dc);
    const ou = `OU=PassThrough,${dc.baseDn}`;
    await ldap.add(ou, { objectClass: ['top', 'organizationalUnit'] });
    const make = async (name: string, i: number, o: { disabled?: boolean; expired?: boolean } = {}) => {
      const e = userEntry({ index: i, ou, dnsDomain: dc.dnsDomain, prefix: 'pta', password, ...o });
      await ldap.add(e.dn, e.attributes);
      users[name] = e.user.userPrincipalName!;
      return e.dn;
    };
    await make('good', 1);
    await make('guarded', 6);
    // the domain locks accounts after 5 failures: the cloud's smart lockout must stop before
    await ldap.modify(dc.baseDn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'lockoutThreshold', values: ['5'] }) })]);
    await make('disabled', 2, { disabled: true });
    await make('expired', 3, { expired: true });
    const mustChange = await make('mustChange', 4);
    await ldap.modify(mustChange, [new Change({ operation: 'replace', modification: new Attribute({ type: 'pwdLastSet', values: ['0'] }) })]);
    const locked = await make('locked', 5);
    // a fine-grained password policy locks this user after 3 failures (the domain's own policy never does)
    await ldap.add(`CN=PassThrough lockout,CN=Password Settings Container,CN=System,${dc.baseDn}`, {
      objectClass: ['msDS-PasswordSettings'], 'msDS-PasswordSettingsPrecedence': '1', 'msDS-PasswordReversibleEncryptionEnabled': 'FALSE',
      'msDS-PasswordHistoryLength': '0', 'msDS-PasswordComplexityEnabled': 'FALSE', 'msDS-MinimumPasswordLength': '0', 'msDS-MinimumPasswordAge': '0',
      'msDS-MaximumPasswordAge': '-9223372036854775808', 'msDS-LockoutThreshold': '3', 'msDS-LockoutObservationWindow': '-6000000000', 'msDS-LockoutDuration': '-6000000000',
      'msDS-PSOAppliesTo': [locked],
    });
    await ldap.unbind();

    t = await startTestCloud('pglite');
    tenant = await t.createTenant('contoso');
    admin = await t.token(tenant);
    for (let i = 0; i < 2; i++) agents.push({ files: await registeredAgent(dc, t, admin) });
    const sync = await syncCli(agents[0]!.files.configPath);
    assert.equal(sync.code, 0, sync.stderr);
    assert.equal((await t.call('PATCH', '/api/v1/tenant', { token: admin, body: { passThroughAuthentication: true } })).body.passThroughAuthentication, true);
    kit = signInKit(t, tenant, admin);
    await kit.register('portal');
    for (const a of agents) startAgent(a);
    await waitFor('both agents\' channels', async () => (await connected()).length === 2);
  });
  after(async () => {
    for (const a of agents) a.child?.kill('SIGKILL');
    for (const a of agents) a.files.cleanup();
    await t?.close();
    await dc?.stop();
  });

  test('a synchronized user signs in with the AD password; the agents share the load', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const page = await signInAs('good');
      kit.atApp(page, 'portal');
      const entry = await lastSignIn();
      assert.equal(entry.method, 'pass_through');
      assert.equal(entry.result, 'success');
      seen.add(entry.agentId);
    }
    assert.deepEqual([...seen].sort(), agents.map((a) => a.files.agentId).sort(), 'both agents answered');
  });

  test('each answer of AD becomes its page and its sign-in log entry', async () => {
    const cases: [string, string | undefined, RegExp, string][] = [
      ['good', 'wrong-password', /user name or password is incorrect/, 'invalid_password'],
      ['disabled', undefined, /account is disabled/, 'ad_account_disabled'],
      ['expired', undefined, /account has expired/, 'ad_account_expired'],
      ['mustChange', undefined, /must change your password/, 'ad_must_change_password'],
    ];
    for (const [name, pw, message, code] of cases) {
      const page = await signInAs(name, pw);
      assert.match(page.text, message, `${name}: ${page.text.slice(0, 300)}`);
      const entry = await lastSignIn();
      assert.equal(entry.failureReason, code, name);
      assert.ok(entry.agentId, 'the answering agent is named');
    }
    for (let i = 0; i < 3; i++) await signInAs('locked', `wrong-${i}`);
    const locked = await signInAs('locked');
    assert.match(locked.text, /locked in your organisation&#39;s directory/);
    assert.equal((await lastSignIn()).failureReason, 'ad_account_locked');
  });

  test('smart lockout for pass-through stays below the domain\'s lockout threshold, and the administrator is told', async () => {
    let alert: any;
    await waitFor('the agents\' report of the domain policy', async () => {
      alert = ((await t.call('GET', '/api/v1/sync/alerts', { token: admin })).body.items as { code: string }[]).find((a) => a.code === 'lockout_threshold');
      return Boolean(alert);
    });
    assert.equal(alert.domainLockoutThreshold, 5);
    assert.equal(alert.smartLockoutThreshold, 4);
    assert.match(alert.message, /lowered to 4/);
    const guesser = kit.browser('127.0.0.7');
    let page = (await kit.authorize(guesser, 'portal')).page;
    for (let i = 1; i <= 4; i++) page = await guesser.submit(page, { username: users.guarded!, password: `guess-${i}` });
    assert.match(page.text, /locked for now to protect it/, 'the cloud locked the guessing address after 4');
    // AD counted 4 of its 5: the user, from elsewhere, still signs in
    const user = kit.browser('127.0.0.8');
    kit.atApp(await user.submit((await kit.authorize(user, 'portal')).page, { username: users.guarded!, password }), 'portal');
  });

  test('an agent that hangs times out and the other answers; one killed mid-run is skipped; with none, sign-in says so', async () => {
    // a hung agent (stopped, its channel still open): the request to it times out, the next agent answers
    agents[0]!.child!.kill('SIGSTOP');
    try {
      for (let i = 0; i < 2; i++) {
        const started = Date.now();
        kit.atApp(await signInAs('good'), 'portal');
        const entry = await lastSignIn();
        assert.equal(entry.agentId, agents[1]!.files.agentId, 'answered by the live agent');
        assert.ok(Date.now() - started < 15_000);
      }
    } finally {
      agents[0]!.child!.kill('SIGCONT');
    }
    agents[0]!.child!.kill('SIGKILL');
    for (let i = 0; i < 3; i++) {
      const page = await signInAs('good');
      kit.atApp(page, 'portal');
      assert.equal((await lastSignIn()).agentId, agents[1]!.files.agentId);
    }
    agents[1]!.child!.kill('SIGKILL');
    await waitFor('no agent connected', async () => (await connected()).length === 0);
    const page = await signInAs('good');
    assert.equal(page.status, 503);
    assert.match(page.text, /cannot check your password right now/);
    assert.equal((await lastSignIn()).failureReason, 'pta_no_agent');
    // an agent started again reconnects and answers
    startAgent(agents[0]!);
    await waitFor('the restarted agent', async () => (await connected()).length === 1);
    kit.atApp(await signInAs('good'), 'portal');
  });
});
