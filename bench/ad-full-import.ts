/**
 * Full import rate of the AD connector, next to the raw paged LDAP read of
 * the same entries measured in the same run, and the connector's peak RSS.
 *
 *   node bench/ad-full-import.ts [--sizes 10000,30000,100000] [--runs 3]
 *
 * Each size is a test-DC template seeded once per machine (users with
 * realistic attributes, plus one group holding up to 60,000 of them); later
 * runs start from a copy. Seeding is slow on Samba (brief §2: about 270 users/s
 * falling to about 100/s), so a 100,000-user template takes the better part of
 * an hour the first time.
 *
 * raw: ldapsearch with the connector's exact base, filter, attributes and page
 * size, over LDAPS as the connector account, output to /dev/null.
 * connector: `skybridge connect import --full` in its own process, with the
 * agent's V8 limits (scripts/agent-node-flags) (TLS, paged
 * search, decoding and validation of every value, ranged member reads, writes
 * into the SQLite connector space), best of N runs.
 */
import { parseArgs } from 'node:util';
import { writeAgentFiles } from '../scripts/test-dc/agent-files.ts';
import { startTestDc } from '../scripts/test-dc/test-dc.ts';
import { seedsFor } from './lib/ad-templates.ts';
import { agentFlags, rawLdapsearch, time } from './lib/child-process.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '10000,30000,100000' }, runs: { type: 'string', default: '3' } } });
const sizes = values.sizes.split(',').map(Number).sort((a, b) => a - b);
const runs = Number(values.runs);

const rows: string[] = [];
const seeds = seedsFor(sizes);
for (const size of sizes) {
  const seed = seeds.get(size)!;
  process.stderr.write(`users-${size}: starting the DC (seeding the template the first time)\n`);
  const dc = await startTestDc({ seed });
  try {
    const pageSize = 1000;
    const rangeStep = 1000;
    // The raw read: the connector's exact search, output discarded.
    const raw: number[] = [];
    for (let i = 0; i < runs; i++) raw.push(await rawLdapsearch(dc, pageSize, rangeStep));
    // The connector, a fresh connector space each run.
    const connector: { ms: number; objects: number; rssMb: number; rangeRequests: number }[] = [];
    for (let i = 0; i < runs; i++) {
      const files = writeAgentFiles(dc, { pageSize, rangeStep });
      try {
        const r = await time(process.execPath, [...agentFlags, 'bench/ad-import-worker.ts', files.configPath], {});
        const out = JSON.parse(r.stdout) as { summary: { objectsRead: number; durationMs: number; rangeRequests: number }; maxRssKb: number };
        connector.push({ ms: out.summary.durationMs, objects: out.summary.objectsRead, rssMb: out.maxRssKb / 1024, rangeRequests: out.summary.rangeRequests });
      } finally {
        files.cleanup();
      }
    }
    const bestRaw = Math.min(...raw);
    const best = connector.reduce((a, b) => (b.ms < a.ms ? b : a));
    const objects = best.objects;
    rows.push([
      `${size}`.padStart(7), `${objects}`.padStart(8),
      `${(bestRaw / 1000).toFixed(2)} s`.padStart(9), `${Math.round(objects / (bestRaw / 1000))}/s`.padStart(9),
      `${(best.ms / 1000).toFixed(2)} s`.padStart(9), `${Math.round(objects / (best.ms / 1000))}/s`.padStart(9),
      `${(best.ms / bestRaw).toFixed(2)}x`.padStart(7), `${Math.max(...connector.map((c) => c.rssMb)).toFixed(0)} MB`.padStart(8),
      `${best.rangeRequests}`.padStart(6),
    ].join(' | '));
  } finally {
    await dc.stop();
  }
}
console.log(`AD full import, best of ${runs}, agent flags ${agentFlags.join(' ')} (Samba ${process.env.SAMBA_VERSION ?? '4.17'} on loopback, -M single; LDAPS; page 1000, range step 1000)`);
console.log('  users |  objects |  raw read |  raw rate | connector | conn rate |  ratio | peak RSS | ranges');
for (const r of rows) console.log(r);
