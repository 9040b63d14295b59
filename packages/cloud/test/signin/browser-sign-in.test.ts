/**
 * The hosted sign-in page in a real browser: Debian's Chromium, driven by
 * playwright-core. A synchronized user (password hash sync) finds the fields
 * by their labels, signs in with the on-premises password and reaches the
 * application with a code the application redeems (openid-client); a wrong
 * password is announced in the page's alert region.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { chromium, type Browser } from 'playwright-core';
import type { CreatedTenant } from '@skybridge/cloud';
import { passwordHashFromNtHash } from '@skybridge/protocol';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { signInKit } from '../helpers/sign-in-kit.ts';
import { registerTestAgent } from '../helpers/agent.ts';
import { ntHashOf } from '../../src/signin/synced-password.ts';

describe('the sign-in page in Chromium (pglite)', () => {
  let t: TestCloud;
  let tenant: CreatedTenant;
  let kit: ReturnType<typeof signInKit>;
  let browser: Browser;
  const user = { upn: '', password: 'Ch4rlie-on-prem!' };

  before(async () => {
    t = await startTestCloud('pglite');
    tenant = await t.createTenant('chromium');
    const admin = await t.token(tenant);
    kit = signInKit(t, tenant, admin);
    await kit.register('portal');
    user.upn = `charlie@${tenant.initialDomain}`;
    const agent = await registerTestAgent(t, tenant, admin);
    const { epoch } = await agent.acquireLease(60);
    const immutableId = randomBytes(16).toString('base64');
    await agent.sendBatch(`chromium-${Date.now()}`, { epoch, operations: [{ op: 'upsert', type: 'user', immutableId, attributes: { userPrincipalName: user.upn, displayName: 'Charlie' } }] });
    await t.call('PATCH', '/api/v1/tenant', { token: admin, body: { passwordHashSync: true } });
    await agent.sendPasswordHashes({ epoch, hashes: [{ immutableId, passwordHash: passwordHashFromNtHash(await ntHashOf(user.password)) }] });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  test('a synchronized user signs in with the on-premises password; a wrong one is announced', async () => {
    const config = await kit.configFor('portal');
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: kit.apps.portal!.redirect, scope: 'openid profile', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });
    // the test cloud's certificate comes from its own CA; the application's redirect URI answers here
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    let landed: URL | undefined;
    await context.route('https://portal.app.example/**', (route) => {
      landed = new URL(route.request().url());
      return route.fulfill({ status: 200, contentType: 'text/html', body: '<title>Portal</title>' });
    });
    const page = await context.newPage();
    await page.goto(url.toString());

    await page.getByLabel('Email or user name').fill(user.upn);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button').click();
    await page.waitForLoadState();
    assert.match(await page.getByRole('alert').innerText(), /user name or password is incorrect/);
    assert.equal(await page.getByLabel('Email or user name').inputValue(), user.upn, 'the name is kept');

    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button').click();
    await page.waitForURL('https://portal.app.example/**');
    assert.ok(landed?.searchParams.get('code'), `the application got a code: ${landed}`);
    const tokens = await oidc.authorizationCodeGrant(config, landed!, { pkceCodeVerifier: verifier, expectedState: state });
    assert.equal(tokens.claims()?.upn ?? tokens.claims()?.preferred_username, user.upn);
    await context.close();
  });
});
