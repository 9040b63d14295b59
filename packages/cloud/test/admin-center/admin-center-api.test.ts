/**
 * The admin center's side of the cloud, over HTTP: its OpenID client in every
 * tenant (PKCE, redirect to /admin/ only), access tokens that carry the
 * signed-in user and give exactly that user's roles (checked at every call,
 * so a blocked user or a removed role takes effect at once), the users
 * list's search, filter and name order with keyset paging, /api/v1/me,
 * a user's roles, the sync cycle history, and /admin's static files.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { issueOneTimePassword, type CreatedTenant } from '@skybridge/cloud';
import { adminCenterClientId } from '@skybridge/protocol';
import { httpExchange } from '@skybridge/connect';
import { storeKinds } from '../helpers/stores.ts';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { TestBrowser } from '../helpers/browser.ts';
import { registerTestAgent } from '../helpers/agent.ts';
import { ensureAdminCenterBuilt } from './admin-center-kit.ts';

const b64url = (b: Buffer) => b.toString('base64url');

/** The admin center's sign-in, as its code does it: /common with a login hint, PKCE, the issuer named in the answer. */
async function adminCenterToken(t: TestCloud, upn: string, password: string, newPassword?: string): Promise<{ status: 'ok'; token: string } | { status: 'refused'; page: string }> {
  const browser = new TestBrowser({ ca: t.trust.ca!, stopAt: (u) => u.pathname === '/admin/' && (u.searchParams.has('code') || u.searchParams.has('error')) });
  const verifier = b64url(randomBytes(48));
  const state = b64url(randomBytes(16));
  const redirect = `${t.url}/admin/`;
  const params = new URLSearchParams({
    client_id: adminCenterClientId, redirect_uri: redirect, response_type: 'code', scope: 'openid profile', state, nonce: b64url(randomBytes(16)),
    code_challenge: b64url(createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256', login_hint: upn,
  });
  let page = await browser.go(`${t.url}/common/v2.0/auth?${params}`);
  page = await browser.submit(page, { username: upn, password });
  if (newPassword && page.text.includes('New password')) page = await browser.submit(page, { current: password, new: newPassword, confirm: newPassword });
  const back = new URL(page.url);
  if (back.pathname !== '/admin/' || !back.searchParams.has('code')) return { status: 'refused', page: page.text };
  assert.equal(back.searchParams.get('state'), state);
  const issuer = back.searchParams.get('iss')!;
  assert.match(issuer, /\/[0-9a-f-]{36}\/v2\.0$/, 'the answer names the tenant (RFC 9207)');
  const res = await httpExchange(`${issuer}/token`, {
    method: 'POST', trust: t.trust, headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: redirect, client_id: adminCenterClientId, code_verifier: verifier }).toString(),
  });
  assert.equal(res.status, 200, res.text);
  return { status: 'ok', token: JSON.parse(res.text).access_token as string };
}

