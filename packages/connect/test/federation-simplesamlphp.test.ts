/**
 * A federated domain against a real SAML 2.0 identity provider: Debian's
 * SimpleSAMLphp behind Apache (mod_php), authenticating users against the
 * Samba DC over LDAPS. Users synchronized from that DC sign in to an
 * application of the tenant: the cloud sends them to SimpleSAMLphp with an
 * AuthnRequest, SimpleSAMLphp binds to AD as the user, and its signed
 * Response (NameID = immutable id) comes back and finds the synced user.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { CreatedTenant } from '@skybridge/cloud';
import type { TestCloud } from '../../cloud/test/helpers/cloud.ts';
import { TestBrowser } from '../../cloud/test/helpers/browser.ts';
import { signInKit } from '../../cloud/test/helpers/sign-in-kit.ts';
import { startSimpleSamlIdp, type SimpleSamlIdp } from '../../cloud/test/helpers/simplesamlphp.ts';
import { freeLoopbackAddress } from '../../../scripts/test-dc/test-dc.ts';
import type { SmallDirectory, TestDc } from './helpers/ad.ts';
import { startSyncWorld, stopSyncWorld, syncCli, type SyncWorld } from './helpers/sync.ts';

/** What a page says, without its markup and language bar (for failure messages). */
const visibleText = (html: string) => html.replace(/<div id="languagebar">[\s\S]*?<\/div>/, '').replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 1500);

const freePort = (ip: string) => new Promise<number>((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(0, ip, () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  });
});

describe('federation with SimpleSAMLphp (Apache, LDAPS to the Samba DC)', () => {
  let w: SyncWorld;
  let dc: TestDc;
  let seed: SmallDirectory;
  let t: TestCloud;
  let tenant: CreatedTenant;
  let admin: string;
  let idp: SimpleSamlIdp;
  let kit: ReturnType<typeof signInKit>;
  const browser = () => new TestBrowser({ ca: `${t.trust.ca!}\n${idp.tlsCertificate}`, stopAt: (u) => u.hostname.endsWith('.app.example') });
  /** The application's sign-in, through the cloud's page to SimpleSAMLphp's login form. */
  const toIdp = async (b: TestBrowser, upn: string) => {
    const { page, redeem } = await kit.authorize(b, 'portal');
    const atIdp = await b.submit(page, { username: upn, password: '' });
    assert.ok(atIdp.url.startsWith(idp.url), `expected SimpleSAMLphp, got ${atIdp.status} ${atIdp.url}: ${atIdp.text.slice(0, 300)}`);
    assert.match(atIdp.text, /name="password"/, `SimpleSAMLphp's login form, not: ${visibleText(atIdp.text)}`);
    return { atIdp, redeem };
  };

  before(async () => {
    w = await startSyncWorld('pglite', 'contoso');
    ({ dc, seed, t, tenant, token: admin } = w);
    const synced = await syncCli(w.files.configPath);
    assert.equal(synced.code, 0, synced.stderr);
    const ip = await freeLoopbackAddress();
    const sp = { entityId: tenant.issuer, acs: `${tenant.issuer}/federation/saml` };
    idp = await startSimpleSamlIdp({
      ip, port: await freePort(ip), sp,
      ldap: { url: dc.ldapsUrl, caFile: dc.caFile, baseDn: dc.baseDn, bindDn: dc.connector.dn, password: dc.connector.password },
    });
    const federation = { protocol: 'saml', issuerUri: idp.entityId, passiveSignInUri: idp.ssoUrl, signingCertificate: idp.signingCertificate };
    const res = await t.call('PATCH', `/api/v1/domains/${dc.dnsDomain}`, { token: admin, body: { authenticationType: 'federated', federation } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    kit = signInKit(t, tenant, admin);
    await kit.register('portal');
  });
  after(async () => {
    await idp?.stop();
    await stopSyncWorld(w);
  });

  test('a synchronized user signs in at SimpleSAMLphp with the AD password and reaches the application as the synced user', async () => {
    const { user, password } = seed.passwordUsers[0]!;
    const b = browser();
    const { atIdp, redeem } = await toIdp(b, user.userPrincipalName!);
    const posted = await b.submit(atIdp, { username: user.userPrincipalName!, password });
    assert.match(posted.text, /name="SAMLResponse"/, `SimpleSAMLphp answers with an auto-posting form, not: ${visibleText(posted.text)}`);
    const atApp = await b.submit(posted, {});
    const last = async () => (await t.call('GET', '/api/v1/sign-ins?limit=1', { token: admin })).body.items[0];
    assert.equal(new URL(atApp.url).hostname, 'portal.app.example', `the application, not: ${atApp.status} ${visibleText(atApp.text)} ${JSON.stringify(await last())}`);
    const tokens = await redeem(atApp);
    const claims = tokens.claims()!;
    assert.equal(claims.upn ?? claims.preferred_username, user.userPrincipalName);
    const entry = await last();
    assert.equal(entry.method, 'federated');
    assert.equal(entry.result, 'success');
    assert.equal(entry.userPrincipalName, user.userPrincipalName);

    // the same Response posted again is refused: it answered a request already spent
    const replay = await b.submit(posted, {});
    assert.notEqual(new URL(replay.url).hostname, 'portal.app.example');
    assert.match(replay.text, /sign-in|Sign-in/);
  });

  test('a wrong AD password stays at SimpleSAMLphp, which says so; nothing reaches the application', async () => {
    const { user } = seed.passwordUsers[1]!;
    const b = browser();
    const { atIdp } = await toIdp(b, user.userPrincipalName!);
    const refused = await b.submit(atIdp, { username: user.userPrincipalName!, password: 'not-the-AD-password' });
    assert.ok(refused.url.startsWith(idp.url));
    assert.doesNotMatch(refused.text, /SAMLResponse/);
    assert.match(refused.text, /name="password"/, 'the login form again, with its error');
    assert.match(visibleText(refused.text), /Incorrect username or password|password you gave was wrong|WRONGUSERPASS/i, visibleText(refused.text));
  });
});
