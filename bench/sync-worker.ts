/** One full import and sync cycle in its own process, for sync-initial.ts: prints both summaries, the peak RSS and the CPU time. */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { PerformanceObserver, constants, monitorEventLoopDelay } from 'node:perf_hooks';
import { AdImporter } from '../packages/connect/src/ad/importer.ts';
import { loadConfig } from '../packages/connect/src/config/load-config.ts';
import { ConnectorSpace } from '../packages/connect/src/space/connector-space.ts';
import { SyncEngine } from '../packages/connect/src/sync/engine.ts';
import { CloudClient } from '../packages/connect/src/cloud/cloud-client.ts';
import { loadCredentials } from '../packages/connect/src/cloud/credentials-file.ts';
import type { SyncBatchRequest } from '@skybridge/protocol';
import { ownPeakRssKb } from './lib/peak-rss.ts';

if (process.env.BENCH_TRACE) {
  // one line per batch on stderr: operations, member values, milliseconds, and when it was answered (seconds since the worker started)
  const at = () => (performance.now() / 1000).toFixed(2);
  const send = CloudClient.prototype.sendEncodedBatch;
  CloudClient.prototype.sendEncodedBatch = async function (this: CloudClient, key, epoch, operationsJson) {
    const started = performance.now();
    const r = await send.call(this, key, epoch, operationsJson);
    const batch = { operations: JSON.parse(operationsJson) as SyncBatchRequest['operations'] };
    const members = batch.operations.reduce((n, o) => n + (o.op === 'upsert' ? (o.members?.add?.length ?? 0) + (o.members?.remove?.length ?? 0) : 0), 0);
    process.stderr.write(`batch ${batch.operations.length} ops ${members} members ${(performance.now() - started).toFixed(0)} ms at ${at()} s\n`);
    return r;
  };
  const changes = CloudClient.prototype.changes;
  CloudClient.prototype.changes = async function (this: CloudClient, ...args: Parameters<CloudClient['changes']>) {
    const started = performance.now();
    const r = await changes.apply(this, args);
    process.stderr.write(`feed ${r.changes.length} changes ${(performance.now() - started).toFixed(0)} ms at ${at()} s\n`);
    return r;
  };
}
/** BENCH_MEMORY=1: what the agent's memory is made of when its RSS peaks (sampled every 100 ms), on stderr */
const memoryAtPeak = process.env.BENCH_MEMORY ? sampleMemory() : null;
function sampleMemory(): { peak: Record<string, number> } {
  const state = { peak: {} as Record<string, number> };
  const mb = (n: number): number => Math.round(n / 1048576);
  setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss <= (state.peak.rss ?? 0) * 1048576) return;
    const m = process.memoryUsage();
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, mb(s.physical_space_size)]));
    state.peak = { rss: mb(rss), rssAnon: mb(kb('RssAnon')), rssFile: mb(kb('RssFile')), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers), ...spaces, atMs: Math.round(performance.now()) };
  }, 100).unref();
  return state;
}
/** BENCH_MEMORY=1: also the garbage collections by kind (count, total ms), on stderr */
const collections = new Map<string, { count: number; ms: number }>();
if (process.env.BENCH_MEMORY) {
  const kinds: Record<number, string> = { [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks' };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = kinds[(e as unknown as { detail: { kind: number } }).detail.kind] ?? 'other';
      const c = collections.get(kind) ?? { count: 0, ms: 0 };
      c.count += 1;
      c.ms += e.duration;
      collections.set(kind, c);
    }
  }).observe({ entryTypes: ['gc'] });
}
// BENCH_TRACE: the connector-space transactions that held the event loop longest, with their callers
const longTransactions: { ms: number; where: string }[] = [];
if (process.env.BENCH_TRACE) {
  const transaction = ConnectorSpace.prototype.transaction;
  ConnectorSpace.prototype.transaction = function <T>(this: ConnectorSpace, fn: () => T): T {
    const started = performance.now();
    try {
      return transaction.call(this, fn) as T;
    } finally {
      const ms = performance.now() - started;
      if (ms > 200) longTransactions.push({ ms, where: (new Error().stack ?? '').split('\n').slice(2, 5).map((l) => l.trim().replace(/^at /, '').replace(/\(.*\/(?=[^/]+:\d+:\d+\))/, '(')).join(' < ') });
    }
  } as typeof transaction;
}
const loaded = loadConfig(process.argv[2]!);
const space = ConnectorSpace.open(join(loaded.config.stateDirectory, 'connect'));
const started = performance.now();
const cloud = new CloudClient(loadCredentials(loaded.config.cloud!.credentialsFile!), { ca: readFileSync(loaded.config.cloud!.caFile!, 'utf8') });
// as `skybridge connect sync` does: export while the import reads (BENCH_SEQUENTIAL=1: one after the other)
const importing = new AdImporter(loaded.config.activeDirectory, loaded.secrets.adPassword, space).run('full');
// BENCH_TRACE: also how long the event loop was held (what a pass-through authentication would wait)
const loopDelay = process.env.BENCH_TRACE ? monitorEventLoopDelay({ resolution: 10 }) : null;
loopDelay?.enable();
if (process.env.BENCH_TRACE) void importing.then(() => process.stderr.write(`import done at ${(performance.now() / 1000).toFixed(2)} s\n`), () => {});
const engine = new SyncEngine(space, loaded.config.sync, cloud);
const synced = process.env.BENCH_SEQUENTIAL ? (await importing, await engine.cycle()) : await engine.cycleWhileImporting(importing);
const imported = await importing;
const totalMs = performance.now() - started;
space.close();
const cpu = process.cpuUsage();
// bytes this process handed to write(2): the connector space's log and database, mostly
const writtenBytes = Number(/^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN);
for (const t of longTransactions.sort((a, b) => b.ms - a.ms).slice(0, 8)) process.stderr.write(`long transaction: ${t.ms.toFixed(0)} ms ${t.where}\n`);
if (loopDelay) process.stderr.write(`event loop delay: p50 ${(loopDelay.percentile(50) / 1e6).toFixed(0)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, longest ${(loopDelay.max / 1e6).toFixed(0)} ms\n`);
if (memoryAtPeak) process.stderr.write(`memory at peak RSS (MB): ${JSON.stringify(memoryAtPeak.peak)}\ngarbage collections: ${JSON.stringify(Object.fromEntries([...collections].map(([k, c]) => [k, { count: c.count, ms: Math.round(c.ms) }])))}\n`);
process.stdout.write(JSON.stringify({ imported, synced, totalMs, maxRssKb: ownPeakRssKb(), cpuMs: (cpu.user + cpu.system) / 1000, writtenBytes }));
