/**
 * `skybridge connect doctor` against a real DC and cloud: all green for a
 * registered agent with the connector account; each failure named with its
 * fix (missing DirSync right, missing stamping right, no registration, an
 * unreachable DC), and exit code 1 when anything fails.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CreatedTenant } from '@skybridge/cloud';
import { startTestCloud, type TestCloud } from '../../cloud/test/helpers/cloud.ts';
import { runCli } from '../../cloud/test/helpers/cli.ts';
import { agentConfig, smallDc, type AgentFiles, type TestDc } from './helpers/ad.ts';
import { editAgentConfig, registeredAgent } from './helpers/sync.ts';

describe('skybridge connect doctor', () => {
  let dc: TestDc;
  let t: TestCloud;
  let tenant: CreatedTenant;
  let token: string;
  const cleanups: (() => void)[] = [];

  before(async () => {
    ({ dc } = await smallDc());
    t = await startTestCloud('pglite');
    tenant = await t.createTenant('doctor');
    token = await t.token(tenant);
  });
  after(async () => {
    for (const c of cleanups) c();
    await t?.close();
    await dc?.stop();
  });

  const doctor = async (files: AgentFiles) => {
    const res = await runCli(['connect', 'doctor', '--json', '--config', files.configPath]);
    const out = JSON.parse(res.stdout) as { checks: { name: string; status: string; detail: string; fix?: string }[]; failed: number };
    return { code: res.code, failed: out.failed, check: (name: string) => out.checks.find((c) => c.name === name)! };
  };
  const edit = (files: AgentFiles, change: (c: Record<string, any>) => void) => editAgentConfig(files.configPath, change);

  test('a UPN suffix of the forest not verified in the tenant is a warning that says what happens and what to do', async () => {
    const other = await t.createTenant('doctor-unverified');
    const files = await registeredAgent(dc, t, await t.token(other), {}, { verifyDomain: false });
    cleanups.push(files.cleanup);
    const d = await doctor(files);
    assert.equal(d.check('domains verified').status, 'warn');
    assert.match(d.check('domains verified').detail, new RegExp(`not verified in the tenant: ${dc.dnsDomain.replace(/\./g, '\\.')}.*initial domain`));
    assert.match(d.check('domains verified').fix!, /add and verify/);
  });

  test('a registered agent with the connector account passes every check', async () => {
    const files = await registeredAgent(dc, t, token);
    cleanups.push(files.cleanup);
    const d = await doctor(files);
    assert.equal(d.code, 0);
    assert.equal(d.failed, 0);
    for (const name of ['Node.js', 'configuration', 'domain controller', 'connector account rights', 'cloud', 'clock', 'registration']) assert.equal(d.check(name).status, 'pass', `${name}: ${d.check(name).detail}`);
    assert.match(d.check('domain controller').detail, /LDAPS \(TLSv1\.[23]\), bound as skybridge-connect/);
    assert.match(d.check('registration').detail, new RegExp(`tenant ${tenant.tenantId}`));
    assert.equal(d.check('smart lockout below the domain\'s').status, 'pass', d.check('smart lockout below the domain\'s').detail);
    // registeredAgent verified the test domain for the tenant (its operator vouches for it)
    assert.equal(d.check('domains verified').status, 'pass', d.check('domains verified').detail);
    assert.match(d.check('domains verified').detail, new RegExp(dc.dnsDomain));
    const human = await runCli(['connect', 'doctor', '--config', files.configPath]);
    assert.match(human.stdout, /✔ domain controller/);
    assert.match(human.stdout, /Every check passed\./);

    // stamping asked for, without the right: read from allowedAttributesEffective, nothing written
    edit(files, (c) => { c.sync = { sourceAnchor: 'mS-DS-ConsistencyGuid', stampConsistencyGuid: true }; });
    const stamping = await doctor(files);
    assert.equal(stamping.code, 1);
    assert.equal(stamping.check('stamping right').status, 'fail');
    assert.match(stamping.check('stamping right').fix!, /Write mS-DS-ConsistencyGuid/);
  });

  test('an account without "Replicating Directory Changes", an unregistered agent and an unreachable DC are named with their fixes', async () => {
    const reader = agentConfig(dc, { changeTracking: 'dirsync' }, { account: { bindAs: dc.reader.userPrincipalName, password: dc.reader.password }, topLevel: { cloud: { url: t.url } } });
    cleanups.push(reader.cleanup);
    const d = await doctor(reader);
    assert.equal(d.code, 1);
    assert.equal(d.check('domain controller').status, 'pass');
    assert.equal(d.check('connector account rights').status, 'fail');
    assert.match(d.check('connector account rights').fix!, /Replicating Directory Changes/);
    assert.equal(d.check('registration').status, 'fail');
    assert.match(d.check('registration').fix!, /skybridge connect register/);
    // with changeTracking auto the missing right is a warning: the agent falls back to polling
    edit(reader, (c) => { c.activeDirectory.changeTracking = 'auto'; });
    assert.equal((await doctor(reader)).check('connector account rights').status, 'warn');
    // a DC that does not answer
    edit(reader, (c) => { c.activeDirectory.servers = [`ldaps://${dc.ip}:1`]; });
    const unreachable = await doctor(reader);
    assert.equal(unreachable.check('domain controller').status, 'fail');
    assert.equal(unreachable.check('connector account rights').status, 'skip');
  });
});
