/**
 * `skybridge connect import` and `connect status`, run as a separate process
 * against the real test DC — and, when the tests run as root, as the
 * unprivileged account nobody, with no access to the DC's files.
 */
import { currentAgentVersion } from '@skybridge/protocol';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chownSync, copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliMain } from '../../cloud/test/helpers/cli.ts';
import { agentConfig, smallDc, type AgentFiles, type TestDc } from '../../connect/test/helpers/ad.ts';

function skybridge(args: string[], options: { asNobody?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = options.asNobody
    ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, cliMain, ...args]
    : [process.execPath, cliMain, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('skybridge connect', () => {
  let dc: TestDc;
  let files: AgentFiles;
  before(async () => {
    ({ dc } = await smallDc());
  });
  after(async () => {
    files?.cleanup();
    await dc?.stop();
  });

  test('import prints a summary; the second run is a delta; status tells what the space holds', async () => {
    files = agentConfig(dc);
    const full = await skybridge(['connect', 'import', '--config', files.configPath]);
    assert.equal(full.code, 0, full.stderr);
    assert.match(full.stdout, /^Full import from [\d.]+:636 \(DirSync\): full because nothing was imported yet/);
    assert.match(full.stdout, /read \d+ objects in [\d.]+ s \(\d+\/s\)/);
    assert.match(full.stdout, /added \d+, updated 0, renamed or moved 0, deleted 0/);
    const delta = await skybridge(['connect', 'import', '--delta', '--json', '--config', files.configPath]);
    assert.equal(delta.code, 0, delta.stderr);
    const summary = JSON.parse(delta.stdout) as { kind: string; objectsRead: number };
    assert.equal(summary.kind, 'delta');
    assert.equal(summary.objectsRead, 0);
    const status = await skybridge(['connect', 'status', '--json', '--config', files.configPath]);
    const parsed = JSON.parse(status.stdout) as { version: string; counts: { objects: number; members: number }; runs: { kind: string; status: string }[] };
    assert.equal(parsed.version, currentAgentVersion, 'the status names the agent\'s release');
    assert.ok(parsed.counts.objects > 3000);
    assert.deepEqual(parsed.runs.map((r) => `${r.kind}:${r.status}`), ['delta:completed', 'full:completed']);
  });

  test('a configuration error exits 2 and names the key', async () => {
    const r = await skybridge(['connect', 'import', '--config', join(files.dir, 'missing.yaml')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot read the configuration file .*missing\.yaml.*Fix: create it/);
  });

  test('an Active Directory error exits 3 with the fix', async () => {
    const bad = agentConfig(dc, {}, { account: { bindAs: dc.connector.userPrincipalName, password: 'nope' } });
    const r = await skybridge(['connect', 'import', '--config', bad.configPath]);
    bad.cleanup();
    assert.equal(r.code, 3);
    assert.match(r.stderr, /refused the connector account .*Fix: check activeDirectory\.bindAs/);
    assert.doesNotMatch(r.stderr, /nope/, 'the password is never printed');
  });

  test('runs as an unprivileged account that cannot read the DC\'s files', { skip: process.getuid?.() !== 0 && 'needs root to switch to nobody' }, async () => {
    const nobody = agentConfig(dc);
    // The agent's files belong to its account; the DC's CA certificate is copied there, as an administrator would.
    const ca = join(nobody.dir, 'dc-ca.pem');
    copyFileSync(dc.caFile, ca);
    writeFileSync(nobody.configPath, readFileSync(nobody.configPath, 'utf8').replace(/caFile: .*/, 'caFile: ./dc-ca.pem'));
    for (const f of [nobody.dir, ...readdirSync(nobody.dir).map((n) => join(nobody.dir, n))]) chownSync(f, 65534, 65534);
    assert.equal(statSync(dc.dir).mode & 0o007, 0, 'the DC directory is closed to other accounts');
    const r = await skybridge(['connect', 'import', '--json', '--config', nobody.configPath], { asNobody: true });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { kind: string }).kind, 'full');
    nobody.cleanup();
  });
});
