/**
 * The agent package: built from the source (esbuild, one file), served by
 * the cloud with its SHA-256, downloaded by an administrator, unpacked into
 * a clean prefix outside the source tree, and run there: it registers with
 * the tenant and reaches the Samba DC, on Node.js 24 alone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import type { CreatedTenant } from '@skybridge/cloud';
import { buildAgentPackage, type AgentPackage } from '../../../scripts/build-agent-package.ts';
import { startTestCloud, type TestCloud } from '../../cloud/test/helpers/cloud.ts';
import { smallDc, type TestDc } from '../../connect/test/helpers/ad.ts';

const run = promisify(execFile);

describe('the agent package', () => {
  let pkg: AgentPackage;
  let t: TestCloud;
  let dc: TestDc;
  let tenant: CreatedTenant;
  let token: string;
  const temp: string[] = [];
  const tempDir = (prefix: string) => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    temp.push(d);
    return d;
  };
  const download = (url: string) => new Promise<{ status: number; headers: Record<string, unknown>; bytes: Buffer }>((resolve, reject) => {
    get(url, { ca: t.trust.ca!, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }));
    }).on('error', reject);
  });

  before(async () => {
    pkg = await buildAgentPackage(tempDir('skybridge-pkg-'));
    t = await startTestCloud('pglite', { agentPackage: pkg.path });
    tenant = await t.createTenant('package');
    token = await t.token(tenant);
    ({ dc } = await smallDc());
  });
  after(async () => {
    await t?.close();
    await dc?.stop();
    for (const d of temp) rmSync(d, { recursive: true, force: true });
  });

  test('the cloud serves it with its SHA-256; the download matches', async () => {
    const meta = await t.call('GET', '/api/v1/agents/package', { token });
    assert.equal(meta.status, 200);
    assert.equal(meta.body.version, pkg.version);
    assert.equal(meta.body.sha256, pkg.sha256);
    const got = await download(meta.body.downloadUrl);
    assert.equal(got.status, 200);
    assert.equal(got.headers['content-type'], 'application/gzip');
    assert.equal(got.headers['x-checksum-sha256'], pkg.sha256);
    assert.equal(createHash('sha256').update(got.bytes).digest('hex'), meta.body.sha256);
    assert.equal(got.bytes.length, meta.body.size);
  });

  test('unpacked in a clean prefix, with Node.js alone, it registers and reaches the DC', async () => {
    const got = await download(`${t.url}/api/v1/agents/package/download`);
    const prefix = tempDir('skybridge-prefix-');
    writeFileSync(join(prefix, 'agent.tar.gz'), got.bytes);
    await run('tar', ['-xzf', join(prefix, 'agent.tar.gz'), '-C', prefix]);
    const home = join(prefix, readdirSync(prefix).find((n) => n.startsWith('skybridge-connect-'))!);
    assert.deepEqual(readdirSync(join(home, 'lib')).filter((n) => n.endsWith('.mjs')), ['skybridge.mjs'], 'one bundled file, no node_modules');

    // an administrator's configuration, outside any source tree
    const etc = tempDir('skybridge-etc-');
    writeFileSync(join(etc, 'ad-password'), `${dc.connector.password}\n`, { mode: 0o600 });
    writeFileSync(join(etc, 'cloud-ca.pem'), t.trust.ca!);
    writeFileSync(join(etc, 'connect.yaml'), stringify({
      version: 1, stateDirectory: join(etc, 'state'),
      activeDirectory: { servers: [dc.ldapsUrl], tls: { caFile: dc.caFile, serverName: dc.hostName }, bindAs: dc.connector.userPrincipalName, passwordFile: join(etc, 'ad-password') },
      cloud: { url: t.url, caFile: join(etc, 'cloud-ca.pem') },
    }));
    // only Node.js 24 on the PATH: no npm, no checkout
    const env = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: etc };
    const reg = await t.call('POST', '/api/v1/agents/registration-tokens', { token });
    const registered = await run(join(home, 'skybridge'), ['connect', 'register', '--config', join(etc, 'connect.yaml'), '--token', reg.body.registrationToken], { cwd: prefix, env });
    assert.match(registered.stdout, new RegExp(`Registered as agent \\S+ of tenant ${tenant.tenantId}`));
    const doctor = await run(join(home, 'skybridge'), ['connect', 'doctor', '--json', '--config', join(etc, 'connect.yaml')], { cwd: prefix, env }).catch((e: { stdout: string }) => e);
    const checks = Object.fromEntries((JSON.parse(doctor.stdout).checks as { name: string; status: string }[]).map((c) => [c.name, c.status]));
    for (const name of ['domain controller', 'connector account rights', 'cloud', 'registration']) assert.equal(checks[name], 'pass', name);
    const version = await run(join(home, 'skybridge'), ['--version'], { cwd: prefix, env });
    assert.equal(version.stdout.trim(), pkg.version);
  });

  test('a cloud without a package says so', async () => {
    const bare = await startTestCloud('pglite');
    try {
      const b = await bare.createTenant('nopackage');
      const res = await bare.call('GET', '/api/v1/agents/package', { token: await bare.token(b) });
      assert.equal(res.status, 404);
      assert.match(res.body.detail, /build-agent-package/);
    } finally {
      await bare.close();
    }
  });
});
