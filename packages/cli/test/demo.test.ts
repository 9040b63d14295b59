/**
 * `skybridge demo`, as the README's first command runs it: a real Samba DC,
 * the cloud on the embedded store, an agent registered with a one-time token,
 * the first sync, then changes followed; Ctrl-C stops it all; a second run
 * reuses the tenant and creates no duplicate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { httpExchange } from '@skybridge/connect';
import { openStore } from '@skybridge/cloud';
import { sambaAvailable } from '../../../scripts/test-dc/test-dc.ts';
import { cliMain, runCli } from '../../cloud/test/helpers/cli.ts';
import type { DemoResult } from '../src/demo/run-demo.ts';

const skip = sambaAvailable() ? false : 'Samba AD DC is not installed (.ci/run installs it)';

async function call(r: DemoResult, path: string, token?: string): Promise<any> {
  const trust = { ca: readFileSync(r.caFile, 'utf8') };
  if (!token) {
    const res = await httpExchange(r.tokenEndpoint, {
      method: 'POST', trust,
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${r.apiClient.clientId}:${r.apiClient.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: r.apiAudience }).toString(),
    });
    assert.equal(res.status, 200, res.text);
    token = (JSON.parse(res.text) as { access_token: string }).access_token;
  }
  const res = await httpExchange(`${r.url}${path}`, { trust, headers: { authorization: `Bearer ${token}`, accept: 'application/scim+json, application/json' } });
  assert.equal(res.status, 200, `${path}: ${res.text}`);
  return JSON.parse(res.text);
}

const scimUser = (r: DemoResult, upn: string) => call(r, `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${upn}"`)}`);
const total = async (r: DemoResult, resource: 'Users' | 'Groups') => (await call(r, `/scim/v2/${resource}?count=0`)).totalResults as number;

test('skybridge demo: domain, cloud, tenant, agent and first sync; follows a change; stops on SIGINT; a second run duplicates nothing', { skip, timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skybridge-demo-'));
  let running: ChildProcessByStdio<null, Readable, Readable> | undefined;
  try {
    // 1. The demo keeps running, as the README's first command does.
    const child = running = spawn(process.execPath, [cliMain, 'demo', '--dir', dir, '--port', '0', '--json'], { env: { ...process.env, SKYBRIDGE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const first = await new Promise<DemoResult>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d;
        const line = stdout.split('\n').find((l) => l.startsWith('{'));
        if (line && stdout.includes('\n')) resolve(JSON.parse(line) as DemoResult);
      });
      void exited.then((code) => reject(new Error(`demo exited (${code}) before it was ready: ${stderr}`)));
    });
    assert.match(stderr, /\[5\/7\] domain [^ ]+: verified/);
    assert.match(stderr, /\[7\/7\] first full sync/);
    assert.ok(first.firstSync.created > 30, `first sync created ${first.firstSync.created}`);
    assert.equal(first.firstSync.deleted, 0);
    assert.ok(first.firstSync.passwordHashes > 30, `first sync sent ${first.firstSync.passwordHashes} password hashes`);
    const users = await total(first, 'Users');
    const groups = await total(first, 'Groups');
    const synced = await scimUser(first, first.sampleUser.userPrincipalName);
    assert.equal(synced.totalResults, 1, 'the sample user is in the cloud');
    assert.ok(synced.Resources[0].externalId, 'with its immutable id');
    // the admin center it prints is served, and the tenant has seats to assign
    const adminCenter = await httpExchange(first.adminCenter, { trust: { ca: readFileSync(first.caFile, 'utf8') } });
    assert.equal(adminCenter.status, 200);
    assert.match(adminCenter.text, /<div id="root">/);
    assert.equal((await call(first, '/api/v1/subscriptions')).items.find((s: { skuId: string }) => s.skuId === 'SKYBRIDGE_STANDARD')?.seats, 25);

    // 2. The agent follows Active Directory: a change made over LDAP reaches the cloud.
    const ldap = new Client({ url: first.domain.ldapsUrl, tlsOptions: { ca: readFileSync(first.domain.caFile), servername: first.domain.hostName } });
    await ldap.bind(first.domain.administrator, first.domain.administratorPassword);
    const title = `Demo title ${Date.now()}`;
    await ldap.modify(first.sampleUser.dn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: [title] }) })]);
    await ldap.unbind();
    const deadline = Date.now() + 60_000;
    let seen = '';
    while (Date.now() < deadline) {
      seen = (await scimUser(first, first.sampleUser.userPrincipalName)).Resources[0]?.title ?? '';
      if (seen === title) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(seen, title, `the change reached the cloud; demo said: ${stderr.slice(-2000)}`);

    // 3. Ctrl-C stops the agent, the cloud and the domain controller.
    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /stopping: agent, cloud, domain controller/);

    // 4. Running it again is safe: same tenant, new secrets, nothing duplicated.
    const again = await runCli(['demo', '--dir', dir, '--port', '0', '--exit', '--json'], {});
    assert.equal(again.code, 0, again.stderr);
    const second = JSON.parse(again.stdout.trim()) as DemoResult;
    assert.equal(second.tenantId, first.tenantId);
    assert.notEqual(second.admin.oneTimePassword, first.admin.oneTimePassword);
    assert.notEqual(second.apiClient.clientId, first.apiClient.clientId);
    assert.equal(second.firstSync.created, 0, 'nothing created the second time');
    assert.ok(second.firstSync.unchanged > 30);
    // The domain started again from its template, so the title change is gone and is synced back.
    assert.equal(second.firstSync.updated, 1);
    const third = await runCli(['demo', '--dir', dir, '--port', '0', '--exit', '--json'], {});
    assert.equal(third.code, 0, third.stderr);
    const r3 = JSON.parse(third.stdout.trim()) as DemoResult;
    assert.equal(r3.firstSync.created + r3.firstSync.updated + r3.firstSync.deleted, 0, 'a third run changes nothing');
    // the cloud is stopped now (--exit): its embedded store holds exactly what the first run showed over SCIM
    const store = await openStore({ dataDir: join(dir, 'cloud') });
    try {
      const { rows } = await store.query<{ object_type: string; n: number }>(
        `SELECT object_type, count(*)::int AS n FROM directory_objects WHERE tenant_id = $1 AND deleted_at IS NULL GROUP BY object_type`, [first.tenantId]);
      const count = (type: string) => rows.find((r) => r.object_type === type)?.n ?? 0;
      assert.equal(count('user'), users);
      assert.equal(count('group'), groups);
    } finally {
      await store.close();
    }
  } finally {
    // a failed assertion must not leave the demo (and its DC) running: it would keep this test file alive
    const child = running;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((done) => child.once('exit', done));
      child.kill('SIGINT');
      await Promise.race([gone, new Promise((done) => setTimeout(done, 20_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
