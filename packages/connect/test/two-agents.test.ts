/**
 * Several agents per tenant: two `skybridge connect run` processes follow
 * the same domain; one is killed (SIGKILL, mid-cycle or not); the other
 * carries on, and the next change in AD reaches the cloud within a minute
 * (the sync lease is 45 s and only one agent exports at a time).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { Attribute, Change } from 'ldapts';
import { cliMain } from '../../cloud/test/helpers/cli.ts';
import { asDomainAdmin, registeredAgent, startSyncWorld, stopSyncWorld, type SyncWorld } from './helpers/sync.ts';

describe('two agents, one killed: synchronization continues on the other (pglite)', () => {
  let w: SyncWorld;
  const agents: { child: ChildProcess; out: string }[] = [];
  const titleInCloud = async (upn: string) =>
    ((await w.t.call('GET', `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${upn}"`)}&attributes=title`, { token: w.token })).body.Resources?.[0]?.title as string | undefined);
  const setTitle = (dn: string, title: string) => asDomainAdmin(w.dc, (c) => c.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: [title] }) })));
  const waitFor = async (what: string, ms: number, check: () => Promise<boolean>) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail(`${what} did not happen within ${ms / 1000} s: ${agents.map((a) => a.out.slice(-800)).join('\n---\n')}`);
  };

  before(async () => {
    w = await startSyncWorld('pglite', 'pair');
    const second = await registeredAgent(w.dc, w.t, w.token);
    for (const files of [w.files, second]) {
      const a = { child: spawn(process.execPath, [cliMain, 'connect', 'run', '--config', files.configPath], { stdio: ['ignore', 'pipe', 'pipe'] }), out: '' };
      a.child.stdout!.on('data', (d: Buffer) => (a.out += d));
      a.child.stderr!.on('data', (d: Buffer) => (a.out += d));
      agents.push(a);
    }
    await waitFor('both agents running', 60_000, async () => agents.every((a) => /running/.test(a.out)));
  });
  after(async () => {
    for (const a of agents) a.child.kill('SIGKILL');
    await stopSyncWorld(w);
  });

  test('a change syncs; the first agent is killed mid-cycle; the next change syncs through the second within a minute', async () => {
    const user = w.seed.users[3]!;
    const first = `Before ${Date.now()}`;
    await setTitle(user.dn, first);
    await waitFor('the first change in the cloud', 60_000, async () => (await titleInCloud(user.userPrincipalName!)) === first);

    // a change, and the first agent dies as it notices it (possibly holding the lease)
    await setTitle(user.dn, `Lost? ${Date.now()}`);
    agents[0]!.child.kill('SIGKILL');
    const killedAt = Date.now();
    const second = `After ${Date.now()}`;
    await setTitle(user.dn, second);
    await waitFor('the change after the kill in the cloud', 60_000, async () => (await titleInCloud(user.userPrincipalName!)) === second);
    assert.ok(Date.now() - killedAt < 60_000, `taken over in ${Math.round((Date.now() - killedAt) / 1000)} s`);
    assert.equal(agents[1]!.child.exitCode, null, 'the second agent still runs');
  });
});
