/**
 * Initial synchronization end to end (AD → agent → cloud), next to the raw
 * LDAP read of the same entries measured in the same run (once before the
 * sync and once after it; the faster is the limit), with the agent's peak
 * RSS; then change propagation: an attribute modified over LDAP until
 * it is visible over SCIM, p50 and p95.
 *
 *   node bench/sync-initial.ts [--sizes 10000,30000] [--store pglite|postgres] [--changes 100]
 *
 * BENCH_PROFILE=dir writes CPU profiles of the agent and the cloud over the
 * initial sync (agent-N.cpuprofile, cloud-N.cpuprofile); BENCH_TRACE=1 prints
 * each batch and change-feed read; BENCH_MEMORY=1 what the agent's memory holds
 * when its RSS peaks; BENCH_SQL=1 the cloud's statements by
 * total time; BENCH_SEQUENTIAL=1 imports, then syncs.
 *
 * The templates are those of ad-full-import.ts (users with realistic
 * attributes and one group of up to 60,000 of them). The agent runs in its
 * own process with its V8 limits (scripts/agent-node-flags): a full import
 * and one sync cycle; the cloud runs in this process over HTTPS on loopback.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Attribute, Change } from 'ldapts';
import { startTestCloud } from '../packages/cloud/test/helpers/cloud.ts';
import type { StoreKind } from '../packages/cloud/test/helpers/stores.ts';
import type { Queryable, Store } from '../packages/cloud/src/store/store.ts';
import { adminClient } from '../scripts/test-dc/seed.ts';
import { startTestDc } from '../scripts/test-dc/test-dc.ts';
import { seedsFor } from './lib/ad-templates.ts';
import { agentFlags, cpuSecondsOf, rawLdapsearch, time } from './lib/child-process.ts';
import { benchAgent, startAgentRun } from './lib/bench-agent.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '10000,30000' }, store: { type: 'string', default: 'pglite' }, changes: { type: 'string', default: '100' } } });
const sizes = values.sizes.split(',').map(Number).sort((a, b) => a - b);
const store = values.store as StoreKind;
const changes = Number(values.changes);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** BENCH_PROFILE=dir: CPU profiles of the agent and of the cloud (this process) over the initial sync */
const profileDir = process.env.BENCH_PROFILE;
async function startProfile(): Promise<{ stop(file: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  const post = (method: string) => new Promise<unknown>((resolve, reject) => session.post(method, (err, result) => (err ? reject(err) : resolve(result))));
  await post('Profiler.enable');
  await post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/** BENCH_SQL=1: the cloud's statements during the initial sync, by total time (PGlite runs in this process: its time is the cloud's CPU) */
function traceSql(store: Store): { report(): void } {
  const stats = new Map<string, { n: number; ms: number }>();
  const timed = (q: Queryable): Queryable => ({
    query: async (text, params) => {
      const started = performance.now();
      try {
        return await q.query(text, params);
      } finally {
        const key = text.replace(/\s+/g, ' ').trim().slice(0, 110);
        const s = stats.get(key) ?? { n: 0, ms: 0 };
        s.n += 1;
        s.ms += performance.now() - started;
        stats.set(key, s);
      }
    },
  }) as Queryable;
  const query = store.query.bind(store);
  const transaction = store.transaction.bind(store);
  store.query = timed({ query } as Queryable).query;
  store.transaction = (fn) => transaction((tx) => fn(timed(tx)));
  return {
    report() {
      store.query = query;
      store.transaction = transaction;
      for (const [k, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) process.stderr.write(`  sql ${s.ms.toFixed(0).padStart(7)} ms ${String(s.n).padStart(7)}x  ${k}\n`);
    },
  };
}

const rows: string[] = [];
const cpuRows: string[] = [];
const seeds = seedsFor(sizes);
for (const size of sizes) {
  process.stderr.write(`users-${size}: starting the DC and the cloud (${store})\n`);
  const dc = await startTestDc({ seed: seeds.get(size)! });
  const t = await startTestCloud(store);
  try {
    const { token, files } = await benchAgent(dc, t, { sync: { deleteThreshold: '100%' } });

    const dcProcesses = { processGroup: dc.pid };
    const dcCpuBeforeRaw = cpuSecondsOf(dcProcesses);
    const raw = await rawLdapsearch(dc, 1000, 1000);
    const dcCpuRaw = cpuSecondsOf(dcProcesses) - dcCpuBeforeRaw;
    // where the CPU goes during the sync: the DC, the agent (its own report), the cloud (this process) and PostgreSQL's server
    const dcCpuBefore = cpuSecondsOf(dcProcesses);
    const pgCpuBefore = store === 'postgres' ? cpuSecondsOf({ cmdline: 'postgres:' }) : 0;
    const sql = process.env.BENCH_SQL ? traceSql(t.cloud.context.store) : null;
    const cloudCpuBefore = process.cpuUsage();
    const profiler = profileDir ? await startProfile() : null;
    const profileFlags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=agent-${size}.cpuprofile`] : [];
    const run = await time(process.execPath, [...agentFlags, ...profileFlags, ...(process.env.BENCH_AGENT_FLAGS ?? '').split(' ').filter(Boolean), 'bench/sync-worker.ts', files.configPath], {});
    if (profiler) await profiler.stop(join(profileDir!, `cloud-${size}.cpuprofile`));
    const cloudCpu = process.cpuUsage(cloudCpuBefore);
    sql?.report();
    const cpu = {
      dc: cpuSecondsOf(dcProcesses) - dcCpuBefore,
      cloud: (cloudCpu.user + cloudCpu.system) / 1e6,
      postgres: store === 'postgres' ? cpuSecondsOf({ cmdline: 'postgres:' }) - pgCpuBefore : 0,
    };
    const out = JSON.parse(run.stdout) as { imported: { objectsRead: number; durationMs: number }; synced: { export: { created: number; memberChanges: number; errors: number; batches: number } }; totalMs: number; maxRssKb: number; cpuMs: number; writtenBytes: number };
    cpuRows.push([`${size}`.padStart(7), `${dcCpuRaw.toFixed(1)} s`.padStart(11), `${cpu.dc.toFixed(1)} s`.padStart(9), `${(out.cpuMs / 1000).toFixed(1)} s`.padStart(8), `${cpu.cloud.toFixed(1)} s`.padStart(8), (store === 'postgres' ? `${cpu.postgres.toFixed(1)} s` : '-').padStart(9)].join(' | '));
    const synced = await t.call('GET', `/scim/v2/Users?count=0&filter=${encodeURIComponent('urn:skybridge:params:scim:schemas:extension:2.0:User:onPremisesSyncEnabled eq true')}`, { token });
    process.stderr.write(`  import ${(out.imported.durationMs / 1000).toFixed(1)} s, total ${(out.totalMs / 1000).toFixed(1)} s; ${out.synced.export.created} created, ${out.synced.export.memberChanges} member changes, ${out.synced.export.errors} errors; ${synced.body.totalResults} users visible over SCIM; the agent wrote ${(out.writtenBytes / 1e6).toFixed(0)} MB\n`);

    // change propagation
    const { child: agent, output } = await startAgentRun(files.configPath);
    const client = await adminClient(dc);
    const latencies: number[] = [];
    try {
      const { searchEntries } = await client.search(`OU=Bench,${dc.baseDn}`, { scope: 'one', filter: '(objectClass=user)', attributes: ['userPrincipalName'], sizeLimit: changes });
      for (const [i, e] of searchEntries.slice(0, changes).entries()) {
        const title = `Propagated ${i} ${Date.now()}`;
        const started = performance.now();
        await client.modify(e.dn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: [title] }) })]);
        const filter = encodeURIComponent(`userName eq "${String(e.userPrincipalName)}"`);
        for (;;) {
          const res = await t.call('GET', `/scim/v2/Users?filter=${filter}&attributes=title`, { token });
          if (res.body.Resources?.[0]?.title === title) break;
          if (performance.now() - started > 30_000) throw new Error(`change ${i} did not arrive within 30 s: ${output()}`);
          await new Promise((r) => setTimeout(r, 10));
        }
        latencies.push(performance.now() - started);
        if (process.env.BENCH_VERBOSE) process.stderr.write(`  change ${i}: ${latencies.at(-1)!.toFixed(0)} ms\n`);
      }
    } finally {
      await client.unbind();
      agent.kill('SIGTERM');
    }
    // the raw read again, on the DC at rest: the limit is the faster of the two (this machine's speed wanders
    // by a quarter from minute to minute, and one slow raw read would flatter the ratio)
    const rawAfter = await rawLdapsearch(dc, 1000, 1000);
    process.stderr.write(`  raw read ${(raw / 1000).toFixed(2)} s before the sync, ${(rawAfter / 1000).toFixed(2)} s after it\n`);
    const rawBest = Math.min(raw, rawAfter);
    rows.push([
      `${size}`.padStart(7), `${out.imported.objectsRead}`.padStart(8), `${(rawBest / 1000).toFixed(2)} s`.padStart(9),
      `${(out.totalMs / 1000).toFixed(2)} s`.padStart(10), `${(out.totalMs / rawBest).toFixed(2)}x`.padStart(7), `${(out.maxRssKb / 1024).toFixed(0)} MB`.padStart(8),
      (latencies.length ? `${pct(latencies, 0.5).toFixed(0)} ms` : '-').padStart(8), (latencies.length ? `${pct(latencies, 0.95).toFixed(0)} ms` : '-').padStart(8),
    ].join(' | '));
    files.cleanup();
  } finally {
    await t.close();
    await dc.stop();
  }
}
console.log(`Initial sync end to end, store ${store}, agent flags ${agentFlags.join(' ')}; raw read: the faster of one before and one after the sync; change propagation over ${changes} changes (LDAP modify → visible over SCIM)`);
console.log('  users |  objects |  raw read | end to end |  ratio | peak RSS |    p50   |    p95');
for (const r of rows) console.log(r);
console.log(`CPU time (2 cores here): the DC serving the raw read, then during the sync the DC, the agent, the cloud${store === 'postgres' ? ' and PostgreSQL' : ''}`);
console.log('  users | DC raw read |  DC sync |   agent |   cloud | postgres');
for (const r of cpuRows) console.log(r);
