/**
 * What a large group's member list costs the DC, read by range at several
 * widths, next to the raw paged read of the whole directory in the same run.
 *
 *   node bench/member-ranges.ts [--sizes 30000,100000]
 *
 * The benchmark directories' large group holds up to 60,000 users. Each
 * width reads the list from the first value to the end with ldapsearch, as
 * the connector account over LDAPS, one round trip per range
 * (member;range=LOW-HIGH, going on from the range the DC answered), and
 * prints the round trips, the time and the DC's CPU. Samba reads the whole
 * list for every range it answers, so its cost grows with the list's size
 * times the number of ranges; the importer reads what follows the first
 * range 20 times as wide as rangeStep (restRangeStep in
 * packages/connect/src/ad/importer.ts). A Windows DC answers at most its
 * MaxValRange (1,500 by default) whatever is asked.
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startTestDc, type TestDc } from '../scripts/test-dc/test-dc.ts';
import { seedsFor } from './lib/ad-templates.ts';
import { cpuSecondsOf, rawLdapsearch } from './lib/child-process.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '30000,100000' } } });
const sizes = values.sizes.split(',').map(Number).sort((a, b) => a - b);
const widths = [1000, 5000, 20_000, 100_000];

function ldapsearch(dc: TestDc, base: string, scope: string, filter: string, attribute: string): string {
  return execFileSync('ldapsearch', ['-LLL', '-o', 'ldif-wrap=no', '-H', dc.ldapsUrl, '-x', '-D', dc.connector.userPrincipalName, '-w', dc.connector.password, '-b', base, '-s', scope, filter, attribute], {
    // the DC's certificate names dc1.<realm>, not the loopback address (as in lib/child-process.ts)
    env: { ...process.env, LDAPTLS_CACERT: dc.caFile, LDAPTLS_REQCERT: 'allow' }, maxBuffer: 1 << 28,
  }).toString();
}

const rows: string[] = [];
const seeds = seedsFor(sizes);
for (const size of sizes) {
  process.stderr.write(`users-${size}: starting the DC\n`);
  const dc = await startTestDc({ seed: seeds.get(size)! });
  try {
    const group = { processGroup: dc.pid };
    let before = cpuSecondsOf(group);
    const raw = await rawLdapsearch(dc, 1000, 1000);
    rows.push(`${String(size).padStart(7)} | ${'raw read'.padStart(16)} | ${'-'.padStart(8)} | ${`${(raw / 1000).toFixed(2)} s`.padStart(9)} | ${`${(cpuSecondsOf(group) - before).toFixed(2)} s`.padStart(8)}`);
    const dn = ldapsearch(dc, dc.baseDn, 'sub', '(&(objectClass=group)(cn=Bench Large Group))', 'dn').match(/^dn: (.*)$/m)?.[1];
    if (!dn) throw new Error(`users-${size}: the template has no Bench Large Group`);
    for (const width of widths) {
      before = cpuSecondsOf(group);
      const started = performance.now();
      let low = 0;
      let trips = 0;
      let values = 0;
      for (;;) {
        const out = ldapsearch(dc, dn, 'base', '(objectClass=*)', `member;range=${low}-${low + width - 1}`);
        trips += 1;
        values += (out.match(/^member;range=/gm) ?? []).length;
        const range = out.match(/^member;range=(\d+)-(\d+|\*):/m);
        if (!range || range[2] === '*') break;
        low = Number(range[2]) + 1;
      }
      rows.push(`${String(size).padStart(7)} | ${`ranges of ${width}`.padStart(16)} | ${String(trips).padStart(8)} | ${`${((performance.now() - started) / 1000).toFixed(2)} s`.padStart(9)} | ${`${(cpuSecondsOf(group) - before).toFixed(2)} s`.padStart(8)}  (${values} values)`);
    }
  } finally {
    await dc.stop();
  }
}
process.stdout.write(`The large group's member list read by range, next to the raw read of the whole directory (ldapsearch, LDAPS, connector account)\n`);
process.stdout.write(`  users |             read |    trips |      time |   DC CPU\n${rows.join('\n')}\n`);