for (const kind of storeKinds) {
  describe(`admin center API (${kind})`, () => {
    let t: TestCloud;
    let a: CreatedTenant;
    let b: CreatedTenant;
    let apiA: string;
    let adminToken: string;
    const adminPassword = 'Adm1n-centre-pass!';

    before(async () => {
      ensureAdminCenterBuilt();
      t = await startTestCloud(kind);
      a = await t.createTenant('centre-a');
      b = await t.createTenant('centre-b');
      apiA = await t.token(a);
      const signedIn = await adminCenterToken(t, a.admin.userPrincipalName, a.admin.oneTimePassword, adminPassword);
      assert.equal(signedIn.status, 'ok');
      adminToken = (signedIn as { token: string }).token;
    });
    after(() => t?.close());

    test('the admin center signs a user in and the admin API answers with that user\'s roles', async () => {
      const me = await t.call('GET', '/api/v1/me', { token: adminToken });
      assert.equal(me.status, 200, JSON.stringify(me.body));
      assert.equal(me.body.tenant.id, a.tenantId);
      assert.equal(me.body.principal.type, 'user');
      assert.equal(me.body.principal.userPrincipalName, a.admin.userPrincipalName);
      assert.deepEqual(me.body.roles.map((r: { id: string }) => r.id), ['GlobalAdministrator']);
      // what the admin does is recorded as the user, by UPN
      const created = await t.call('POST', '/api/v1/users', { token: adminToken, body: { userPrincipalName: `audited@${a.initialDomain}`, displayName: 'Audited' } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const audit = await t.call('GET', '/api/v1/audit-logs?action=user.create', { token: apiA });
      const entry = audit.body.items.find((e: { target: { id: string } }) => e.target.id === created.body.id);
      assert.deepEqual([entry.initiatedBy.type, entry.initiatedBy.displayName], ['user', a.admin.userPrincipalName]);
      // the tenant's token names tenant A: tenant B's objects stay out of reach
      const bUsers = await t.call('GET', '/api/v1/users?limit=1000', { token: await t.token(b) });
      const seen = await t.call('GET', `/api/v1/users/${bUsers.body.items[0].id}`, { token: adminToken });
      assert.equal(seen.status, 404);
    });

    test('a user without an admin role signs in but the admin API refuses them; a role given works at once, a block ends it at once', async () => {
      const upn = `helpdesk@${a.initialDomain}`;
      const user = await t.call('POST', '/api/v1/users', { token: apiA, body: { userPrincipalName: upn, displayName: 'Help Desk' } });
      const oneTime = await issueOneTimePassword(t.cloud.context.store, a.tenantId, upn);
      const signedIn = await adminCenterToken(t, upn, oneTime, 'Help-desk-pass-123!');
      assert.equal(signedIn.status, 'ok');
      const token = (signedIn as { token: string }).token;
      const refused = await t.call('GET', '/api/v1/users', { token });
      assert.equal(refused.status, 403);
      assert.match(refused.body.detail, /the caller has none/);
      assert.equal((await t.call('POST', '/api/v1/roles/UserAdministrator/members', { token: apiA, body: { principalType: 'user', principalId: user.body.id } })).status, 201);
      assert.equal((await t.call('GET', '/api/v1/users', { token })).status, 200, 'the role counts from the next call');
      assert.equal((await t.call('GET', '/api/v1/agents', { token })).status, 403, 'a User Administrator does not manage agents');
      const roles = await t.call('GET', `/api/v1/users/${user.body.id}/roles`, { token: adminToken });
      assert.deepEqual(roles.body.items.map((r: { displayName: string }) => r.displayName), ['User Administrator']);
      assert.equal((await t.call('PATCH', `/api/v1/users/${user.body.id}`, { token: apiA, body: { accountEnabled: false } })).status, 200);
      const blocked = await t.call('GET', '/api/v1/users', { token });
      assert.equal(blocked.status, 401);
      assert.match(blocked.body.detail, /blocked/);
    });

    test('the users list searches name, UPN and mail prefixes, filters, and pages by display name', async () => {
      const names = ['Zelda Alpha', 'zelda beta', 'Zed Gamma', 'Yves Zelda', 'Percent 100%'];
      for (const [i, n] of names.entries()) {
        const res = await t.call('POST', '/api/v1/users', { token: apiA, body: { userPrincipalName: `list${i}@${a.initialDomain}`, displayName: n, mail: i === 3 ? `zelda.y@${a.initialDomain}` : undefined } });
        assert.equal(res.status, 201, JSON.stringify(res.body));
      }
      const list = async (q: string) => {
        const res = await t.call('GET', `/api/v1/users?orderBy=displayName&${q}`, { token: adminToken });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return res.body as { items: { displayName: string }[]; nextCursor: string | null };
      };
      assert.deepEqual((await list('search=ZELDA')).items.map((u) => u.displayName), ['Yves Zelda', 'Zelda Alpha', 'zelda beta'], 'case-insensitive; a mail prefix finds Yves; sorted by name');
      assert.deepEqual((await list('search=list4')).items.map((u) => u.displayName), ['Percent 100%'], 'UPN prefix');
      assert.deepEqual((await list(`search=${encodeURIComponent('Percent 100%')}`)).items.map((u) => u.displayName), ['Percent 100%']);
      assert.deepEqual((await list('search=%25')).items, [], '% is a character, not a wildcard');
      // keyset paging by name visits every user once, in order
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await list(`limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.items.map((u) => u.displayName));
        cursor = page.nextCursor;
      } while (cursor);
      const all = (await list('limit=1000')).items.map((u) => u.displayName);
      assert.deepEqual(seen, all);
      assert.deepEqual([...all].sort((x, y) => x.toLowerCase().localeCompare(y.toLowerCase())).map((s) => s.toLowerCase()), all.map((s) => s.toLowerCase()));
      assert.equal((await list('filter=synced')).items.length, 0);
      assert.ok((await list('filter=cloud')).items.length >= names.length);
      assert.ok((await list('filter=blocked')).items.every((u) => u.displayName !== 'Zelda Alpha'));
      const bad = await t.call('GET', '/api/v1/users?filter=everyone', { token: adminToken });
      assert.equal(bad.status, 400);
      assert.match(bad.body.detail, /filter must be one of synced, cloud, licensed, unlicensed, blocked/);
    });

    test('the agents\' cycles are kept as history, newest first', async () => {
      const agent = await registerTestAgent(t, a, apiA);
      const cycle = (startedAt: string, adds: number) => ({ kind: 'delta' as const, startedAt, finishedAt: startedAt, adds, updates: 0, deletes: 0, errors: 0 });
      await agent.heartbeat({ version: '0.1.0', role: 'active', lastCycle: cycle('2026-12-01T10:00:00.000Z', 5) });
      await agent.heartbeat({ version: '0.1.0', role: 'active', lastCycle: cycle('2026-12-01T10:00:00.000Z', 5) });
      await agent.heartbeat({ version: '0.1.0', role: 'active', lastCycle: cycle('2026-12-01T10:05:00.000Z', 2) });
      const res = await t.call('GET', '/api/v1/sync/cycles', { token: adminToken });
      assert.deepEqual(res.body.items.map((c: { adds: number; agentHostname: string }) => c.adds), [2, 5], 'one row per cycle, however many heartbeats report it');
      assert.equal((await t.call('GET', '/api/v1/sync/cycles', { token: await t.token(b) })).body.items.length, 0, 'tenant B sees none of A\'s');
    });

    test('sync errors filter by category, and the first page counts every category', async () => {
      const agent = await registerTestAgent(t, a, apiA);
      const { epoch } = await agent.acquireLease(60);
      const bad = randomBytes(16).toString('base64');
      const res = await agent.sendBatch(`errors-${Date.now()}`, { epoch, operations: [{ op: 'upsert', type: 'user', immutableId: bad, attributes: { userPrincipalName: 'not a upn' } }] });
      const category = res.results[0]!.error!.category;
      const first = await t.call('GET', `/api/v1/sync/errors?category=${category}`, { token: adminToken });
      assert.ok(first.body.items.some((e: { immutableId: string }) => e.immutableId === bad));
      assert.ok(first.body.counts[category] >= 1, JSON.stringify(first.body.counts));
      const other = category === 'quota' ? 'other' : 'quota';
      assert.ok(!(await t.call('GET', `/api/v1/sync/errors?category=${other}`, { token: adminToken })).body.items.some((e: { immutableId: string }) => e.immutableId === bad));
      const wrong = await t.call('GET', '/api/v1/sync/errors?category=everything', { token: adminToken });
      assert.equal(wrong.status, 400);
      assert.match(wrong.body.detail, /category must be one of duplicate_attribute/);
    });

    test('/admin serves the app with a strict policy, and only redirects to itself', async () => {
      const index = await httpExchange(`${t.url}/admin/users/some-user`, { trust: t.trust });
      assert.equal(index.status, 200);
      assert.match(String(index.headers['content-type']), /text\/html/);
      assert.match(String(index.headers['content-security-policy']), /script-src 'self'/);
      assert.match(index.text, /<div id="root">/);
      const asset = /src="(\/admin\/assets\/[^"]+\.js)"/.exec(index.text)![1]!;
      const js = await httpExchange(`${t.url}${asset}`, { trust: t.trust });
      assert.equal(js.status, 200);
      assert.match(String(js.headers['cache-control']), /immutable/);
      assert.equal((await httpExchange(`${t.url}/admin/assets/gone-1234.js`, { trust: t.trust })).status, 404);
      assert.equal((await httpExchange(`${t.url}/admin/..%2f..%2fpackage.json`, { trust: t.trust })).text.includes('"workspaces"'), false, 'no path escapes the app');
      // a malformed %-escape is the client's mistake, said as such (it was a 500 and an error in the log)
      const malformed = await httpExchange(`${t.url}/admin/users/%E0%A4%A`, { trust: t.trust });
      assert.equal(malformed.status, 400);
      assert.match(malformed.text, /malformed %-escape/);
      const badTenant = await httpExchange(`${t.url}/%E0%A4%A/v2.0/.well-known/openid-configuration`, { trust: t.trust });
      assert.equal(badTenant.status, 404);
      assert.match(badTenant.text, /there is no tenant/);
      const root = await httpExchange(`${t.url}/`, { trust: t.trust });
      assert.equal(root.status, 302);
      assert.equal(root.headers.location, '/admin/');
      // the admin center's client sends codes to the admin center only
      const evil = await httpExchange(`${a.issuer}/auth?${new URLSearchParams({ client_id: adminCenterClientId, redirect_uri: 'https://evil.example/', response_type: 'code', scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })}`, { trust: t.trust });
      assert.notEqual(evil.status, 302, 'no redirect to a foreign URI');
      assert.match(evil.text, /redirect_uri/);
    });
  });
}
