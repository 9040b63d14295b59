/**
 * `skybridge connect run` as a service: Prometheus metrics on a loopback
 * port (cycles, exports, pass-through answers, the process's own), JSON
 * logs one object per line, and a clean stop on SIGTERM, against the Samba
 * DC and a real cloud.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { Attribute, Change } from 'ldapts';
import { cliMain } from '../../cloud/test/helpers/cli.ts';
import { passThroughAuthenticate } from '../../cloud/src/signin/pass-through.ts';
import { asDomainAdmin, startSyncWorld, stopSyncWorld, type SyncWorld } from './helpers/sync.ts';

const freePort = () => new Promise<number>((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  });
});
const get = (url: string) => new Promise<{ status: number; text: string }>((resolve, reject) => {
  request(url, (res) => {
    let text = '';
    res.on('data', (d: Buffer) => (text += d));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
  }).on('error', reject).end();
});
/** The value of one sample of a metric in Prometheus text format (0 when absent). */
const sample = (text: string, name: string, labels = '') => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

describe('connect run: metrics, JSON logs, clean stop (pglite)', () => {
  let w: SyncWorld;
  let agent: ChildProcess;
  let out = '';
  let metricsUrl = '';
  let exit: Promise<number | null>;
  const waitFor = async (what: string, check: () => Promise<boolean> | boolean) => {
    for (let i = 0; i < 200; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`timed out waiting for ${what}: ${out.slice(-1500)}`);
  };

  before(async () => {
    w = await startSyncWorld('pglite', 'service');
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    agent = spawn(process.execPath, [cliMain, 'connect', 'run', '--config', w.files.configPath, '--metrics', `127.0.0.1:${port}`, '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    agent.stdout!.on('data', (d: Buffer) => (out += d));
    agent.stderr!.on('data', (d: Buffer) => (out += d));
    exit = new Promise((resolve) => agent.once('exit', (code) => resolve(code)));
    await waitFor('the agent to run', () => /"msg":"running/.test(out));
  });
  after(async () => {
    if (agent && agent.exitCode === null) agent.kill('SIGKILL');
    await stopSyncWorld(w);
  });

  test('metrics count the first cycle and what it exported, and the process\'s own', async () => {
    await waitFor('a finished cycle in the metrics', async () => sample((await get(metricsUrl)).text, 'skybridge_connect_cycles_total', 'kind="full",result="ok"') >= 1);
    const m = await get(metricsUrl);
    assert.equal(m.status, 200);
    assert.ok(sample(m.text, 'skybridge_connect_objects_exported_total', 'operation="created"') > 30, 'the first sync created the directory');
    assert.ok(sample(m.text, 'skybridge_connect_process_resident_memory_bytes') > 0);
    assert.ok(sample(m.text, 'skybridge_connect_last_cycle_timestamp_seconds') > Date.now() / 1000 - 120);
    assert.equal((await get(metricsUrl.replace('/metrics', '/healthz'))).status, 200);
    assert.equal((await get(metricsUrl.replace('/metrics', '/nothing'))).status, 404);

    // a change in AD: one more cycle, one update
    const before = sample(m.text, 'skybridge_connect_objects_exported_total', 'operation="updated"');
    await asDomainAdmin(w.dc, (c) => c.modify(w.seed.users[0]!.dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: [`Measured ${Date.now()}`] }) })));
    await waitFor('the update in the metrics', async () => sample((await get(metricsUrl)).text, 'skybridge_connect_objects_exported_total', 'operation="updated"') > before);
  });

  test('a pass-through authentication answered by the agent is counted with its outcome and time', async () => {
    await waitFor('the agent\'s channel', () => w.t.cloud.context.channels.connectedAgents(w.tenant.tenantId).length === 1);
    const { user, password } = w.seed.passwordUsers[0]!;
    assert.equal((await passThroughAuthenticate(w.t.cloud.context, w.tenant.tenantId, user.userPrincipalName!, password)).outcome, 'success');
    assert.equal((await passThroughAuthenticate(w.t.cloud.context, w.tenant.tenantId, user.userPrincipalName!, 'wrong-password')).outcome, 'invalid_credentials');
    const m = (await get(metricsUrl)).text;
    assert.equal(sample(m, 'skybridge_connect_pass_through_total', 'outcome="success"'), 1);
    assert.equal(sample(m, 'skybridge_connect_pass_through_total', 'outcome="invalid_credentials"'), 1);
    assert.equal(sample(m, 'skybridge_connect_pass_through_duration_seconds_count'), 2);
  });

  test('every log line is one JSON object with time, level and message, and no password; SIGTERM stops it cleanly', async () => {
    agent.kill('SIGTERM');
    assert.equal(await exit, 0);
    const lines = out.trim().split('\n');
    assert.ok(lines.length >= 3);
    for (const line of lines) {
      const entry = JSON.parse(line) as { level: number; time: string; msg: string; service: string };
      assert.equal(entry.service, 'skybridge-connect');
      assert.ok(entry.msg && entry.level && entry.time, line);
    }
    assert.ok(lines.some((l) => JSON.parse(l).msg === 'stopping'));
    assert.ok(!out.includes(w.seed.passwordUsers[0]!.password), 'no password in the log');
    await assert.rejects(get(metricsUrl), 'the metrics server is closed');
  });
});
