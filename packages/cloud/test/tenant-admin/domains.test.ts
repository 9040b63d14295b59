import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { CreatedTenant } from '@skybridge/cloud';
import type { CloudClient } from '@skybridge/connect';
import { storeKinds } from '../helpers/stores.ts';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { registerTestAgent } from '../helpers/agent.ts';
import { TestDnsServer } from '../helpers/dns-server.ts';

const guid = () => Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64');
const serviceDomain = 'svc.skybridge.example';

for (const kind of storeKinds) {
  describe(`domains (${kind})`, () => {
    let dns: TestDnsServer;
    let t: TestCloud;
    let a: CreatedTenant;
    let b: CreatedTenant;
    let adminA: string;
    let adminB: string;
    let agent: CloudClient;
    const txtOf = (res: { body: any }) => res.body.verificationRecords.find((r: { type: string }) => r.type === 'TXT').value as string;

    before(async () => {
      dns = await TestDnsServer.start();
      t = await startTestCloud(kind, { dnsServers: [dns.address], serviceDomain });
      a = await t.createTenant('contoso');
      b = await t.createTenant('fabrikam');
      adminA = await t.token(a);
      adminB = await t.token(b);
      agent = await registerTestAgent(t, a, adminA);
    });
    after(async () => {
      await t?.close();
      await dns?.close();
    });

    test('a domain is verified by its TXT record, looked up in DNS; until then it says what is missing', async () => {
      const added = await t.call('POST', '/api/v1/domains', { token: adminA, body: { name: 'Contoso.Example.' } });
      assert.equal(added.status, 201);
      assert.equal(added.body.name, 'contoso.example', 'normalized');
      assert.equal(added.body.isVerified, false);
      const txt = txtOf(added);
      assert.match(txt, /^skybridge-verification=sb[a-z2-9]{12}$/);
      const mx = added.body.verificationRecords.find((r: { type: string }) => r.type === 'MX');
      assert.match(mx.value, /\.skybridge-verify\.invalid$/);

      await dns.set('contoso.example', [{ type: 'TXT', data: 'v=spf1 -all' }]);
      const early = await t.call('POST', '/api/v1/domains/contoso.example/verify', { token: adminA });
      assert.equal(early.status, 409);
      assert.equal(early.body.code, 'domain_not_verified');
      assert.match(early.body.detail, /no TXT record "skybridge-verification=.*found "v=spf1 -all"/);
      assert.equal((await t.call('GET', '/api/v1/domains/contoso.example', { token: adminA })).body.lastVerificationAttempt.found, false);

      // a wrong record (a typo, or another tenant's code) verifies nothing
      await dns.add('contoso.example', { type: 'TXT', data: 'skybridge-verification=sbwrongwrongwr' });
      const wrong = await t.call('POST', '/api/v1/domains/contoso.example/verify', { token: adminA });
      assert.equal(wrong.body.code, 'domain_not_verified');
      assert.match(wrong.body.detail, /found .*"skybridge-verification=sbwrongwrongwr"/);
      // the right record appears late (as DNS publishes it): now it verifies
      await dns.set('contoso.example', [{ type: 'TXT', data: 'v=spf1 -all' }, { type: 'TXT', data: [txt.slice(0, 20), txt.slice(20)] }]); // long TXT values come in chunks
      const done = await t.call('POST', '/api/v1/domains/contoso.example/verify', { token: adminA });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.isVerified, true);
      assert.ok(done.body.verifiedDateTime);
      // the issuer answers on the verified domain too (home-realm discovery rests on it)
      assert.equal((await t.call('GET', '/contoso.example/v2.0/.well-known/openid-configuration')).status, 200);
      // and users can be created on it
      assert.equal((await t.call('POST', '/api/v1/users', { token: adminA, body: { userPrincipalName: 'ann@contoso.example', displayName: 'Ann' } })).status, 201);
    });

    test('the MX alternative verifies a domain where TXT records cannot be added; subdomains of a verified domain are verified at once', async () => {
      const added = await t.call('POST', '/api/v1/domains', { token: adminA, body: { name: 'mx-only.example' } });
      const mx = added.body.verificationRecords.find((r: { type: string }) => r.type === 'MX');
      await dns.set('mx-only.example', [{ type: 'MX', exchange: mx.value, preference: 32767 }]);
      assert.equal((await t.call('POST', '/api/v1/domains/mx-only.example/verify', { token: adminA })).body.isVerified, true);
      const sub = await t.call('POST', '/api/v1/domains', { token: adminA, body: { name: 'eu.contoso.example' } });
      assert.equal(sub.status, 201);
      assert.equal(sub.body.isVerified, true);
    });

    test('a verified domain belongs to one tenant: another cannot add, verify or take it', async () => {
      const taken = await t.call('POST', '/api/v1/domains', { token: adminB, body: { name: 'contoso.example' } });
      assert.equal(taken.status, 409);
      assert.equal(taken.body.code, 'domain_taken');
      // both add a domain nobody verified yet; the first to verify keeps it
      const forA = await t.call('POST', '/api/v1/domains', { token: adminA, body: { name: 'shared.example' } });
      const forB = await t.call('POST', '/api/v1/domains', { token: adminB, body: { name: 'shared.example' } });
      await dns.set('shared.example', [{ type: 'TXT', data: txtOf(forA) }, { type: 'TXT', data: txtOf(forB) }]);
      assert.equal((await t.call('POST', '/api/v1/domains/shared.example/verify', { token: adminA })).status, 200);
      const late = await t.call('POST', '/api/v1/domains/shared.example/verify', { token: adminB });
      assert.equal(late.status, 409);
      assert.equal(late.body.code, 'domain_taken');
      assert.equal((await t.call('GET', '/shared.example/v2.0/.well-known/openid-configuration')).body.issuer.includes(a.tenantId), true);
    });

    test('a missing record, and DNS failures, are clear errors', async () => {
      await t.call('POST', '/api/v1/domains', { token: adminA, body: { name: 'nothing-there.example' } });
      const missing = await t.call('POST', '/api/v1/domains/nothing-there.example/verify', { token: adminA });
      assert.equal(missing.body.code, 'domain_not_verified');
      assert.match(missing.body.detail, /found no TXT record/);
      assert.ok(missing.body.verificationRecords.length === 2, 'the answer repeats what to add');
    });

    test('bad names, reserved names and DNS failures are clear errors', async () => {
      for (const name of ['not a domain', 'localhost', '10.0.0.1', '-bad.example', `x.${a.initialDomain.split('.').slice(1).join('.')}`]) {
        const res = await t.call('POST', '/api/v1/domains', { token: adminA, body: { name } });
        assert.equal(res.status, 400, `${name}: ${JSON.stringify(res.body)}`);
      }
      await t.call('POST', '/api/v1/domains', { token: adminA, body: { name: 'broken.example' } });
      await dns.fail('broken.example');
      const res = await t.call('POST', '/api/v1/domains/broken.example/verify', { token: adminA });
      assert.equal(res.status, 502);
      assert.equal(res.body.code, 'dns_lookup_failed');
      assert.match(res.body.detail, new RegExp(`broken\\.example failed .*${dns.address.replace(/\./g, '\\.')}`));
      assert.equal((await t.call('GET', '/api/v1/domains/broken.example', { token: adminA })).body.isVerified, false);
    });

    test('service records: each checked live, with its status and the exact value to set', async () => {
      const d = 'contoso.example';
      const want = {
        mx: 'contoso-example.mail.svc.skybridge.example',
        spf: 'v=spf1 include:spf.svc.skybridge.example -all',
      };
      const txt = dns.records(d).filter((r) => r.type === 'TXT' && [r.data].flat().join('').startsWith('skybridge-verification'));
      // two SPF records, an autodiscover CNAME elsewhere, an A record where a CNAME goes, a wrong MX, no DKIM
      await dns.set(d, [...txt, { type: 'TXT', data: 'v=spf1 include:other.example ~all' }, { type: 'TXT', data: 'v=spf1 mx -all' }, { type: 'MX', exchange: 'mail.old-host.example', preference: 10 }]);
      await dns.set(`autodiscover.${d}`, [{ type: 'CNAME', target: 'autodiscover.old-host.example' }]);
      await dns.set(`enterpriseregistration.${d}`, [{ type: 'A', address: '192.0.2.7' }]);
      await dns.set(`enterpriseenrollment.${d}`, [{ type: 'CNAME', target: 'enterpriseenrollment.svc.skybridge.example.' }]);
      const check = async () => {
        const res = await t.call('GET', `/api/v1/domains/${d}/service-records`, { token: adminA });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return Object.fromEntries(res.body.records.map((r: { purpose: string }) => [r.purpose, r])) as Record<string, any>;
      };
      let r = await check();
      assert.equal(r['Mail delivery'].status, 'wrong_value');
      assert.equal(r['Mail delivery'].value, want.mx);
      assert.match(r['Mail delivery'].fix, /goes to mail\.old-host\.example/);
      assert.equal(r['Sender policy (SPF)'].status, 'multiple_spf');
      assert.match(r['Sender policy (SPF)'].fix, /2 SPF records/);
      assert.equal(r['Mail client set-up'].status, 'conflicting_cname');
      assert.deepEqual(r['Mail client set-up'].found, ['autodiscover.old-host.example']);
      assert.equal(r['Device registration'].status, 'conflicting_record');
      assert.equal(r['Mail signing (DKIM)'].status, 'missing');
      assert.equal(r['Mail signing (DKIM)'].value, 'selector1-contoso-example._domainkey.svc.skybridge.example');
      assert.equal(r['Device management'].status, 'ok');

      // one SPF record, without the include: the fix is that record with the include added before "all"
      await dns.set(d, [...txt, { type: 'TXT', data: 'v=spf1 include:other.example ~all' }, { type: 'MX', exchange: want.mx, preference: 0 }, { type: 'MX', exchange: 'backup.example', preference: 0 }]);
      r = await check();
      assert.equal(r['Sender policy (SPF)'].status, 'spf_missing_include');
      assert.equal(r['Sender policy (SPF)'].value, 'v=spf1 include:other.example include:spf.svc.skybridge.example ~all');
      assert.equal(r['Mail delivery'].status, 'wrong_value', 'another MX of the same priority takes part of the mail');

      // everything right
      await dns.set(d, [...txt, { type: 'TXT', data: want.spf }, { type: 'MX', exchange: want.mx, preference: 0 }, { type: 'MX', exchange: 'backup.example', preference: 20 }]);
      await dns.set(`autodiscover.${d}`, [{ type: 'CNAME', target: 'autodiscover.svc.skybridge.example' }]);
      await dns.set(`enterpriseregistration.${d}`, [{ type: 'CNAME', target: 'enterpriseregistration.svc.skybridge.example' }]);
      await dns.set(`selector1._domainkey.${d}`, [{ type: 'CNAME', target: 'selector1-contoso-example._domainkey.svc.skybridge.example' }]);
      const res = await t.call('GET', `/api/v1/domains/${d}/service-records`, { token: adminA });
      assert.equal(res.body.allOk, true, JSON.stringify(res.body.records.filter((x: { status: string }) => x.status !== 'ok')));
      // a failing lookup marks its record only
      await dns.fail(`autodiscover.${d}`);
      r = await check();
      assert.equal(r['Mail client set-up'].status, 'lookup_failed');
      assert.equal(r['Mail delivery'].status, 'ok');
      await dns.heal(`autodiscover.${d}`);
      // an unverified domain has no service records yet
      assert.equal((await t.call('GET', '/api/v1/domains/broken.example/service-records', { token: adminA })).body.code, 'domain_not_verified');
    });

    test('default and federated domains, with the rules Microsoft 365 keeps', async () => {
      const saml = { protocol: 'saml', issuerUri: 'http://adfs.contoso.example/adfs/services/trust', passiveSignInUri: 'https://adfs.contoso.example/adfs/ls/', signingCertificate: t.trust.ca! };
      const initial = await t.call('PATCH', `/api/v1/domains/${a.initialDomain}`, { token: adminA, body: { authenticationType: 'federated', federation: saml } });
      assert.equal(initial.status, 400);
      assert.match(initial.body.detail, /initial domain/);
      assert.equal((await t.call('PATCH', '/api/v1/domains/broken.example', { token: adminA, body: { isDefault: true } })).body.code, 'domain_not_verified');
      const bad = await t.call('PATCH', '/api/v1/domains/mx-only.example', { token: adminA, body: { authenticationType: 'federated', federation: { ...saml, signingCertificate: 'not a certificate', passiveSignInUri: 'http://plain' } } });
      assert.equal(bad.status, 400);
      const fed = await t.call('PATCH', '/api/v1/domains/mx-only.example', { token: adminA, body: { authenticationType: 'federated', federation: saml } });
      assert.equal(fed.status, 200, JSON.stringify(fed.body));
      assert.equal(fed.body.authenticationType, 'federated');
      assert.match(fed.body.federation.signingCertificate.sha256, /^[0-9A-F:]+$/);
      const defaultFed = await t.call('PATCH', '/api/v1/domains/mx-only.example', { token: adminA, body: { isDefault: true } });
      assert.match(defaultFed.body.detail, /default domain, which cannot be federated/);
      assert.equal((await t.call('PATCH', '/api/v1/domains/contoso.example', { token: adminA, body: { isDefault: true } })).body.isDefault, true);
      const list = (await t.call('GET', '/api/v1/domains', { token: adminA })).body.items;
      assert.deepEqual(list.filter((d: { isDefault: boolean }) => d.isDefault).map((d: { name: string }) => d.name), ['contoso.example']);
      const managed = await t.call('PATCH', '/api/v1/domains/mx-only.example', { token: adminA, body: { authenticationType: 'managed' } });
      assert.equal(managed.body.federation, null);
    });

    test('a domain is removed only when nothing uses it', async () => {
      assert.equal((await t.call('DELETE', `/api/v1/domains/${a.initialDomain}`, { token: adminA })).body.code, 'domain_in_use');
      assert.match((await t.call('DELETE', '/api/v1/domains/contoso.example', { token: adminA })).body.detail, /default domain/);
      await t.call('PATCH', `/api/v1/domains/${a.initialDomain}`, { token: adminA, body: { isDefault: true } });
      const used = await t.call('DELETE', '/api/v1/domains/contoso.example', { token: adminA });
      assert.equal(used.body.code, 'domain_in_use');
      assert.match(used.body.detail, /1 userPrincipalName \(such as ann@contoso\.example\)/);
      assert.equal((await t.call('DELETE', '/api/v1/domains/mx-only.example', { token: adminA })).status, 204);
      assert.equal((await t.call('GET', '/api/v1/domains/mx-only.example', { token: adminA })).status, 404);
    });

    test('synced users on a domain that is not verified sync on the initial domain, and get their UPN back when it is verified', async () => {
      const lease = await agent.acquireLease(60);
      const ids = [guid(), guid()];
      const res = await agent.sendBatch(`upn-${randomUUID()}`, {
        epoch: lease.epoch,
        operations: [
          { op: 'upsert', type: 'user', immutableId: ids[0]!, attributes: { userPrincipalName: 'zoe@later.example', displayName: 'Zoe' } },
          { op: 'upsert', type: 'user', immutableId: ids[1]!, attributes: { userPrincipalName: 'zoe@other-later.example', displayName: 'Zoe too' } },
        ],
      });
      assert.deepEqual(res.results.map((r) => r.status), ['created', 'created']);
      assert.equal(res.results[0]!.quarantined![0]!.reason, 'unverified_domain');
      assert.equal(res.results[0]!.quarantined![0]!.placeholder, `zoe@${a.initialDomain}`, 'as in Microsoft 365: the same name on the initial domain');
      assert.match(res.results[1]!.quarantined![0]!.placeholder!, new RegExp(`^zoe\\d{4}@${a.initialDomain.replace(/\./g, '\\.')}$`), 'taken: four digits added');
      const user = await t.call('GET', `/api/v1/users/${res.results[0]!.objectId}`, { token: adminA });
      assert.equal(user.body.userPrincipalName, `zoe@${a.initialDomain}`);
      const errors = (await t.call('GET', '/api/v1/sync/errors', { token: adminA })).body.items;
      const reported = errors.find((e: { immutableId: string }) => e.immutableId === ids[0]);
      assert.equal(reported.code, 'upn_domain_unverified');
      assert.match(reported.message, /later\.example, which is not a verified domain/);

      const added = await t.call('POST', '/api/v1/domains', { token: adminA, body: { name: 'later.example' } });
      assert.match((await t.call('DELETE', '/api/v1/domains/later.example', { token: adminA })).body.detail, /synchronized user waiting for the domain/);
      await dns.set('later.example', [{ type: 'TXT', data: txtOf(added) }]);
      const verified = await t.call('POST', '/api/v1/domains/later.example/verify', { token: adminA });
      assert.equal(verified.body.restoredUserPrincipalNames, 1);
      assert.equal((await t.call('GET', `/api/v1/users/${res.results[0]!.objectId}`, { token: adminA })).body.userPrincipalName, 'zoe@later.example');
      assert.ok(!(await t.call('GET', '/api/v1/sync/errors', { token: adminA })).body.items.some((e: { immutableId: string }) => e.immutableId === ids[0]));
      // the other user still waits for its own domain; the next sync of the restored user keeps its UPN
      assert.match((await t.call('GET', `/api/v1/users/${res.results[1]!.objectId}`, { token: adminA })).body.userPrincipalName, /^zoe\d{4}@/);
      const again = await agent.sendBatch(`upn-${randomUUID()}`, { epoch: lease.epoch, operations: [{ op: 'upsert', type: 'user', immutableId: ids[0]!, attributes: { userPrincipalName: 'zoe@later.example', displayName: 'Zoe' } }] });
      assert.equal(again.results[0]!.status, 'unchanged');
      assert.equal(again.results[0]!.quarantined, undefined);
    });
  });
}
