/**
 * Sign-in through the tenant's OpenID Connect provider, driven by a certified
 * relying-party library (openid-client) and a browser with a real cookie jar:
 * authorization code with PKCE, the first-sign-in password change, single
 * sign-on across two applications, logout, licence gating, smart lockout,
 * rate limits and the sign-in log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { issueOneTimePassword, type CreatedTenant } from '@skybridge/cloud';
import { storeKinds } from '../helpers/stores.ts';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { TestBrowser, type Page } from '../helpers/browser.ts';
import { TestSamlIdp } from '../helpers/saml-idp.ts';
import { signInKit } from '../helpers/sign-in-kit.ts';
import { registerTestAgent } from '../helpers/agent.ts';

const guid = () => Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64');

for (const kind of storeKinds) {
  describe(`sign-in (${kind})`, () => {
    let t: TestCloud;
    let tenant: CreatedTenant;
    let admin: string;
    const ada = { id: '', upn: '', oneTime: '', password: 'correct horse battery staple' };
    let session: TestBrowser;
    let idToken: string;
    let kit: ReturnType<typeof signInKit>;
    const browser = (localAddress?: string) => kit.browser(localAddress);
    const authorize = (b: TestBrowser, name: string, extra: Record<string, string> = {}) => kit.authorize(b, name, extra);
    const configFor = (name: string) => kit.configFor(name);
    const atApp = (page: Page, name: string) => kit.atApp(page, name);
    const isSignInPage = (page: Page) => kit.isSignInPage(page);
    const signIns = async (query = '') => (await t.call('GET', `/api/v1/sign-ins?limit=200${query}`, { token: admin })).body.items as any[];

    before(async () => {
      t = await startTestCloud(kind);
      tenant = await t.createTenant('contoso');
      admin = await t.token(tenant);
      kit = signInKit(t, tenant, admin);
      for (const [name, plans] of [['one', []], ['two', []], ['payroll', ['SSO_APPS']]] as const) await kit.register(name, [...plans]);
      ada.upn = `ada@${tenant.initialDomain}`;
      ada.id = (await t.call('POST', '/api/v1/users', { token: admin, body: { userPrincipalName: ada.upn, displayName: 'Ada Lovelace', mail: ada.upn } })).body.id;
      ada.oneTime = await issueOneTimePassword(t.cloud.context.store, tenant.tenantId, ada.upn);
    });
    after(() => t?.close());

    test('authorization code with PKCE: wrong and unknown look alike; the one-time password is changed at first sign-in; the ID token names the user', async () => {
      session = browser();
      const { page, redeem } = await authorize(session, 'one');
      isSignInPage(page);
      assert.match(page.text, /<html lang="en">/);
      assert.match(page.text, /<label for="username">/);
      assert.match(page.text, /to App one with your contoso account/);
      assert.equal(page.headers['x-frame-options'], 'DENY');

      const wrong = await session.submit(page, { username: ada.upn, password: 'not-the-password' });
      assert.equal(wrong.status, 401);
      assert.match(wrong.text, /role="alert" id="error">Your user name or password is incorrect/);
      const unknown = await session.submit(wrong, { username: `nobody@${tenant.initialDomain}`, password: 'not-the-password' });
      assert.equal(unknown.status, 401);
      assert.equal(unknown.text.replace(/nobody@[^"]+/g, 'X').replace(/value="[^"]*"/g, ''), wrong.text.replace(/ada@[^"]+/g, 'X').replace(/value="[^"]*"/g, ''), 'an unknown user gets exactly the page of a wrong password');
      const forged = await session.go(/action="([^"]+)"/.exec(unknown.text)![1]!, { username: ada.upn, password: ada.oneTime, csrf: 'forged' });
      assert.equal(forged.status, 403, 'a form without its anti-forgery token is refused');

      const change = await session.submit(unknown, { username: ada.upn, password: ada.oneTime });
      assert.match(change.text, /Change your password/);
      const weak = await session.submit(change, { current: ada.oneTime, new: 'short', confirm: 'short' });
      assert.match(weak.text, /at least 12 characters/);
      const mismatch = await session.submit(weak, { current: ada.oneTime, new: ada.password, confirm: `${ada.password}!` });
      assert.match(mismatch.text, /differ/);
      const done = await session.submit(mismatch, { current: ada.oneTime, new: ada.password, confirm: ada.password });
      atApp(done, 'one');

      const tokens = await redeem(done);
      const claims = tokens.claims()!;
      assert.equal(claims.sub, ada.id);
      assert.equal(claims.oid, ada.id);
      assert.equal(claims.upn, ada.upn);
      assert.equal(claims.preferred_username, ada.upn);
      assert.equal(claims.tid, tenant.tenantId);
      assert.equal(claims.name, 'Ada Lovelace');
      assert.equal(claims.iss, tenant.issuer);
      idToken = tokens.id_token!;
      const info = await oidc.fetchUserInfo(await configFor('one'), tokens.access_token, ada.id);
      assert.equal(info.upn, ada.upn);
      // a code works once
      await assert.rejects(redeem(done), (err: { error?: string }) => err.error === 'invalid_grant');
      // the one-time password is spent
      const { rows } = await t.cloud.context.store.query<{ password_must_change: boolean }>('SELECT password_must_change FROM directory_objects WHERE id = $1', [ada.id]);
      assert.equal(rows[0]!.password_must_change, false);
    });

    test('refresh tokens: offline_access (asked with prompt=consent) gives a refresh token that renews the tokens', async () => {
      const { page, redeem } = await authorize(session, 'one', { scope: 'openid profile offline_access', prompt: 'consent' });
      atApp(page, 'one');
      const tokens = await redeem();
      assert.ok(tokens.refresh_token, 'a refresh token');
      const renewed = await oidc.refreshTokenGrant(await configFor('one'), tokens.refresh_token!);
      assert.ok(renewed.access_token && renewed.access_token !== tokens.access_token);
      assert.equal(renewed.claims()?.sub, ada.id);
    });

    test('single sign-on: a second application gets a code without a prompt; logout ends the session for both', async () => {
      const two = await authorize(session, 'two');
      atApp(two.page, 'two');
      const claims = (await two.redeem()).claims()!;
      assert.equal(claims.sub, ada.id);

      const logout = oidc.buildEndSessionUrl(await configFor('one'), { id_token_hint: idToken });
      const confirm = await session.go(logout.toString());
      assert.equal(confirm.status, 200);
      assert.match(confirm.text, /Sign out of every application/);
      const out = await session.submit(confirm, { logout: 'yes' }, 'op.logoutForm');
      assert.equal(out.status, 200);
      assert.match(out.text, /You signed out/);
      isSignInPage((await authorize(session, 'one')).page);
      isSignInPage((await authorize(session, 'two')).page);
    });

    test('an application that requires a licence refuses users without it, with the reason; with the licence it lets them in', async () => {
      const b = browser();
      const { page } = await authorize(b, 'payroll');
      const refused = await b.submit(page, { username: ada.upn, password: ada.password });
      atApp(refused, 'payroll');
      const q = new URL(refused.url).searchParams;
      assert.equal(q.get('error'), 'access_denied');
      assert.match(q.get('error_description')!, /App payroll needs a licence that includes SSO_APPS/);
      assert.equal(q.get('code'), null);

      await t.operator('PUT', `/operator/v1/tenants/${tenant.tenantId}/subscriptions/SKYBRIDGE_BASIC`, { seats: 5 });
      await t.call('PATCH', `/api/v1/users/${ada.id}`, { token: admin, body: { usageLocation: 'GB' } });
      assert.equal((await t.call('POST', `/api/v1/users/${ada.id}/licenses`, { token: admin, body: { skuId: 'SKYBRIDGE_BASIC' } })).status, 201);
      const allowed = await authorize(b, 'payroll');
      atApp(allowed.page, 'payroll');
      assert.equal((await allowed.redeem()).claims()!.sub, ada.id, 'single sign-on, now licensed');
    });

    test('smart lockout counts failures per user and source: the guessing address is locked out, the user elsewhere is not', async () => {
      const guesser = browser('127.0.0.2');
      let page = (await authorize(guesser, 'one')).page;
      for (let i = 1; i <= 10; i++) {
        page = await guesser.submit(page, { username: ada.upn, password: `guess-${i}` });
        assert.equal(page.status, 401, `attempt ${i}`);
      }
      assert.match(page.text, /locked for now to protect it.*Try again in 60 seconds/);
      const stillLocked = await guesser.submit(page, { username: ada.upn, password: ada.password });
      assert.equal(stillLocked.status, 429, 'while locked, even the right password is not checked');
      const elsewhere = browser('127.0.0.3');
      const ok = await elsewhere.submit((await authorize(elsewhere, 'one')).page, { username: ada.upn, password: ada.password });
      atApp(ok, 'one');
    });

    test('too many attempts from one address are slowed down with 429 and Retry-After', async () => {
      const flood = browser('127.0.0.4');
      let page = (await authorize(flood, 'one')).page;
      let last: Page = page;
      for (let i = 0; i < 40; i++) { // 30 a minute, refilled as the loop runs: well before 40
        last = await flood.submit(page, { username: `user${i}@${tenant.initialDomain}`, password: 'not-a-password' });
        if (last.status === 429) break;
        page = last;
      }
      assert.equal(last.status, 429);
      assert.ok(Number(last.headers['retry-after']) > 0);
      assert.match(last.text, /Too many sign-in attempts from your network/);
    });

    test('synchronized users get a page that says what is not available yet (password hash sync); disabled accounts are refused', async () => {
      const agent = await registerTestAgent(t, tenant, admin);
      const { epoch } = await agent.acquireLease(60);
      await agent.sendBatch(`si-${randomUUID()}`, { epoch, operations: [{ op: 'upsert', type: 'user', immutableId: guid(), attributes: { userPrincipalName: `grace@${tenant.initialDomain}`, displayName: 'Grace' } }] });
      const b = browser('127.0.0.5');
      const synced = await b.submit((await authorize(b, 'one')).page, { username: `grace@${tenant.initialDomain}`, password: 'her-ad-password' });
      assert.match(synced.text, /comes from your organisation&#39;s Active Directory/);

      await t.addVerifiedDomain(tenant.tenantId, 'fed.example');
      const saml = { protocol: 'saml', issuerUri: 'http://idp.fed.example/adfs/services/trust', passiveSignInUri: 'https://idp.fed.example/adfs/ls/', signingCertificate: t.trust.ca! };
      assert.equal((await t.call('PATCH', '/api/v1/domains/fed.example', { token: admin, body: { authenticationType: 'federated', federation: saml } })).status, 200);

      const upn = `off@${tenant.initialDomain}`;
      const off = (await t.call('POST', '/api/v1/users', { token: admin, body: { userPrincipalName: upn, displayName: 'Off' } })).body.id;
      const password = await issueOneTimePassword(t.cloud.context.store, tenant.tenantId, upn);
      await t.call('PATCH', `/api/v1/users/${off}`, { token: admin, body: { accountEnabled: false } });
      const disabled = await b.submit(synced, { username: upn, password });
      assert.equal(disabled.status, 403);
      assert.match(disabled.text, /Your account is disabled/);
    });

    test('pass-through: an agent that answers garbage or fails is skipped; when none answers well, a clear page and a precise log entry', async () => {
      await t.call('PATCH', '/api/v1/tenant', { token: admin, body: { passThroughAuthentication: true } });
      // two agents speaking the channel protocol with broken answers (fault injection: the real agent is tested against AD in connect)
      const garbage = await registerTestAgent(t, tenant, admin, 'garbage-host');
      const failing = await registerTestAgent(t, tenant, admin, 'failing-host');
      const sockets = [
        await garbage.openChannel({ onRequest: async () => ({ outcome: 'maybe', extra: 'x'.repeat(50) }) }, '0.1.0'),
        await failing.openChannel({ onRequest: async () => { throw Object.assign(new Error('LDAP server down'), { code: 'ad_unreachable' }); } }, '0.1.0'),
      ];
      try {
        const b = browser('127.0.0.6');
        const page = await b.submit((await authorize(b, 'one')).page, { username: `grace@${tenant.initialDomain}`, password: 'her-ad-password' });
        assert.equal(page.status, 503);
        assert.match(page.text, /cannot check your password right now/);
        assert.ok(!page.text.includes('maybe') && !page.text.includes('LDAP server down'), 'nothing of the agents\' answers reaches the user');
        const entry = (await signIns())[0];
        assert.equal(entry.method, 'pass_through');
        assert.equal(entry.failureReason, 'pta_agents_failed');
      } finally {
        for (const s of sockets) s.close();
        await t.call('PATCH', '/api/v1/tenant', { token: admin, body: { passThroughAuthentication: false } });
      }
    });

    test('a federated domain signs in at its OpenID provider: code with PKCE, state used once, the user found by immutable id', async () => {
      // the identity provider: another tenant of this cloud, with its own user and an app for the federation
      const idp = await t.createTenant('northwind');
      const idpAdmin = await t.token(idp);
      const callback = `${tenant.issuer}/federation/callback`;
      const fedApp = await t.call('POST', '/api/v1/applications', { token: idpAdmin, body: { displayName: 'Contoso federation', redirectUris: [callback] } });
      const idpUpn = `fred@${idp.initialDomain}`;
      const idpUser = (await t.call('POST', '/api/v1/users', { token: idpAdmin, body: { userPrincipalName: idpUpn, displayName: 'Fred' } })).body.id as string;
      const idpPassword = await issueOneTimePassword(t.cloud.context.store, idp.tenantId, idpUpn);
      // the domain, federated to it; the user here carries the provider's object id as immutable id
      await t.addVerifiedDomain(tenant.tenantId, 'federated.example');
      const fed = await t.call('PATCH', '/api/v1/domains/federated.example', { token: admin, body: {
        authenticationType: 'federated', federation: { protocol: 'oidc', issuer: idp.issuer, clientId: fedApp.body.clientId, clientSecret: fedApp.body.clientSecret, immutableIdClaim: 'oid' } } });
      assert.equal(fed.status, 200, JSON.stringify(fed.body));
      assert.equal(fed.body.federation.clientSecretSet, true);
      assert.ok(!JSON.stringify(fed.body).includes(fedApp.body.clientSecret), 'the secret is never shown again');
      const { rows } = await t.cloud.context.store.query<{ federation: unknown }>(`SELECT federation FROM domains WHERE name = 'federated.example'`);
      assert.ok(!JSON.stringify(rows[0]!.federation).includes(fedApp.body.clientSecret), 'nor stored in clear');
      const scim = await t.call('POST', '/scim/v2/Users', { token: admin, body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'fred@federated.example', externalId: idpUser } });
      assert.equal(scim.status, 201, JSON.stringify(scim.body));

      const b = new TestBrowser({ ca: t.trust.ca!, stopAt: (u) => u.hostname.endsWith('.app.example') || u.pathname.endsWith('/federation/callback') });
      const { page, redeem } = await authorize(b, 'one');
      const atIdp = await b.submit(page, { username: 'fred@federated.example', password: '' });
      assert.ok(atIdp.url.includes(`/${idp.tenantId}/v2.0/interaction/`), `sent to the provider's sign-in: ${atIdp.url}`);
      assert.match(atIdp.text, /fred@federated\.example/, 'with the address as login_hint');
      const change = await b.submit(atIdp, { username: idpUpn, password: idpPassword });
      const back = await b.submit(change, { current: idpPassword, new: 'federated sign-in works well', confirm: 'federated sign-in works well' });
      assert.ok(back.url.startsWith(callback), `the provider answers at the callback: ${back.url}`);
      const done = await b.go(back.url);
      atApp(done, 'one');
      const claims = (await redeem(done)).claims()!;
      assert.equal(claims.sub, scim.body.id);
      assert.equal(claims.upn, 'fred@federated.example');
      const entry = (await signIns())[0];
      assert.deepEqual({ method: entry.method, result: entry.result, user: entry.userId }, { method: 'federated', result: 'success', user: scim.body.id });

      // the same answer again: refused, and logged
      const replay = await b.go(back.url);
      assert.equal(replay.status, 400);
      assert.match(replay.text, /already used or came too late/);
      assert.equal((await signIns())[0].failureReason, 'federation_state_invalid');
      // a forged code with a fresh state: the provider refuses it, and so do we
      const b2 = new TestBrowser({ ca: t.trust.ca!, stopAt: (u) => u.hostname.endsWith('.app.example') || u.pathname.endsWith('/federation/callback') });
      const second = await authorize(b2, 'one');
      const atIdp2 = await b2.submit(second.page, { username: 'fred@federated.example', password: '' });
      const back2 = new URL((await b2.submit(atIdp2, { username: idpUpn, password: 'federated sign-in works well' })).url);
      back2.searchParams.set('code', 'forged-code');
      const forged = await b2.go(back2.toString());
      assert.equal(forged.status, 400);
      assert.match(forged.text, /answered something this service cannot accept/);
      assert.match((await signIns())[0].failureReason, /^federation_/);
    });

    test('a federated domain signs in at its SAML identity provider: signature, issuer, audience, validity and InResponseTo checked; a Response works once', async () => {
      const idp = await TestSamlIdp.create();
      await t.addVerifiedDomain(tenant.tenantId, 'saml.example');
      const fed = await t.call('PATCH', '/api/v1/domains/saml.example', { token: admin, body: { authenticationType: 'federated', federation: { protocol: 'saml', issuerUri: idp.entityId, passiveSignInUri: idp.ssoUrl, signingCertificate: idp.cert } } });
      assert.equal(fed.status, 200, JSON.stringify(fed.body));
      const sam = await t.call('POST', '/scim/v2/Users', { token: admin, body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'sam@saml.example', externalId: 'immutable-sam-1' } });
      assert.equal(sam.status, 201);
      const start = async () => {
        const b = new TestBrowser({ ca: t.trust.ca!, stopAt: (u) => u.hostname.endsWith('.app.example') || u.hostname === 'idp.saml.example' });
        const { page, redeem } = await authorize(b, 'one');
        const atIdp = await b.submit(page, { username: 'sam@saml.example', password: '' });
        assert.equal(new URL(atIdp.url).origin, 'https://idp.saml.example', `sent to the identity provider: ${atIdp.url}`);
        return { b, redeem, request: idp.readRequest(atIdp.url) };
      };
      const { b, redeem, request } = await start();
      assert.equal(request.acs, `${tenant.issuer}/federation/saml`);
      assert.equal(request.issuer, tenant.issuer, 'the tenant is the service provider');
      const response = idp.respond(request, 'immutable-sam-1');
      const done = await b.go(request.acs, { SAMLResponse: response, RelayState: request.relayState });
      atApp(done, 'one');
      assert.equal((await redeem(done)).claims()!.upn, 'sam@saml.example');
      assert.deepEqual({ method: (await signIns())[0].method, result: (await signIns())[0].result }, { method: 'federated', result: 'success' });
      const replay = await b.go(request.acs, { SAMLResponse: response, RelayState: request.relayState });
      assert.equal(replay.status, 400);
      assert.match(replay.text, /already used or came too late/);

      const other = await TestSamlIdp.create();
      const refusals: [string, (r: typeof request) => string, string][] = [
        ['another audience', (r) => idp.respond(r, 'immutable-sam-1', { audience: 'https://elsewhere.example/sp' }), 'federation_saml_invalid'],
        ['expired', (r) => idp.respond(r, 'immutable-sam-1', { notOnOrAfter: new Date(Date.now() - 10 * 60_000) }), 'federation_saml_invalid'],
        ['altered after signing', (r) => idp.respond(r, 'immutable-sam-1', { tamper: (x) => x.replace('>immutable-sam-1<', '>immutable-admin<') }), 'federation_saml_invalid'],
        ['signed by another key', (r) => other.respond(r, 'immutable-sam-1'), 'federation_saml_invalid'],
        ['answering another request', (r) => idp.respond({ ...r, id: '_not-this-one' }, 'immutable-sam-1'), 'federation_saml_invalid'],
        ['nobody here', (r) => idp.respond(r, 'immutable-nobody'), 'federation_unknown_user'],
        ['not SAML at all', () => Buffer.from('<html><body>hello</body></html>').toString('base64'), 'federation_saml_invalid'],
        ['not even base64', () => '%%% garbage %%%', 'federation_saml_invalid'],
        ['truncated', (r) => idp.respond(r, 'immutable-sam-1').slice(0, 200), 'federation_saml_invalid'],
      ];
      for (const [what, make, code] of refusals) {
        const attempt = await start();
        const answer = await attempt.b.go(attempt.request.acs, { SAMLResponse: make(attempt.request), RelayState: attempt.request.relayState });
        assert.ok([400, 403].includes(answer.status), `${what}: ${answer.status} ${answer.url}`);
        assert.equal((await signIns())[0].failureReason, code, what);
      }
    });

    test('/common: home-realm discovery sends the user to the tenant of the address, or of the application', async () => {
      const realm = await t.call('GET', `/common/v2.0/realm?upn=${encodeURIComponent(ada.upn)}`);
      assert.deepEqual({ tenant: realm.body.tenantId, auth: realm.body.authenticationType, issuer: realm.body.issuer }, { tenant: tenant.tenantId, auth: 'managed', issuer: tenant.issuer });
      const fed = await t.call('GET', '/common/v2.0/realm?upn=someone@fed.example');
      assert.equal(fed.body.authenticationType, 'federated');
      assert.equal(fed.body.federation.signInUrl, 'https://idp.fed.example/adfs/ls/');
      assert.equal((await t.call('GET', '/common/v2.0/realm?upn=who@unknown.example')).status, 404);

      const b = browser();
      const viaTenant = new URL((await authorize(b, 'one')).page.url);
      assert.ok(viaTenant.pathname.includes('/interaction/'), 'a fresh browser lands on the sign-in page');
      // the same request through /common, with the user's address as login_hint
      const config = await configFor('one');
      const direct = oidc.buildAuthorizationUrl(config, { redirect_uri: kit.apps.one!.redirect, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', state: 's', login_hint: ada.upn });
      const common = new URL(`${t.url}/common/v2.0/auth${direct.search}`);
      const landed = await b.go(common.toString());
      isSignInPage(landed);
      assert.match(landed.text, new RegExp(`value="${ada.upn.replace(/\./g, '\\.')}"`), 'the address is carried over');
      assert.ok(landed.url.includes(`/${tenant.tenantId}/v2.0/interaction/`));
      // no hint: the application's tenant; nothing known: the address is asked for first
      common.searchParams.delete('login_hint');
      isSignInPage(await b.go(common.toString()));
      common.searchParams.set('client_id', 'app-unknown');
      const ask = await b.go(common.toString());
      assert.equal(ask.status, 200);
      assert.match(ask.text, /Your work email address/);
      const unknownDomain = await b.go(`${t.url}/common/v2.0/auth?login_hint=who%40unknown.example`);
      assert.equal(unknownDomain.status, 404);
      assert.match(unknownDomain.text, /No organisation signs in here with addresses at unknown\.example/);
    });

    test('signing keys rotate: the JWKS publishes the new and the previous keys; tokens signed before work until the next rotation', async () => {
      const jwks = async () => ((await t.call('GET', `/${tenant.tenantId}/v2.0/jwks`)).body.keys as { kid: string }[]).map((k) => k.kid).sort();
      const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).kid as string;
      const old = await t.token(tenant);
      const first = await jwks();
      assert.ok(first.includes(kidOf(old)));
      const rotated = await t.call('POST', '/api/v1/signing-keys/rotate', { token: admin, body: {} });
      assert.equal(rotated.status, 200);
      const second = await jwks();
      assert.deepEqual(second, [...first, ...rotated.body.active].sort(), 'new and previous keys published');
      const fresh = await t.token(tenant);
      assert.ok(rotated.body.active.includes(kidOf(fresh)), 'new tokens are signed with the new key');
      assert.equal((await t.call('GET', '/api/v1/tenant', { token: old })).status, 200, 'a token signed before still works');
      // ID tokens too: the application verifies them against the new key
      const b = browser();
      const { page, redeem } = await authorize(b, 'one');
      const tokens = await redeem(await b.submit(page, { username: ada.upn, password: ada.password }));
      assert.ok(rotated.body.active.includes(kidOf(tokens.id_token!)));
      await t.call('POST', '/api/v1/signing-keys/rotate', { token: await t.token(tenant), body: {} });
      assert.ok(!(await jwks()).some((k) => first.includes(k)), 'the keys before the previous ones are retired');
      assert.equal((await t.call('GET', '/api/v1/tenant', { token: old })).status, 401, 'tokens they signed no longer work');
      const status = (await t.call('GET', '/api/v1/signing-keys', { token: await t.token(tenant) })).body.items.map((k: { status: string }) => k.status);
      assert.deepEqual([...new Set(status)].sort(), ['published', 'retired', 'signing']);
      admin = await t.token(tenant); // the administrator's token was signed by a retired key too
    });

    test('the sign-in log records every attempt with its precise reason, and never a password', async () => {
      const log = await signIns();
      const reasons = new Set(log.map((e) => e.failureReason).filter(Boolean));
      for (const r of ['invalid_password', 'unknown_user', 'locked_out', 'rate_limited', 'method_unavailable', 'licence_required', 'account_disabled']) assert.ok(reasons.has(r), `a ${r} entry`);
      const successes = log.filter((e) => e.result === 'success' && e.userId === ada.id);
      assert.ok(successes.some((e) => e.method === 'cloud_password' && e.appDisplayName === 'App one'));
      assert.ok(successes.some((e) => e.method === 'single_sign_on' && e.appDisplayName === 'App two'));
      assert.ok(log.some((e) => e.ipAddress === '127.0.0.2' && e.failureReason === 'locked_out'));
      const text = JSON.stringify(log);
      for (const secret of [ada.password, ada.oneTime, 'guess-3', 'her-ad-password']) assert.ok(!text.includes(secret), 'no password in the log');
      assert.deepEqual((await signIns(`&userId=${ada.id}&result=failure`)).every((e) => e.userId === ada.id && e.result === 'failure'), true);
    });
  });
}
