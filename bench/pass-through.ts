/**
 * Sign-in throughput of synchronized users, each next to its raw limit
 * measured in the same run:
 *
 * - pass-through authentication through one agent (`skybridge connect run`,
 *   its own process): the cloud encrypts the password to the agent, sends
 *   it over the channel, the agent binds to AD over LDAPS as the user and
 *   answers. Beside it, raw LDAPS binds of the same users against the same
 *   DC, the way the agent binds (a new connection per bind) and rebinding on
 *   kept connections (the DC's ceiling).
 * - password hash synchronization: the cloud's verification of a typed
 *   password against the synchronized hash (the function sign-in uses),
 *   and whole hosted sign-ins (authorization request, the sign-in form,
 *   the code) per second.
 *
 *   node bench/pass-through.ts [--users 2000] [--seconds 10] [--concurrency 16]
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Client } from 'ldapts';
import { passThroughAuthenticate } from '../packages/cloud/src/signin/pass-through.ts';
import { verifySyncedPassword } from '../packages/cloud/src/signin/synced-password.ts';
import { startTestCloud } from '../packages/cloud/test/helpers/cloud.ts';
import { signInKit } from '../packages/cloud/test/helpers/sign-in-kit.ts';
import { userEntry } from '../scripts/test-dc/seed.ts';
import { grantOnRunningDc, startTestDc, type TestDc } from '../scripts/test-dc/test-dc.ts';
import { passwordOf, seedWithPasswords } from './lib/ad-templates.ts';
import { benchAgent, cliMain, startAgentRun } from './lib/bench-agent.ts';
import { agentFlags, time } from './lib/child-process.ts';

const { values } = parseArgs({ options: { users: { type: 'string', default: '2000' }, seconds: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '16' } } });
const size = Number(values.users);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const upnOf = (dc: TestDc, i: number) => userEntry({ index: i, ou: `OU=Bench,${dc.baseDn}`, dnsDomain: dc.dnsDomain }).user.userPrincipalName!;

/** Runs `op` from `workers` loops for `ms`; returns the rate and each operation's latency. */
async function load(workers: number, ms: number, op: (n: number) => Promise<void>): Promise<{ rate: number; latencies: number[] }> {
  const latencies: number[] = [];
  const end = performance.now() + ms;
  let n = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: workers }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await op(n++);
      latencies.push(performance.now() - t0);
    }
  }));
  return { rate: latencies.length / ((performance.now() - started) / 1000), latencies };
}

const tlsFor = (dc: TestDc) => ({ ca: [readFileSync(dc.caFile)], servername: dc.hostName });

