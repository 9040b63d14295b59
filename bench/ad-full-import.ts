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
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { importedAttributes, importFilter, memberAttribute } from '../packages/connect/src/ad/attributes.ts';
import { writeAgentFiles } from '../scripts/test-dc/agent-files.ts';
import { adminClient, addGroup, addMembers, addOu, addUsers } from '../scripts/test-dc/seed.ts';
import { startTestDc, type TemplateSeed, type TestDc } from '../scripts/test-dc/test-dc.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '10000,30000,100000' }, runs: { type: 'string', default: '3' } } });
const sizes = values.sizes.split(',').map(Number).sort((a, b) => a - b);
const runs = Number(values.runs);
const largeGroup = 60_000;
/** The V8 limits the agent runs with (the skybridge launcher reads the same file). */
const agentFlags = readFileSync(new URL('../scripts/agent-node-flags', import.meta.url), 'utf8').trim().split(/\s+/).filter(Boolean);

/** Template seeds that grow: users-30000 starts from users-10000 and adds 20,000. */
function seedFor(size: number, smaller: number | undefined, base: TemplateSeed | undefined): TemplateSeed {
  return {
    name: `users-${size}`,
    ...(base ? { base } : {}),
    run: async (dc: TestDc) => {
      const client = await adminClient(dc);
      try {
        const ou = `OU=Bench,${dc.baseDn}`;
        if (!smaller) await addOu(client, ou);
        const from = smaller ?? 0;
        const started = Date.now();
        const users = await addUsers(client, {
          ou, dnsDomain: dc.dnsDomain, from, count: size - from,
          onProgress: (n) => process.stderr.write(`\r  seeding users-${size}: ${from + n}/${size} (${Math.round(n / ((Date.now() - started) / 1000))}/s)   `),
        });
        process.stderr.write('\n');
        // One large group: the first 60,000 users (or all of them).
        const group = `CN=Bench Large Group,${ou}`;
        const want = Math.min(size, largeGroup);
        const had = Math.min(from, largeGroup);
        if (!smaller) await addGroup(client, group, { sam: 'bench-large-group' });
        const byIndex = users.filter((u) => Number(u.sAMAccountName.slice(4)) < want).map((u) => u.dn);
        if (want > had) await addMembers(client, group, byIndex);
        return { size, groupMembers: want };
      } finally {
        await client.unbind();
      }
    },
  };
}

function time(cmd: string, args: string[], env: Record<string, string>): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { if (stdout.length < 1 << 20) stdout += d; });
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ ms: performance.now() - started, stdout }) : reject(new Error(`${cmd} exited ${code}: ${stderr}`))));
  });
}

const rows: string[] = [];
let previous: { size: number; seed: TemplateSeed } | undefined;
for (const size of sizes) {
  const seed = seedFor(size, previous?.size, previous?.seed);
  previous = { size, seed };
  process.stderr.write(`users-${size}: starting the DC (seeding the template the first time)\n`);
  const dc = await startTestDc({ seed });
  try {
    const pageSize = 1000;
    const rangeStep = 1000;
    const attributes = [...importedAttributes, `${memberAttribute};range=0-${rangeStep - 1}`];
    // The raw read: the connector's exact search, output discarded.
    const raw: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await time('sh', ['-c', `ldapsearch -LLL -o ldif-wrap=no -H "$URL" -x -D "$BINDDN" -w "$PW" -b "$BASE" -s sub -E pr=${pageSize}/noprompt "$FILTER" ${attributes.map((a) => `'${a}'`).join(' ')} > /dev/null`], {
        URL: dc.ldapsUrl, BINDDN: dc.connector.userPrincipalName, PW: dc.connector.password, BASE: dc.baseDn, FILTER: importFilter,
        // The DC's certificate names dc1.<realm>, not the loopback address ldapsearch connects to, and OpenLDAP's
        // client cannot be told another name: it still negotiates the same TLS session, but checks the name loosely.
        LDAPTLS_CACERT: dc.caFile, LDAPTLS_REQCERT: 'allow',
      });
      raw.push(r.ms);
    }
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
