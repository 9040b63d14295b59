import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import type { CreatedTenant } from '@skybridge/cloud';
import { httpExchange } from '@skybridge/connect';
import type { TestCloud } from './cloud.ts';
import { TestBrowser, type Page } from './browser.ts';

/**
 * Applications of a tenant signing users in, as a real relying party does
 * (openid-client: discovery, PKCE, state and nonce, ID token validation),
 * with a TestBrowser in the user's place. Redirect URIs live under
 * `*.app.example`, where the browser stops.
 */
export function signInKit(t: TestCloud, tenant: CreatedTenant, adminToken: string) {
  const apps: Record<string, { clientId: string; clientSecret: string; redirect: string; config?: oidc.Configuration }> = {};
  const fetchWithTrust = async (url: string, options: { method?: string; headers?: ConstructorParameters<typeof Headers>[0]; body?: unknown }) => {
    const headers = Object.fromEntries(new Headers(options.headers).entries());
    const res = await httpExchange(url, { method: options.method ?? 'GET', headers, body: options.body == null ? undefined : String(options.body), trust: t.trust });
    const out = new Headers();
    for (const [k, v] of Object.entries(res.headers)) for (const x of Array.isArray(v) ? v : v === undefined ? [] : [String(v)]) out.append(k, x);
    return new Response([204, 304].includes(res.status) ? null : res.text, { status: res.status, headers: out });
  };
  const kit = {
    apps,
    async register(name: string, requiredServicePlans: string[] = []) {
      const redirect = `https://${name}.app.example/callback`;
      const res = await t.call('POST', '/api/v1/applications', { token: adminToken, body: { displayName: `App ${name}`, redirectUris: [redirect], requiredServicePlans } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      apps[name] = { clientId: res.body.clientId, clientSecret: res.body.clientSecret, redirect };
    },
    async configFor(name: string) {
      const app = apps[name]!;
      app.config ??= await oidc.discovery(new URL(tenant.issuer), app.clientId, undefined, oidc.ClientSecretBasic(app.clientSecret), { [oidc.customFetch]: fetchWithTrust as never });
      return app.config;
    },
    browser: (localAddress?: string) => new TestBrowser({ ca: t.trust.ca!, ...(localAddress ? { localAddress } : {}), stopAt: (u) => u.hostname.endsWith('.app.example') }),
    /** An authorization request from the browser: where it ended, and how the app redeems the code it got. */
    async authorize(b: TestBrowser, name: string, extra: Record<string, string> = {}) {
      const config = await kit.configFor(name);
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: apps[name]!.redirect, scope: 'openid profile email', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce, ...extra,
      });
      const page = await b.go(url.toString());
      return { page, redeem: (at: Page = page) => oidc.authorizationCodeGrant(config, new URL(at.url), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }) };
    },
    atApp: (page: Page, name: string) => assert.equal(new URL(page.url).hostname, `${name}.app.example`, `expected the redirect to ${name}, got ${page.status} ${page.url}: ${page.text.slice(0, 400)}`),
    isSignInPage: (page: Page) => assert.ok(page.status === 200 && page.text.includes('autocomplete="current-password"'), `expected the sign-in page, got ${page.status} ${page.url}`),
  };
  return kit;
}