process.stderr.write(`users-with-passwords-${size}: starting the DC and the cloud\n`);
const dc = await startTestDc({ seed: seedWithPasswords(size) });
const t = await startTestCloud('pglite');
const lines: string[] = [];
let agent: ChildProcess | undefined;
try {
  await grantOnRunningDc(dc, dc.baseDn, (sid) => `(OA;;CR;1131f6ad-9c07-11d1-f79f-00c04fc2dcd2;;${sid})`);
  const { tenant, token, files } = await benchAgent(dc, t, { sync: { deleteThreshold: '100%' }, passwordHashSync: { enabled: true } });
  await t.call('PATCH', '/api/v1/tenant', { token, body: { passwordHashSync: true, passThroughAuthentication: true } });
  await time(process.execPath, [...agentFlags, cliMain, 'connect', 'sync', '--full', '--json', '--config', files.configPath], {});

  const tls = tlsFor(dc);
  const window = seconds * 1000;
  // raw: a new LDAPS connection per bind, as the agent binds
  const rawNew = await load(concurrency, window, async (n) => {
    const c = new Client({ url: dc.ldapsUrl, tlsOptions: tls });
    try { await c.bind(upnOf(dc, n % size), passwordOf(n % size)); } finally { await c.unbind().catch(() => {}); }
  });
  // raw: rebinding on kept connections, the DC's ceiling
  const kept = Array.from({ length: concurrency }, () => new Client({ url: dc.ldapsUrl, tlsOptions: tls }));
  let k = 0;
  const rawKept = await load(concurrency, window, async (n) => {
    await kept[k++ % concurrency]!.bind(upnOf(dc, n % size), passwordOf(n % size));
  });
  for (const c of kept) await c.unbind().catch(() => {});

  // pass-through through one agent
  agent = (await startAgentRun(files.configPath)).child;
  for (let i = 0; i < 300 && t.cloud.context.channels.connectedAgents(tenant.tenantId).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  let failures = 0;
  const pta = await load(concurrency, window, async (n) => {
    const r = await passThroughAuthenticate(t.cloud.context, tenant.tenantId, upnOf(dc, n % size), passwordOf(n % size));
    if (r.outcome !== 'success' && failures++ === 0) process.stderr.write(`  a pass-through failed: ${JSON.stringify(r)}\n`);
  });

  // password hash sync: the verifier, and whole hosted sign-ins
  const { rows } = await t.cloud.context.store.query<{ upn: string; synced_password_hash: string }>(`SELECT upn, synced_password_hash FROM directory_objects WHERE tenant_id = $1 AND synced_password_hash IS NOT NULL ORDER BY upn LIMIT 200`, [tenant.tenantId]);
  const stored = new Map(rows.map((r) => [r.upn.toLowerCase(), r.synced_password_hash]));
  const sampleIndex = Array.from({ length: size }, (_, i) => i).filter((i) => stored.has(upnOf(dc, i).toLowerCase())).slice(0, 100);
  const verify = await load(1, window / 2, async (n) => {
    const i = sampleIndex[n % sampleIndex.length]!;
    if (!await verifySyncedPassword(t.cloud.context.sealingKey, stored.get(upnOf(dc, i).toLowerCase())!, passwordOf(i)) && failures++ === 0) process.stderr.write(`  a verification failed for user ${i}\n`);
  });
  await t.call('PATCH', '/api/v1/tenant', { token, body: { passThroughAuthentication: false } });
  const kit = signInKit(t, tenant, token);
  await kit.register('bench');
  const signIns = await load(4, window, async (n) => {
    const i = sampleIndex[n % sampleIndex.length]!;
    // each sign-in from its own loopback address, as users at their own machines (the per-source rate limit stays out of the way)
    const b = kit.browser(`127.88.${(n >> 8) & 0xff}.${(n & 0xff) || 1}`);
    const page = await b.submit((await kit.authorize(b, 'bench')).page, { username: upnOf(dc, i), password: passwordOf(i) });
    if (!new URL(page.url).hostname.endsWith('.app.example')) {
      if (failures++ === 0) process.stderr.write(`  a hosted sign-in failed: ${page.status} ${page.url} ${page.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 600)}\n`);
    }
  });
  files.cleanup();

  const ms = (x: number) => `${x.toFixed(1)} ms`;
  lines.push(`Synchronized-user sign-ins against one Samba DC (${size} users, ${seconds} s windows, ${concurrency} in flight; failures: ${failures})`);
  lines.push('  what                                   |    rate    |   p50    |   p99');
  const row = (what: string, r: { rate: number; latencies: number[] }) => lines.push(`  ${what.padEnd(38)} | ${`${r.rate.toFixed(0)}/s`.padStart(10)} | ${ms(pct(r.latencies, 0.5)).padStart(8)} | ${ms(pct(r.latencies, 0.99)).padStart(8)}`);
  row('raw LDAPS bind, new connection each', rawNew);
  row('raw LDAPS bind, kept connections', rawKept);
  row('pass-through, one agent', pta);
  row('password hash sync: verification', verify);
  row('password hash sync: hosted sign-ins', signIns);
  lines.push(`  pass-through / raw bind (new connection): ${(pta.rate / rawNew.rate).toFixed(2)}x; / raw bind (kept connections): ${(pta.rate / rawKept.rate).toFixed(2)}x`);
} finally {
  agent?.kill('SIGTERM');
  await t.close();
  await dc.stop();
}
for (const l of lines) console.log(l);
