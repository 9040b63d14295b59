import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { callJson, httpExchange } from '@skybridge/connect';
import { freshStore, storeKinds } from './helpers/stores.ts';
import { runCli, startCloudProcess } from './helpers/cli.ts';

describe('the embedded data directory is held by one process', () => {
  test('a second process is refused and told to use --url; a crashed holder\'s lock is taken over', async () => {
    const s = await freshStore('pglite');
    const first = await startCloudProcess(['--port', '0', '--data-dir', s.dataDir]);
    try {
      const second = await runCli(['cloud', 'start', '--port', '0', '--data-dir', s.dataDir]);
      assert.equal(second.code, 1);
      assert.match(second.stderr, new RegExp(`in use by a running Skybridge Cloud \\(pid ${first.child.pid}.*use --url ${first.url.replace(/[.]/g, '\\.')}`));
      const create = await runCli(['cloud', 'tenant', 'create', '--name', 'contoso', '--data-dir', s.dataDir]);
      assert.equal(create.code, 1);
      assert.match(create.stderr, /use --url https:\/\/127\.0\.0\.1:\d+/);
      // through the running cloud it works
      const viaUrl = await runCli(['cloud', 'tenant', 'create', '--name', 'contoso', '--json', '--url', first.url, '--data-dir', s.dataDir]);
      assert.equal(viaUrl.code, 0, viaUrl.stderr);
      assert.equal(JSON.parse(viaUrl.stdout).initialDomain, 'contoso.skybridge.test');
      // the holder dies without cleaning up: its lock is stale and the next process takes over
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      assert.ok(existsSync(join(s.dataDir, 'cloud.lock')));
      const after = await runCli(['cloud', 'tenant', 'create', '--name', 'fabrikam', '--json', '--data-dir', s.dataDir]);
      assert.equal(after.code, 0, after.stderr);
      assert.ok(!existsSync(join(s.dataDir, 'cloud.lock')), 'the CLI released the lock it took');
    } finally {
      await first.stop();
      await s.dispose();
    }
  });

  test('--http is refused on a non-loopback address', async () => {
    const s = await freshStore('pglite');
    try {
      const res = await runCli(['cloud', 'start', '--http', '--host', '0.0.0.0', '--port', '0', '--data-dir', s.dataDir]);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /allowed only on a loopback address/);
    } finally {
      await s.dispose();
    }
  });
});

for (const kind of storeKinds) {
  test(`tenant create --json (${kind}): the tenant's issuer issues JWT access tokens to its API client`, async () => {
    const s = await freshStore(kind);
    try {
      const storeArgs = kind === 'pglite' ? ['--data-dir', s.dataDir] : ['--database-url', s.databaseUrl!];
      const created = await runCli(['cloud', 'tenant', 'create', '--name', 'Contoso', '--json', ...storeArgs]);
      assert.equal(created.code, 0, created.stderr);
      const t = JSON.parse(created.stdout);
      assert.equal(t.initialDomain, 'contoso.skybridge.test');
      assert.equal(t.admin.userPrincipalName, 'admin@contoso.skybridge.test');
      assert.ok(t.admin.oneTimePassword.length >= 16);
      assert.match(t.apiClient.clientSecret, /^sbs_/);
      const duplicate = await runCli(['cloud', 'tenant', 'create', '--name', 'contoso', ...storeArgs]);
      assert.equal(duplicate.code, 1);
      assert.match(duplicate.stderr, /already exists/);
      const bad = await runCli(['cloud', 'tenant', 'create', '--name', 'no spaces!', ...storeArgs]);
      assert.equal(bad.code, 1);

      const cloud = await startCloudProcess(['--port', '0', '--data-dir', s.dataDir, ...(kind === 'postgres' ? ['--database-url', s.databaseUrl!] : [])]);
      try {
        const ca = readFileSync(join(s.dataDir, 'tls', 'cert.pem'), 'utf8');
        assert.equal(statSync(join(s.dataDir, 'operator-token')).mode & 0o777, 0o600);
        const discovery = await callJson<{ issuer: string; token_endpoint: string; jwks_uri: string }>(`${cloud.url}/${t.tenantId}/v2.0/.well-known/openid-configuration`, 'discovery', { trust: { ca } });
        assert.equal(discovery.issuer, `${cloud.url}/${t.tenantId}/v2.0`);
        // the verified initial domain names the tenant too
        const byDomain = await callJson<{ issuer: string }>(`${cloud.url}/${t.initialDomain}/v2.0/.well-known/openid-configuration`, 'discovery', { trust: { ca } });
        assert.equal(byDomain.issuer, discovery.issuer);
        const res = await httpExchange(discovery.token_endpoint, {
          method: 'POST', trust: { ca },
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: t.apiClient.clientId, client_secret: t.apiClient.clientSecret, resource: `${cloud.url}/api` }).toString(),
        });
        assert.equal(res.status, 200, res.text);
        const token = JSON.parse(res.text).access_token as string;
        const jwks = await callJson<{ keys: object[] }>(discovery.jwks_uri, 'jwks', { trust: { ca } });
        const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks as never), { issuer: discovery.issuer, audience: `${cloud.url}/api` });
        assert.equal(protectedHeader.typ, 'at+jwt');
        assert.equal(payload.client_id, t.apiClient.clientId);
        const wrongSecret = await httpExchange(discovery.token_endpoint, {
          method: 'POST', trust: { ca },
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: t.apiClient.clientId, client_secret: 'sbs_wrong', resource: `${cloud.url}/api` }).toString(),
        });
        assert.equal(wrongSecret.status, 401);
      } finally {
        await cloud.stop();
      }
    } finally {
      await s.dispose();
    }
  });
}
