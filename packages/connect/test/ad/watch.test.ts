/**
 * Following changes: a change made over LDAP reaches the connector space
 * within about a second through change notification, and an idle agent sends
 * nothing at all (counted by a TCP proxy in front of the real DC).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Attribute, Change, type Client } from 'ldapts';
import { AdImporter, type ImportSummary } from '../../src/ad/importer.ts';
import { ImportWatcher } from '../../src/ad/import-watcher.ts';
import { ConnectorSpace } from '../../src/space/connector-space.ts';
import { adminClient } from '../../../../scripts/test-dc/seed.ts';
import { agentConfig, smallDc, type AgentFiles, type SmallDirectory, type TestDc } from '../helpers/ad.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, ms: number): Promise<number> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await sleep(5);
  }
  return performance.now() - start;
}

describe('watching for changes', () => {
  let dc: TestDc;
  let seed: SmallDirectory;
  let proxy: TcpProxy;
  let files: AgentFiles;
  let space: ConnectorSpace;
  let watcher: ImportWatcher;
  let admin: Client;
  const runs: ImportSummary[] = [];
  const errors: Error[] = [];

  before(async () => {
    ({ dc, seed } = await smallDc());
    proxy = await startTcpProxy({ host: dc.ip, port: 636 });
    // The agent reaches the DC only through the proxy; pollIntervalSeconds 0: notifications alone.
    files = agentConfig(dc, { servers: [`ldaps://127.0.0.1:${proxy.port}`], pollIntervalSeconds: 0 });
    space = ConnectorSpace.open(files.loaded.config.stateDirectory);
    const { activeDirectory } = files.loaded.config;
    const importer = new AdImporter(activeDirectory, files.loaded.secrets.adPassword, space);
    watcher = new ImportWatcher(importer, activeDirectory, files.loaded.secrets.adPassword, {
      onRun: (s) => runs.push(s),
      onError: (e) => errors.push(e),
      onNotifierError: (e) => errors.push(e),
    });
    admin = await adminClient(dc);
  });
  after(async () => {
    await watcher?.stop();
    await admin?.unbind();
    space?.close();
    files?.cleanup();
    await proxy?.close();
    await dc?.stop();
  });

  test('starts with a full import, then waits', async () => {
    await watcher.start();
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.kind, 'full');
    assert.deepEqual(errors, []);
  });

  test('an idle agent sends nothing beyond its notification wait', async () => {
    await watcher.idle();
    await sleep(200);
    proxy.reset();
    // Longer than Samba's 5 s re-check of pending notifications.
    await sleep(6000);
    assert.equal(proxy.clientBytes, 0, 'no request left the agent');
    assert.equal(proxy.connections, 0, 'no new connection');
    assert.equal(runs.length, 1, 'no import ran');
  });

  test('a change made over LDAP is imported within about a second', async () => {
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const u = seed.users[i]!;
      const title = `Watched ${i} ${Date.now()}`;
      const started = performance.now();
      await admin.modify(u.dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: [title] }) }));
      await until(() => space.getByDn(u.dn)?.attributes.title?.[0] === title, 5000);
      latencies.push(performance.now() - started);
      await watcher.idle();
    }
    latencies.sort((a, b) => a - b);
    console.log(`change-to-connector-space latency over LDAPS: median ${latencies[2]!.toFixed(0)} ms, max ${latencies[4]!.toFixed(0)} ms`);
    assert.ok(runs.slice(1).every((r) => r.kind === 'delta'));
    assert.deepEqual(errors, []);
  });

  test('a lost notification connection reconnects and catches up', async () => {
    proxy.cutAll();
    const u = seed.users[6]!;
    await admin.modify(u.dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: ['After Reconnect'] }) }));
    await until(() => space.getByDn(u.dn)?.attributes.title?.[0] === 'After Reconnect', 15_000);
    assert.ok(errors.some((e) => /closed|lost|socket/i.test(e.message)), 'the loss was reported');
    assert.ok(runs.every((r) => r.deleted === 0), 'nothing was deleted');
  });
});
