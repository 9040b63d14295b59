/**
 * Password hash synchronization, the cloud's end: the active agent sends
 * v1 hashes by immutable id, the cloud keeps them under its own keyed
 * layer, and synchronized users sign in with their on-premises password
 * through the tenant's OpenID Connect provider (a real relying party and a
 * browser). The switch gates everything and clears the hashes when off.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { CreatedTenant } from '@skybridge/cloud';
import { CloudApiError, type CloudClient } from '@skybridge/connect';
import { passwordHashFromNtHash } from '@skybridge/protocol';
import { storeKinds } from '../helpers/stores.ts';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { signInKit } from '../helpers/sign-in-kit.ts';
import { registerTestAgent } from '../helpers/agent.ts';
import { ntHashOf } from '../../src/signin/synced-password.ts';

const guid = () => randomBytes(16).toString('base64');
const hashOf = async (password: string) => passwordHashFromNtHash(await ntHashOf(password));

for (const kind of storeKinds) {
  describe(`password hash synchronization (${kind})`, () => {
    let t: TestCloud;
    let tenant: CreatedTenant;
    let admin: string;
    let agent: CloudClient;
    let epoch: number;
    let kit: ReturnType<typeof signInKit>;
    const grace = { immutableId: guid(), upn: '', password: 'Gr4ce-on-prem!' };
    const alan = { immutableId: guid(), upn: '' };
    const signIns = async () => (await t.call('GET', '/api/v1/sign-ins?limit=50', { token: admin })).body.items as any[];
    const signIn = async (username: string, password: string) => {
      const b = kit.browser();
      return b.submit((await kit.authorize(b, 'app')).page, { username, password });
    };

    before(async () => {
      t = await startTestCloud(kind);
      tenant = await t.createTenant('fabrikam');
      admin = await t.token(tenant);
      kit = signInKit(t, tenant, admin);
      await kit.register('app');
      grace.upn = `grace@${tenant.initialDomain}`;
      alan.upn = `alan@${tenant.initialDomain}`;
      agent = await registerTestAgent(t, tenant, admin);
      epoch = (await agent.acquireLease(60)).epoch;
      await agent.sendBatch(`phs-${randomUUID()}`, {
        epoch,
        operations: [grace, alan].map((u) => ({ op: 'upsert' as const, type: 'user' as const, immutableId: u.immutableId, attributes: { userPrincipalName: u.upn, displayName: u.upn } })),
      });
    });
    after(() => t?.close());

    test('hashes are refused while the switch is off; on, they are stored by immutable id, unknown ids and foreign formats reported', async () => {
      const off = await agent.sendPasswordHashes({ epoch, hashes: [{ immutableId: grace.immutableId, passwordHash: await hashOf(grace.password) }] }).catch((e) => e);
      assert.ok(off instanceof CloudApiError && off.code === 'password_hash_sync_disabled', String(off));
      assert.equal((await t.call('PATCH', '/api/v1/tenant', { token: admin, body: { passwordHashSync: true } })).body.passwordHashSync, true);

      const { results } = await agent.sendPasswordHashes({
        epoch,
        hashes: [
          { immutableId: grace.immutableId, passwordHash: await hashOf(grace.password) },
          { immutableId: guid(), passwordHash: await hashOf('nobody') },
          { immutableId: alan.immutableId, passwordHash: 'v1;PPH1_MD4,zz,1000,abc;' },
        ],
      });
      assert.deepEqual(results.map((r) => r.status), ['stored', 'not_found', 'invalid']);
      const stale = await agent.sendPasswordHashes({ epoch: epoch + 1, hashes: [{ immutableId: grace.immutableId, passwordHash: await hashOf('x') }] }).catch((e) => e);
      assert.ok(stale instanceof CloudApiError && stale.code === 'stale_epoch', String(stale));

      // what is stored is the cloud's keyed layer, never the agent's hash itself
      const { rows } = await t.cloud.context.store.query<{ synced_password_hash: string }>('SELECT synced_password_hash FROM directory_objects WHERE immutable_id = $1', [grace.immutableId]);
      assert.match(rows[0]!.synced_password_hash, /^k1;PPH1_MD4,[0-9a-f]{20},1000;[0-9a-f]{64}$/);
    });

    test('a synchronized user signs in with the on-premises password; a wrong one fails; a user without a hash yet is told so', async () => {
      kit.atApp(await signIn(grace.upn, grace.password), 'app');
      const wrong = await signIn(grace.upn, 'not-her-password');
      assert.equal(wrong.status, 401);
      const log = await signIns();
      assert.equal(log.find((e) => e.result === 'success')?.method, 'password_hash_sync');
      assert.ok(log.some((e) => e.result === 'failure' && e.method === 'password_hash_sync' && e.failureReason === 'invalid_password'));
      const waiting = await signIn(alan.upn, 'whatever');
      assert.equal(waiting.status, 400);
      assert.match(waiting.text, /has not reached the cloud/);
    });

    test('a password change replaces the hash; a cleared hash or a disabled account cannot sign in', async () => {
      await agent.sendPasswordHashes({ epoch, hashes: [{ immutableId: grace.immutableId, passwordHash: await hashOf('N3w-password!') }] });
      assert.equal((await signIn(grace.upn, grace.password)).status, 401, 'the old password fails');
      kit.atApp(await signIn(grace.upn, 'N3w-password!'), 'app');

      await agent.sendBatch(`phs-${randomUUID()}`, { epoch, operations: [{ op: 'upsert', type: 'user', immutableId: grace.immutableId, attributes: { userPrincipalName: grace.upn, displayName: grace.upn, accountEnabled: false } }] });
      assert.equal((await signIn(grace.upn, 'N3w-password!')).status, 403);
      await agent.sendBatch(`phs-${randomUUID()}`, { epoch, operations: [{ op: 'upsert', type: 'user', immutableId: grace.immutableId, attributes: { userPrincipalName: grace.upn, displayName: grace.upn, accountEnabled: true } }] });

      const cleared = await agent.sendPasswordHashes({ epoch, hashes: [{ immutableId: grace.immutableId, passwordHash: null }] });
      assert.equal(cleared.results[0]!.status, 'cleared');
      assert.match((await signIn(grace.upn, 'N3w-password!')).text, /has not reached the cloud/);
    });

    test('"must change password at next logon": honoured when the tenant says so, until a new hash comes without it', async () => {
      await agent.sendPasswordHashes({ epoch, hashes: [{ immutableId: grace.immutableId, passwordHash: await hashOf(grace.password), mustChangePassword: true }] });
      kit.atApp(await signIn(grace.upn, grace.password), 'app');
      assert.equal((await t.call('PATCH', '/api/v1/tenant', { token: admin, body: { forcePasswordChangeOnLogOn: true } })).body.forcePasswordChangeOnLogOn, true);
      const refused = await signIn(grace.upn, grace.password);
      assert.equal(refused.status, 403);
      assert.match(refused.text, /change your password before you sign in/);
      assert.equal((await signIns())[0].failureReason, 'password_change_required');
      // a wrong password says nothing about the flag
      assert.equal((await signIn(grace.upn, 'wrong-one')).status, 401);
      await agent.sendPasswordHashes({ epoch, hashes: [{ immutableId: grace.immutableId, passwordHash: await hashOf('Changed-on-prem-1!') }] });
      kit.atApp(await signIn(grace.upn, 'Changed-on-prem-1!'), 'app');
      await agent.sendPasswordHashes({ epoch, hashes: [{ immutableId: grace.immutableId, passwordHash: await hashOf(grace.password) }] });
    });

    test('the agents\' heartbeats raise an alert when password hash sync fails, or has not run for two hours', async () => {
      const alerts = async () => ((await t.call('GET', '/api/v1/sync/alerts', { token: admin })).body.items as { code: string; message: string }[]).filter((a) => a.code.startsWith('password_hash_sync'));
      const beat = (phs: object) => agent.heartbeat({ version: '0.1.0', role: 'active', passwordHashSync: phs as never });
      await beat({ lastRunAt: new Date().toISOString(), ok: true, synced: 2, errors: 0 });
      assert.deepEqual(await alerts(), []);
      await beat({ lastRunAt: new Date().toISOString(), ok: false, error: 'the connector account lacks "Replicating Directory Changes All"', synced: 2, errors: 0 });
      const failing = await alerts();
      assert.equal(failing[0]?.code, 'password_hash_sync_failing');
      assert.match(failing[0]!.message, /Replicating Directory Changes All/);
      await beat({ lastRunAt: new Date(Date.now() - 3 * 3600_000).toISOString(), ok: true, synced: 2, errors: 0 });
      assert.equal((await alerts())[0]?.code, 'password_hash_sync_stale');
      await beat({ lastRunAt: new Date().toISOString(), ok: true, synced: 2, errors: 0 });
      assert.deepEqual(await alerts(), []);
    });

    test('turning the switch off clears every synchronized hash; another tenant\'s agent reaches none of them', async () => {
      await agent.sendPasswordHashes({ epoch, hashes: [{ immutableId: grace.immutableId, passwordHash: await hashOf(grace.password) }] });
      const other = await t.createTenant('northwind');
      const otherAdmin = await t.token(other);
      await t.call('PATCH', '/api/v1/tenant', { token: otherAdmin, body: { passwordHashSync: true } });
      const intruder = await registerTestAgent(t, other, otherAdmin, 'dc-other');
      const { epoch: otherEpoch } = await intruder.acquireLease(60);
      const foreign = await intruder.sendPasswordHashes({ epoch: otherEpoch, hashes: [{ immutableId: grace.immutableId, passwordHash: await hashOf('taken-over') }] });
      assert.equal(foreign.results[0]!.status, 'not_found');
      kit.atApp(await signIn(grace.upn, grace.password), 'app');

      await t.call('PATCH', '/api/v1/tenant', { token: admin, body: { passwordHashSync: false } });
      const { rows } = await t.cloud.context.store.query<{ n: string | number }>('SELECT count(*) AS n FROM directory_objects WHERE tenant_id = $1 AND synced_password_hash IS NOT NULL', [tenant.tenantId]);
      assert.equal(Number(rows[0]!.n), 0);
      assert.match((await signIn(grace.upn, grace.password)).text, /not turned on/);
    });
  });
}
