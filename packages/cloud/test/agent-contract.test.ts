import { currentAgentVersion, paths } from '@skybridge/protocol';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { CloudApiError, CloudClient, registerAgent, PinMismatchError } from '@skybridge/connect';
import type { CreatedTenant } from '@skybridge/cloud';
import { storeKinds } from './helpers/stores.ts';
import { startTestCloud, type TestCloud } from './helpers/cloud.ts';
import { registerTestAgent } from './helpers/agent.ts';

const guid = () => Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64');
const key = () => `batch-${randomUUID()}`;

for (const kind of storeKinds) {
  describe(`agent-cloud contract (${kind})`, () => {
    let t: TestCloud;
    let tenant: CreatedTenant;
    let admin: string;
    let agent: CloudClient;

    before(async () => {
      t = await startTestCloud(kind);
      tenant = await t.createTenant('contoso');
      admin = await t.token(tenant);
      agent = await registerTestAgent(t, tenant, admin);
    });
    after(() => t?.close());

    test('registration returns credentials, the certificate pin, and a JWT access token verifiable by JWKS', async () => {
      assert.equal(agent.credentials.tenantId, tenant.tenantId);
      assert.equal(agent.credentials.cloudCertificatePin, t.cloud.tls!.pin);
      assert.equal(agent.credentials.privateJwk.d !== undefined, true, 'the private key stays with the agent');
      const token = await agent.accessToken();
      assert.equal(decodeProtectedHeader(token).typ, 'at+jwt');
      const discovery = await t.call('GET', `/${tenant.tenantId}/v2.0/.well-known/openid-configuration`);
      assert.equal(discovery.body.issuer, tenant.issuer);
      const jwks = await t.call('GET', new URL(discovery.body.jwks_uri).pathname);
      assert.ok(jwks.body.keys.every((k: Record<string, unknown>) => k.d === undefined), 'JWKS publishes public keys only');
      const { payload } = await jwtVerify(token, createLocalJWKSet(jwks.body), { issuer: tenant.issuer, audience: tenant.apiAudience });
      assert.equal(payload.client_id, agent.credentials.clientId);
      // the agent is in the tenant's agent list, registered from its host
      const list = await t.call('GET', '/api/v1/agents', { token: admin });
      assert.deepEqual(list.body.items.map((a: { id: string }) => a.id), [agent.credentials.agentId]);
      // the cloud stored only the public key
      const { rows } = await t.cloud.context.store.query<{ public_jwk: Record<string, unknown> }>('SELECT public_jwk FROM agents WHERE id = $1', [agent.credentials.agentId]);
      assert.equal(rows[0]!.public_jwk.d, undefined);
    });

    test('a registration token works once', async () => {
      const res = await t.call('POST', '/api/v1/agents/registration-tokens', { token: admin });
      const first = await registerAgent({ cloudUrl: t.url, registrationToken: res.body.registrationToken, hostname: 'h1', version: '0.1.0', trust: t.trust });
      assert.ok(first.agentId);
      await assert.rejects(
        registerAgent({ cloudUrl: t.url, registrationToken: res.body.registrationToken, hostname: 'h2', version: '0.1.0', trust: t.trust }),
        (err: CloudApiError) => err.status === 401 && err.code === 'registration_token_invalid' && /already used/.test(err.message),
      );
      await assert.rejects(
        registerAgent({ cloudUrl: t.url, registrationToken: 'sbr_forged-token-value', hostname: 'h3', version: '0.1.0', trust: t.trust }),
        (err: CloudApiError) => err.code === 'registration_token_invalid',
      );
    });

    test('a replayed client assertion is refused', async () => {
      const assertion = await agent.clientAssertion();
      await agent.requestToken(assertion);
      await assert.rejects(agent.requestToken(assertion), (err: CloudApiError) => err.status === 400 || err.status === 401);
    });

    test('forged agent credentials are refused: another key, another client id, a forged token', async () => {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const forgedJwk = { ...(await exportJWK(privateKey)), kid: String(agent.credentials.privateJwk.kid), alg: 'ES256' };
      const impostor = new CloudClient({ ...agent.credentials, privateJwk: forgedJwk });
      await assert.rejects(impostor.requestToken(), (err: CloudApiError) => err.code === 'invalid_client');
      const unknown = new CloudClient({ ...agent.credentials, clientId: `agent-${randomUUID()}` });
      await assert.rejects(unknown.requestToken(), (err: CloudApiError) => err.code === 'invalid_client');
      // a token signed with a key the tenant does not have
      const forgedToken = await new SignJWT({ tid: tenant.tenantId, client_id: agent.credentials.clientId })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' }).setIssuer(tenant.issuer).setAudience(tenant.apiAudience).setExpirationTime('5m').sign(privateKey);
      const res = await t.call('POST', '/sync/v1/lease', { token: forgedToken, body: {} });
      assert.equal(res.status, 401);
      assert.equal(res.body.code, 'invalid_token');
      assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
    });

    test('the pinned connection refuses a certificate with another key', async () => {
      const wrong = new CloudClient({ ...agent.credentials, cloudCertificatePin: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' });
      await assert.rejects(wrong.requestToken(), PinMismatchError);
    });

    test('batches: one result per object, error categories, and a replay changes nothing', async () => {
      const lease = await agent.acquireLease(60);
      const alice = guid();
      const bob = guid();
      const group = guid();
      const batch = {
        epoch: lease.epoch,
        operations: [
          { op: 'upsert' as const, type: 'user' as const, immutableId: alice, attributes: { userPrincipalName: 'alice@contoso.skybridge.test', displayName: 'Alice' } },
          { op: 'upsert' as const, type: 'user' as const, immutableId: bob, attributes: { userPrincipalName: 'alice@contoso.skybridge.test', displayName: 'Bob (same UPN)' } },
          { op: 'upsert' as const, type: 'user' as const, immutableId: guid(), attributes: { userPrincipalName: 'not-a-upn' } },
          { op: 'upsert' as const, type: 'user' as const, immutableId: guid(), attributes: { userPrincipalName: 'x@contoso.skybridge.test', displayName: 'x'.repeat(300) } },
          { op: 'upsert' as const, type: 'group' as const, immutableId: group, attributes: { displayName: 'Sales', securityEnabled: true }, members: { add: [alice] } },
        ],
      };
      const idem = key();
      const first = await agent.sendBatch(idem, batch);
      assert.equal(first.replayed, false);
      assert.deepEqual(first.results.map((r) => r.status), ['created', 'created', 'error', 'error', 'created']);
      // a duplicate UPN does not stop the object: it syncs with a placeholder UPN, and the value is quarantined
      assert.deepEqual(first.results[1]!.quarantined!.map((q) => [q.attribute, q.value, q.heldBy]), [['userPrincipalName', 'alice@contoso.skybridge.test', first.results[0]!.objectId]]);
      assert.match(first.results[1]!.quarantined![0]!.placeholder!, /^alice\d{4}@contoso\.skybridge\.test$/);
      assert.equal(first.results[2]!.error!.category, 'data_validation');
      assert.equal(first.results[2]!.error!.attribute, 'userPrincipalName');
      assert.equal(first.results[3]!.error!.attribute, 'displayName');
      const before = await t.call('GET', '/api/v1/tenant', { token: admin });
      const replay = await agent.sendBatch(idem, batch);
      assert.equal(replay.replayed, true);
      assert.deepEqual(replay.results, first.results);
      const afterReplay = await t.call('GET', '/api/v1/tenant', { token: admin });
      assert.equal(afterReplay.body.objectCount, before.body.objectCount);
      const users = await t.call('GET', '/api/v1/users?limit=1000', { token: admin });
      assert.equal(users.body.items.filter((u: { onPremisesImmutableId: string }) => u.onPremisesImmutableId === alice).length, 1);
      // the same key with other content is refused
      await assert.rejects(agent.sendBatch(idem, { ...batch, operations: batch.operations.slice(0, 1) }), (err: CloudApiError) => err.code === 'idempotency_key_reused' && err.status === 422);
      // sending the same objects again under a new key reports them unchanged
      const again = await agent.sendBatch(key(), { epoch: lease.epoch, operations: [batch.operations[0]!, batch.operations[4]!] });
      assert.deepEqual(again.results.map((r) => r.status), ['unchanged', 'unchanged']);
    });

    test('operations of one batch see the effects of the operations before them', async () => {
      const lease = await agent.acquireLease(60);
      const x = guid();
      const y = guid();
      const res = await agent.sendBatch(key(), {
        epoch: lease.epoch,
        operations: [
          { op: 'upsert', type: 'user', immutableId: x, attributes: { userPrincipalName: 'swap-a@contoso.skybridge.test' } },
          { op: 'upsert', type: 'user', immutableId: y, attributes: { userPrincipalName: 'swap-a@contoso.skybridge.test' } },
          { op: 'upsert', type: 'user', immutableId: x, attributes: { userPrincipalName: 'swap-b@contoso.skybridge.test' } },
          { op: 'upsert', type: 'user', immutableId: y, attributes: { userPrincipalName: 'swap-a@contoso.skybridge.test' } },
          { op: 'delete', type: 'user', immutableId: x },
          { op: 'upsert', type: 'group', immutableId: x, attributes: { displayName: 'not a user' } },
          { op: 'upsert', type: 'user', immutableId: guid(), attributes: { userPrincipalName: 'swap-b@contoso.skybridge.test' } },
        ],
      });
      // y first gets a placeholder (x holds swap-a); once x moved to swap-b, y's next upsert takes swap-a
      assert.deepEqual(res.results.map((r) => r.error?.code ?? r.status), ['created', 'created', 'updated', 'updated', 'deleted', 'type_mismatch', 'created']);
      assert.equal(res.results[1]!.quarantined?.[0]?.value, 'swap-a@contoso.skybridge.test');
      assert.equal(res.results[3]!.quarantined, undefined);
      const y1 = await t.call('GET', `/api/v1/users/${res.results[3]!.objectId}`, { token: admin });
      assert.equal(y1.body.userPrincipalName, 'swap-a@contoso.skybridge.test');
    });

    test('the proxy addresses of objects created in bulk (one INSERT per batch) are held at once', async () => {
      const lease = await agent.acquireLease(60);
      const [a, b, c] = [guid(), guid(), guid()];
      const user = (id: string, name: string, proxyAddresses?: string[]) => ({
        op: 'upsert' as const, type: 'user' as const, immutableId: id,
        attributes: { userPrincipalName: `${name}@contoso.skybridge.test`, ...(proxyAddresses ? { proxyAddresses } : {}) },
      });
      const first = await agent.sendBatch(key(), { epoch: lease.epoch, operations: [
        user(a, 'bulk-a', ['SMTP:bulk-a@contoso.skybridge.test', 'smtp:Bulk-Team@contoso.skybridge.test', 'smtp:bulk-team@contoso.skybridge.test']),
        user(b, 'bulk-b'),
      ] });
      assert.deepEqual(first.results.map((r) => [r.status, r.quarantined]), [['created', undefined], ['created', undefined]]);
      // the same address in another case, in a later batch: held by the first object
      const second = await agent.sendBatch(key(), { epoch: lease.epoch, operations: [user(c, 'bulk-c', ['SMTP:bulk-c@contoso.skybridge.test', 'smtp:BULK-TEAM@contoso.skybridge.test'])] });
      assert.deepEqual(second.results[0]!.quarantined!.map((h) => [h.attribute, h.value]), [['proxyAddresses', 'smtp:BULK-TEAM@contoso.skybridge.test']]);
      const listed = (await t.call('GET', '/api/v1/sync/errors', { token: admin })).body.items.find((e: { immutableId: string }) => e.immutableId === c);
      assert.match(listed.message, new RegExp(`already used by the cloud object ${first.results[0]!.objectId}`));
      await agent.sendBatch(key(), { epoch: lease.epoch, operations: [{ op: 'delete', type: 'user', immutableId: a }] });
      const released = (await t.call('GET', `/api/v1/users/${second.results[0]!.objectId}`, { token: admin })).body;
      assert.deepEqual(released.proxyAddresses, ['SMTP:bulk-c@contoso.skybridge.test', 'smtp:BULK-TEAM@contoso.skybridge.test']);
    });

    test('duplicate attribute resiliency: a colliding UPN or proxy address is quarantined, reported, and released when the holder lets it go', async () => {
      const lease = await agent.acquireLease(60);
      const holder = guid();
      const waiter = guid();
      const holderOp = { op: 'upsert' as const, type: 'user' as const, immutableId: holder, attributes: { userPrincipalName: 'dar@contoso.skybridge.test', proxyAddresses: ['SMTP:dar@contoso.skybridge.test', 'smtp:sales@contoso.skybridge.test'] } };
      const waiterOp = { op: 'upsert' as const, type: 'user' as const, immutableId: waiter, attributes: { userPrincipalName: 'DAR@contoso.skybridge.test', displayName: 'Waiter', proxyAddresses: ['SMTP:waiter@contoso.skybridge.test', 'smtp:Sales@contoso.skybridge.test'] } };
      const first = await agent.sendBatch(key(), { epoch: lease.epoch, operations: [holderOp, waiterOp] });
      assert.deepEqual(first.results.map((r) => r.status), ['created', 'created']);
      const q = first.results[1]!.quarantined!;
      assert.deepEqual(q.map((h) => [h.attribute, h.value]), [['userPrincipalName', 'DAR@contoso.skybridge.test'], ['proxyAddresses', 'smtp:Sales@contoso.skybridge.test']]);
      const waiterId = first.results[1]!.objectId!;
      let w = (await t.call('GET', `/api/v1/users/${waiterId}`, { token: admin })).body;
      assert.equal(w.userPrincipalName, q[0]!.placeholder);
      assert.deepEqual(w.proxyAddresses, ['SMTP:waiter@contoso.skybridge.test']);
      // reported through the admin API, with the holder named
      const listed = (await t.call('GET', '/api/v1/sync/errors', { token: admin })).body.items.find((e: { immutableId: string }) => e.immutableId === waiter);
      assert.equal(listed.category, 'duplicate_attribute');
      assert.equal(listed.code, 'attribute_quarantined');
      assert.match(listed.message, new RegExp(`DAR@contoso.skybridge.test is already used by the cloud object ${first.results[0]!.objectId}`));
      // sent again while the collision lasts: the same placeholder, nothing changes
      const again = await agent.sendBatch(key(), { epoch: lease.epoch, operations: [waiterOp] });
      assert.equal(again.results[0]!.status, 'unchanged');
      assert.equal(again.results[0]!.quarantined![0]!.placeholder, q[0]!.placeholder);
      // the holder gives the proxy address up: the waiter gets it back at the end of that batch, the UPN stays quarantined
      await agent.sendBatch(key(), { epoch: lease.epoch, operations: [{ ...holderOp, attributes: { ...holderOp.attributes, proxyAddresses: ['SMTP:dar@contoso.skybridge.test'] } }] });
      w = (await t.call('GET', `/api/v1/users/${waiterId}`, { token: admin })).body;
      assert.deepEqual(w.proxyAddresses, ['SMTP:waiter@contoso.skybridge.test', 'smtp:Sales@contoso.skybridge.test']);
      assert.equal(w.userPrincipalName, q[0]!.placeholder);
      // the holder is deleted: the UPN comes back too, and the error list forgets the waiter
      await agent.sendBatch(key(), { epoch: lease.epoch, operations: [{ op: 'delete', type: 'user', immutableId: holder }] });
      w = (await t.call('GET', `/api/v1/users/${waiterId}`, { token: admin })).body;
      assert.equal(w.userPrincipalName, 'DAR@contoso.skybridge.test');
      assert.equal((await t.call('GET', '/api/v1/sync/errors', { token: admin })).body.items.find((e: { immutableId: string }) => e.immutableId === waiter), undefined);
      // the agent's next upsert agrees with what the cloud now holds
      const settled = await agent.sendBatch(key(), { epoch: lease.epoch, operations: [waiterOp] });
      assert.equal(settled.results[0]!.quarantined, undefined);
      assert.notEqual(settled.results[0]!.status, 'error');
    });

    test('sync batches above the tenant\'s rate get 429 with Retry-After, and nothing of them is applied', async () => {
      const lease = await agent.acquireLease(60);
      const { rows } = await t.cloud.context.store.query<{ quotas: object }>('SELECT quotas FROM tenants WHERE id = $1', [tenant.tenantId]);
      // 60 operations a minute: a bucket of 10, one more each second
      await t.cloud.context.store.query(`UPDATE tenants SET quotas = jsonb_build_object('syncOperationsPerMinute', 60) WHERE id = $1`, [tenant.tenantId]);
      try {
        const ops = (n: number) => Array.from({ length: n }, (_, i) => ({ op: 'upsert' as const, type: 'contact' as const, immutableId: guid(), attributes: { displayName: `Throttled ${i}`, mail: `throttled${i}@fabrikam.example` } }));
        assert.equal((await agent.sendBatch(key(), { epoch: lease.epoch, operations: ops(10) })).results.length, 10);
        const token = (await agent.requestToken()).access_token;
        const refused = ops(5);
        const res = await t.call('POST', '/sync/v1/batches', { token, headers: { 'idempotency-key': key() }, body: { epoch: lease.epoch, operations: refused } });
        assert.equal(res.status, 429);
        assert.equal(res.body.code, 'rate_limited');
        assert.ok(res.body.retryAfter >= 1 && res.body.retryAfter <= 5, JSON.stringify(res.body));
        assert.equal(res.headers['retry-after'], String(res.body.retryAfter));
        const { rows: applied } = await t.cloud.context.store.query('SELECT 1 FROM directory_objects WHERE tenant_id = $1 AND immutable_id = $2', [tenant.tenantId, refused[0]!.immutableId]);
        assert.equal(applied.length, 0, 'a refused batch writes nothing');
      } finally {
        await t.cloud.context.store.query('UPDATE tenants SET quotas = $2 WHERE id = $1', [tenant.tenantId, JSON.stringify(rows[0]!.quotas)]);
      }
    });

    test('the object quota is enforced per object with the quota category', async () => {
      const lease = await agent.acquireLease(60);
      const { rows } = await t.cloud.context.store.query<{ object_count: number }>('SELECT object_count FROM tenants WHERE id = $1', [tenant.tenantId]);
      await t.cloud.context.store.query(`UPDATE tenants SET quotas = jsonb_build_object('maxObjects', $2::int) WHERE id = $1`, [tenant.tenantId, rows[0]!.object_count + 1]);
      try {
        const res = await agent.sendBatch(key(), {
          epoch: lease.epoch,
          operations: [1, 2].map((n) => ({ op: 'upsert' as const, type: 'contact' as const, immutableId: guid(), attributes: { displayName: `Contact ${n}`, mail: `c${n}@fabrikam.example` } })),
        });
        assert.deepEqual(res.results.map((r) => r.status), ['created', 'error']);
        assert.equal(res.results[1]!.error!.category, 'quota');
      } finally {
        await t.cloud.context.store.query(`UPDATE tenants SET quotas = '{}'::jsonb WHERE id = $1`, [tenant.tenantId]);
      }
    });

    test('a member change naming members the cloud does not hold makes the rest, and names those', async () => {
      const lease = await agent.acquireLease(60);
      const [member, leaver, absent, g] = [guid(), guid(), guid(), guid()];
      await agent.sendBatch(key(), {
        epoch: lease.epoch,
        operations: [
          ...[member, leaver].map((id, n) => ({ op: 'upsert' as const, type: 'user' as const, immutableId: id, attributes: { userPrincipalName: `partial${n}@contoso.skybridge.test` } })),
          { op: 'upsert', type: 'group', immutableId: g, attributes: { displayName: 'Partial' }, members: { add: [leaver] } },
        ],
      });
      const partialKey = key();
      const partial = { epoch: lease.epoch, operations: [{ op: 'upsert' as const, type: 'group' as const, immutableId: g, attributes: { displayName: 'Partial' }, members: { add: [member, absent], remove: [leaver, guid()] } }] };
      const res = await agent.sendBatch(partialKey, partial);
      assert.equal(res.results[0]!.status, 'updated', JSON.stringify(res.results));
      assert.deepEqual(res.results[0]!.missingMembers, [absent], 'only the add the cloud could not make (a removal of a member it does not hold is done)');
      // (the agent asked for it: Prefer: missing-members. An agent that does not gets the change refused whole, as before)
      const older = await t.call('POST', paths.sync.batches, {
        token: await agent.accessToken(), headers: { 'idempotency-key': key() },
        body: { epoch: lease.epoch, operations: [{ op: 'upsert', type: 'group', immutableId: g, attributes: { displayName: 'Partial' }, members: { add: [absent] } }] },
      });
      assert.equal(older.status, 201, JSON.stringify(older.body));
      assert.deepEqual([older.body.results[0].status, older.body.results[0].error.code, older.body.results[0].missingMembers], ['error', 'member_not_found', undefined]);
      // …and so does a replay of the batch made for an agent that asked: what such an agent expects
      const replayed = await t.call('POST', paths.sync.batches, { token: await agent.accessToken(), headers: { 'idempotency-key': partialKey }, body: partial });
      assert.equal(replayed.status, 200, JSON.stringify(replayed.body));
      assert.deepEqual([replayed.body.replayed, replayed.body.results[0].status, replayed.body.results[0].error.code], [true, 'error', 'member_not_found']);
      const memberIds = async () => {
        const { rows } = await t.cloud.context.store.query<{ immutable_id: string }>(
          `SELECT o.immutable_id FROM memberships m JOIN directory_objects o ON o.id = m.member_id JOIN directory_objects gr ON gr.id = m.group_id
            WHERE gr.immutable_id = $1 AND NOT m.removed ORDER BY 1`, [g]);
        return rows.map((r) => r.immutable_id);
      };
      assert.deepEqual(await memberIds(), [member], 'the other changes were made');
      const listed = () => t.call('GET', '/api/v1/sync/errors', { token: admin }).then((r) => r.body.items.find((e: { immutableId: string }) => e.immutableId === g));
      assert.deepEqual(await listed().then((e) => e && [e.code, e.attribute]), ['member_not_found', 'members']);
      // an update of the group's attributes alone leaves the entry: its members are still owed
      await agent.sendBatch(key(), { epoch: lease.epoch, operations: [{ op: 'upsert', type: 'group', immutableId: g, attributes: { displayName: 'Partial, renamed' } }] });
      assert.equal((await listed())?.code, 'member_not_found');
      // two member changes of the group in one batch, each missing a member, then a removal made in full: one entry,
      // which stays (members are still owed), and the batch goes through
      const two = await agent.sendBatch(key(), {
        epoch: lease.epoch,
        operations: [
          ...[absent, guid()].map((id) => ({ op: 'upsert' as const, type: 'group' as const, immutableId: g, attributes: { displayName: 'Partial' }, members: { add: [id] } })),
          { op: 'upsert', type: 'group', immutableId: g, attributes: { displayName: 'Partial' }, members: { remove: [guid()] } },
        ],
      });
      assert.deepEqual(two.results.map((r) => r.missingMembers?.length), [1, 1, undefined]);
      assert.equal((await listed())?.code, 'member_not_found');
      // the member arrives, the agent sends its link again: the group's entry goes
      const done = await agent.sendBatch(key(), {
        epoch: lease.epoch,
        operations: [
          { op: 'upsert', type: 'user', immutableId: absent, attributes: { userPrincipalName: 'partial2@contoso.skybridge.test' } },
          { op: 'upsert', type: 'group', immutableId: g, attributes: { displayName: 'Partial' }, members: { add: [absent] } },
        ],
      });
      assert.deepEqual(done.results.map((r) => [r.status, r.missingMembers]), [['created', undefined], ['updated', undefined]]);
      assert.deepEqual(await memberIds(), [member, absent].sort());
      assert.equal(await listed(), undefined);

      // a member missing again; then it leaves the group before it comes: a removal made in full leaves the entry,
      // a member change naming none (the agent owes the group none any more) ends it, unless a member change of the
      // group in the same batch leaves members out
      const gone = guid();
      await agent.sendBatch(key(), { epoch: lease.epoch, operations: [{ op: 'upsert', type: 'group', immutableId: g, attributes: { displayName: 'Partial' }, members: { add: [gone] } }] });
      await agent.sendBatch(key(), { epoch: lease.epoch, operations: [{ op: 'upsert', type: 'group', immutableId: g, attributes: { displayName: 'Partial' }, members: { remove: [gone] } }] });
      assert.equal((await listed())?.code, 'member_not_found', 'a removal alone says nothing of the adds owed');
      const settle = { op: 'upsert' as const, type: 'group' as const, immutableId: g, attributes: { displayName: 'Partial' }, members: {} };
      const mixed = await agent.sendBatch(key(), { epoch: lease.epoch, operations: [{ ...settle, members: { add: [guid()] } }, settle] });
      assert.deepEqual(mixed.results.map((r) => [r.status, r.missingMembers?.length]), [['unchanged', 1], ['unchanged', undefined]]);
      assert.equal((await listed())?.code, 'member_not_found', 'members left out in the same batch keep it');
      const settled = await agent.sendBatch(key(), { epoch: lease.epoch, operations: [settle] });
      assert.deepEqual(settled.results.map((r) => [r.status, r.missingMembers]), [['unchanged', undefined]]);
      assert.equal(await listed(), undefined);
      assert.deepEqual(await memberIds(), [member, absent].sort(), 'and changes no membership');
      // members missing, then the group deleted (it left the agent's scope): the entry goes with it
      await agent.sendBatch(key(), { epoch: lease.epoch, operations: [{ ...settle, members: { add: [guid()] } }] });
      assert.equal((await listed())?.code, 'member_not_found');
      const deleted = await agent.sendBatch(key(), { epoch: lease.epoch, operations: [{ op: 'delete', type: 'group', immutableId: g }] });
      assert.equal(deleted.results[0]!.status, 'deleted');
      assert.equal(await listed(), undefined);
    });

    test('the change feed returns the synced objects and memberships, tombstones included, from a cursor', async () => {
      const lease = await agent.acquireLease(60);
      const start = await drain(agent);
      const u1 = guid();
      const u2 = guid();
      const g = guid();
      await agent.sendBatch(key(), {
        epoch: lease.epoch,
        operations: [
          { op: 'upsert', type: 'user', immutableId: u1, attributes: { userPrincipalName: 'feed1@contoso.skybridge.test' } },
          { op: 'upsert', type: 'user', immutableId: u2, attributes: { userPrincipalName: 'feed2@contoso.skybridge.test' } },
          { op: 'upsert', type: 'group', immutableId: g, attributes: { displayName: 'Feed' }, members: { add: [u1, u2] } },
        ],
      });
      await agent.sendBatch(key(), { epoch: lease.epoch, operations: [{ op: 'delete', type: 'user', immutableId: u2 }] });
      const changes = await drain(agent, start.cursor, 2);
      const objects = changes.items.filter((c) => c.kind === 'object');
      assert.deepEqual(objects.map((o) => [o.immutableId, o.deleted]), [[u1, false], [g, false], [u2, true]]);
      const links = changes.items.filter((c) => c.kind === 'membership');
      assert.deepEqual(links.map((l) => [l.memberImmutableId, l.removed]), [[u1, false], [u2, true]]);
      const seqs = changes.items.map((c) => Number(c.seq));
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
      // kinds=object: the same objects, no membership links (what the agent's export confirmation reads)
      const objectsOnly = await agent.changes(start.cursor, 100, { objectsOnly: true });
      assert.deepEqual(objectsOnly.changes.map((c) => c.kind === 'object' && [c.immutableId, c.deleted]), [[u1, false], [g, false], [u2, true]]);
      const versionsOnly = await agent.changes(start.cursor, 100, { objectsOnly: true, withoutAttributes: true });
      assert.deepEqual(versionsOnly.changes.map((c) => c.kind === 'object' && [c.immutableId, c.version > 0, c.attributes]), [[u1, true, null], [g, true, null], [u2, true, null]]);
      // nothing new: the cursor stays where it is
      const none = await agent.changes(changes.cursor);
      assert.deepEqual(none.changes, []);
      assert.equal(none.cursor, changes.cursor);
      // a restored object comes back with its id
      await agent.sendBatch(key(), { epoch: lease.epoch, operations: [{ op: 'upsert', type: 'user', immutableId: u2, attributes: { userPrincipalName: 'feed2@contoso.skybridge.test' } }] });
      const restored = await agent.changes(changes.cursor);
      assert.equal(restored.changes.length, 1);
      assert.equal(restored.changes[0]!.kind === 'object' && restored.changes[0]!.deleted, false);
    });

    test('lease: one active syncer; a takeover raises the epoch and the stale epoch is refused', async () => {
      const standby = await registerTestAgent(t, tenant, admin, 'dc-sync-02');
      const lease = await agent.acquireLease(60);
      await assert.rejects(standby.acquireLease(60), (err: CloudApiError) => err.code === 'lease_held' && err.problem.holderAgentId === agent.credentials.agentId);
      const renewed = await agent.acquireLease(60);
      assert.equal(renewed.epoch, lease.epoch, 'renewal keeps the epoch');
      // the lease expires (the active agent stopped renewing): simulate the passing of its TTL
      await t.cloud.context.store.query(`UPDATE sync_leases SET expires_at = now() - interval '1 second' WHERE tenant_id = $1`, [tenant.tenantId]);
      const taken = await standby.acquireLease(60);
      assert.equal(taken.epoch, lease.epoch + 1);
      assert.equal(taken.holderAgentId, standby.credentials.agentId);
      const op = { op: 'upsert' as const, type: 'user' as const, immutableId: guid(), attributes: { userPrincipalName: 'late@contoso.skybridge.test' } };
      await assert.rejects(agent.sendBatch(key(), { epoch: lease.epoch, operations: [op] }), (err: CloudApiError) => err.code === 'stale_epoch' && err.status === 409);
      const users = await t.call('GET', '/api/v1/users?limit=1000', { token: admin });
      assert.ok(!users.body.items.some((u: { userPrincipalName: string }) => u.userPrincipalName === 'late@contoso.skybridge.test'), 'a refused batch writes nothing');
      const ok = await standby.sendBatch(key(), { epoch: taken.epoch, operations: [op] });
      assert.equal(ok.results[0]!.status, 'created');
      // a clean release hands over at once
      await standby.releaseLease(taken.epoch);
      const back = await agent.acquireLease(60);
      assert.equal(back.epoch, taken.epoch + 1);
    });

    test('heartbeat is reported in the agent list; the channel carries a ping end to end', async () => {
      await agent.heartbeat({ version: '0.1.0', role: 'active', lastCycle: { kind: 'delta', startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), adds: 3, updates: 1, deletes: 0, errors: 2 }, errorCounts: { duplicate_attribute: 2 } });
      let pings = 0;
      const ws = await agent.openChannel({ onRequest: async (req) => { pings++; return { pong: req.kind }; } }, '0.1.0');
      try {
        const one = await t.call('GET', `/api/v1/agents/${agent.credentials.agentId}`, { token: admin });
        assert.equal(one.body.health.role, 'active');
        assert.equal(one.body.outdated, false, 'the current release');
        assert.equal(one.body.health.errorCounts.duplicate_attribute, 2);
        assert.equal(one.body.channel.connected, true);
        const ping = await t.call('POST', `/api/v1/agents/${agent.credentials.agentId}/ping`, { token: admin });
        assert.equal(ping.status, 200, JSON.stringify(ping.body));
        assert.deepEqual(ping.body.payload, { pong: 'ping' });
        assert.equal(pings, 1);
      } finally {
        ws.close();
      }
    });

    test('an agent older than the release the cloud ships is flagged outdated', async () => {
      const old = await registerTestAgent(t, tenant, admin, 'old-host');
      await old.heartbeat({ version: '0.0.9', role: 'standby' });
      const listed = ((await t.call('GET', '/api/v1/agents', { token: admin })).body.items as { id: string; outdated: boolean; currentVersion: string }[]).find((a) => a.id === old.credentials.agentId)!;
      assert.deepEqual({ outdated: listed.outdated, current: listed.currentVersion }, { outdated: true, current: currentAgentVersion });
      await t.call('DELETE', `/api/v1/agents/${old.credentials.agentId}`, { token: admin });
    });

    test('an agent gone silent and a synchronization that stopped are alerts, until the agent reports again', async () => {
      const alerts = async () => ((await t.call('GET', '/api/v1/sync/alerts', { token: admin })).body.items as { code: string; agentId: string | null; message: string }[]);
      const store = t.cloud.context.store;
      // the clock moves on: the last heartbeat 20 minutes ago, the last finished cycle 3 hours ago
      const threeHoursAgo = new Date(Date.now() - 3 * 3600_000).toISOString();
      await store.query(`UPDATE agents SET last_heartbeat_at = now() - interval '20 minutes', health = jsonb_set(health, '{lastCycle,finishedAt}', to_jsonb($2::text)) WHERE id = $1`, [agent.credentials.agentId, threeHoursAgo]);
      await store.query('UPDATE tenants SET dir_sync_enabled = true WHERE id = $1', [tenant.tenantId]);
      // the channel the test before closed is gone (its close reaches the cloud a moment later)
      for (let i = 0; i < 100 && t.cloud.context.channels.isConnected(agent.credentials.agentId); i++) await new Promise((r) => setTimeout(r, 20));
      const raised = await alerts();
      const silent = raised.find((a) => a.code === 'agent_silent' && a.agentId === agent.credentials.agentId);
      assert.ok(silent, JSON.stringify(raised));
      assert.match(silent!.message, /has not reported since/);
      assert.match(raised.find((a) => a.code === 'sync_stopped')!.message, new RegExp(`No synchronization cycle finished since ${threeHoursAgo.slice(0, 16)}`));
      // an open channel is a sign of life too
      const ws = await agent.openChannel({ onRequest: async () => null }, '0.1.0');
      try {
        assert.ok(!(await alerts()).some((a) => a.code === 'agent_silent' && a.agentId === agent.credentials.agentId));
      } finally {
        ws.close();
      }
      await agent.heartbeat({ version: '0.1.0', role: 'active', lastCycle: { kind: 'delta', startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), adds: 0, updates: 0, deletes: 0, errors: 0 } });
      const after = await alerts();
      assert.ok(!after.some((a) => a.code === 'agent_silent' && a.agentId === agent.credentials.agentId));
      assert.ok(!after.some((a) => a.code === 'sync_stopped'));
    });

    test('the channel refuses a connection without a valid agent token', async () => {
      const withToken = (token: string) => {
        const client = new CloudClient({ ...agent.credentials });
        Object.defineProperty(client, 'accessToken', { value: async () => token });
        return client;
      };
      // an API client (not an agent) cannot open the channel, nor can a caller without a valid token
      await assert.rejects(withToken(admin).openChannel({ onRequest: async () => null }, '0'), (err: CloudApiError) => err.status === 403);
      await assert.rejects(withToken('not-a-token').openChannel({ onRequest: async () => null }, '0'), (err: CloudApiError) => err.status === 401);
    });

    test('removing an agent revokes its credentials at once and ends the lease it holds', async () => {
      const doomed = await registerTestAgent(t, tenant, admin, 'old-host');
      const token = await doomed.accessToken();
      await agent.acquireLease(60).then((l) => agent.releaseLease(l.epoch)).catch(() => undefined);
      const held = await doomed.acquireLease(600);
      assert.equal((await t.call('DELETE', `/api/v1/agents/${doomed.credentials.agentId}`, { token: admin })).status, 204);
      // another agent takes over at once, with a new epoch
      const next = await agent.acquireLease(60);
      assert.equal(next.holderAgentId, agent.credentials.agentId);
      assert.ok(next.epoch > held.epoch);
      const res = await t.call('POST', '/agents/v1/heartbeat', { token, body: { version: '0.1.0', role: 'standby' } });
      assert.equal(res.status, 401);
      await assert.rejects(doomed.requestToken(), (err: CloudApiError) => err.code === 'invalid_client');
    });
  });
}

type Change = Awaited<ReturnType<CloudClient['changes']>>['changes'][number];
async function drain(agent: CloudClient, cursor?: string, limit?: number): Promise<{ items: Change[]; cursor: string }> {
  const items: Change[] = [];
  for (let page = 0; page < 10_000; page++) {
    const res = await agent.changes(cursor, limit);
    items.push(...res.changes);
    cursor = res.cursor;
    if (!res.hasMore) return { items, cursor };
  }
  throw new Error('change feed did not end');
}
