/**
 * Password hash synchronization: the bulk rate of the first sync and the
 * time from a password change in AD to a successful verification in the
 * cloud, each next to its raw limit measured in the same run.
 *
 *   node bench/password-hash-sync.ts [--sizes 10000] [--changes 50] [--store pglite|postgres]
 *
 * - bulk: `skybridge connect sync --full` (its own process) on a domain of
 *   N users with passwords: the hashes' share of the run (read over MS-DRSR,
 *   derived, sent), as users/s; beside it the raw DRSR limits on the same
 *   DC — one DRSGetNCChanges per user (what the agent does), and the whole
 *   domain in watermarked pages with the secrets (what a DC replicating
 *   does) — and the rate of deriving the cloud hash itself.
 * - latency: `skybridge connect run`; an administrator sets a user's
 *   password over LDAPS; the clock stops when the cloud's own verifier
 *   accepts the new password (synced-password.ts, the function sign-in
 *   uses). p50 and p95.
 *
 * Templates: users-with-passwords-N, seeded once per machine (Samba derives
 * Kerberos keys for each password, so seeding runs at about 100 users/s).
 */
import { parseArgs } from 'node:util';
import { Attribute, Change } from 'ldapts';
import { DrsClient } from '../packages/connect/src/drsr/drs-client.ts';
import { ATTRIBUTE_OID } from '../packages/connect/src/drsr/drsuapi/prefix-table.ts';
import { attributeValues } from '../packages/connect/src/drsr/drsuapi/get-nc-changes.ts';
import { zeroUsnVector } from '../packages/connect/src/drsr/drsuapi/structures.ts';
import { decryptNtHash, ridOf } from '../packages/connect/src/drsr/secrets/decrypt-secret.ts';
import { passwordHashFromNtHash } from '../packages/protocol/src/password-hash.ts';
import { verifySyncedPassword, ntHashOf } from '../packages/cloud/src/signin/synced-password.ts';
import { startTestCloud } from '../packages/cloud/test/helpers/cloud.ts';
import type { StoreKind } from '../packages/cloud/test/helpers/stores.ts';
import { adminClient, unicodePwd, userEntry } from '../scripts/test-dc/seed.ts';
import { grantOnRunningDc, startTestDc } from '../scripts/test-dc/test-dc.ts';
import { passwordOf, seedWithPasswords } from './lib/ad-templates.ts';
import { benchAgent, cliMain, startAgentRun } from './lib/bench-agent.ts';
import { agentFlags, time } from './lib/child-process.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '10000' }, changes: { type: 'string', default: '50' }, store: { type: 'string', default: 'pglite' } } });
const sizes = values.sizes.split(',').map(Number).sort((a, b) => a - b);
const changes = Number(values.changes);
const store = values.store as StoreKind;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const SECRETS = [ATTRIBUTE_OID.objectSid, ATTRIBUTE_OID.unicodePwd];

const getChangesAll = (sid: string) => `(OA;;CR;1131f6ad-9c07-11d1-f79f-00c04fc2dcd2;;${sid})`;
const rows: string[] = [];
for (const size of sizes) {
  process.stderr.write(`users-with-passwords-${size}: starting the DC (seeding the template the first time) and the cloud (${store})\n`);
  const dc = await startTestDc({ seed: seedWithPasswords(size) });
  const t = await startTestCloud(store);
  try {
    await grantOnRunningDc(dc, dc.baseDn, getChangesAll);
    const { tenant, token, files } = await benchAgent(dc, t, { sync: { deleteThreshold: '100%' }, passwordHashSync: { enabled: true } });
    await t.call('PATCH', '/api/v1/tenant', { token, body: { passwordHashSync: true } });
    const account = { host: dc.ip, credentials: { user: dc.connector.userPrincipalName, domain: '', password: dc.connector.password } };

    // raw DRSR, one call per user (the agent's path), over the first 2,000 users
    const drs = await DrsClient.connect(account);
    const sample = Math.min(size, 2000);
    let started = performance.now();
    for (let i = 0; i < sample; i++) {
      const dn = userEntry({ index: i, ou: `OU=Bench,${dc.baseDn}`, dnsDomain: dc.dnsDomain }).dn;
      const o = await drs.readObject({ dn }, SECRETS, dn);
      decryptNtHash(drs.sessionKey, attributeValues(o, ATTRIBUTE_OID.unicodePwd)![0]!, ridOf(o.sid, dn), dn);
    }
    const perObjectRate = sample / ((performance.now() - started) / 1000);
    await drs.close();
    // raw DRSR, the whole domain in pages with the secrets
    const bulk = await DrsClient.connect(account);
    started = performance.now();
    let hashes = 0;
    let from = zeroUsnVector();
    for (let more = true, pages = 0; more && pages < 10_000; pages++) {
      const page = await bulk.changesAfter({ dn: dc.baseDn }, from, SECRETS, { maxObjects: 1000 });
      for (const o of page.objects) {
        const v = attributeValues(o, ATTRIBUTE_OID.unicodePwd)?.[0];
        if (v) { decryptNtHash(bulk.sessionKey, v, ridOf(o.sid, o.dn), o.dn); hashes += 1; }
      }
      from = page.usnvecTo;
      more = page.fMoreData;
    }
    const bulkRate = hashes / ((performance.now() - started) / 1000);
    await bulk.close();
    // the agent's own CPU limit: deriving the cloud hash (PBKDF2, 1,000 iterations) per user
    const nt = await ntHashOf(passwordOf(0));
    const derive = performance.now();
    for (let i = 0; i < 1000; i++) passwordHashFromNtHash(nt);
    const deriveRate = 1000 / ((performance.now() - derive) / 1000);

    // the product: a full sync (objects, then hashes) in its own process
    const run = await time(process.execPath, [...agentFlags, cliMain, 'connect', 'sync', '--full', '--json', '--config', files.configPath], {});
    const out = JSON.parse(run.stdout) as { passwordHashSync: { candidates: number; stored: number; errors: number; notInCloud: number; milliseconds: number }; sync: { export: { created: number } } };
    const phs = out.passwordHashSync;
    const phsRate = phs.stored / (phs.milliseconds / 1000);
    process.stderr.write(`  full sync ${(run.ms / 1000).toFixed(1)} s: ${out.sync.export.created} created; hashes ${phs.stored}/${phs.candidates} in ${(phs.milliseconds / 1000).toFixed(1)} s (${phs.errors} errors, ${phs.notInCloud} not in cloud)\n`);

    // latency: password change in AD → the cloud verifies the new password
    const { child: agent, output } = await startAgentRun(files.configPath);
    const client = await adminClient(dc);
    const latencies: number[] = [];
    try {
      for (let i = 0; i < changes; i++) {
        const e = userEntry({ index: i, ou: `OU=Bench,${dc.baseDn}`, dnsDomain: dc.dnsDomain });
        const password = `Changed-${i}-${Date.now()}!`;
        const begun = performance.now();
        await client.modify(e.dn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'unicodePwd', values: [unicodePwd(password)] }) })]);
        for (;;) {
          const { rows: r } = await t.cloud.context.store.query<{ synced_password_hash: string | null }>(
            `SELECT synced_password_hash FROM directory_objects WHERE tenant_id = $1 AND lower(upn) = lower($2)`, [tenant.tenantId, e.user.userPrincipalName!]);
          const stored = r[0]?.synced_password_hash;
          if (stored && await verifySyncedPassword(t.cloud.context.sealingKey, stored, password)) break;
          if (performance.now() - begun > 60_000) throw new Error(`change ${i} did not verify within 60 s: ${output().slice(-2000)}`);
          await new Promise((res) => setTimeout(res, 20));
        }
        latencies.push(performance.now() - begun);
        if (process.env.BENCH_VERBOSE) process.stderr.write(`  change ${i}: ${latencies.at(-1)!.toFixed(0)} ms\n`);
      }
    } finally {
      await client.unbind();
      agent.kill('SIGTERM');
    }
    rows.push([
      `${size}`.padStart(7), `${phsRate.toFixed(0)}/s`.padStart(9), `${perObjectRate.toFixed(0)}/s`.padStart(11), `${bulkRate.toFixed(0)}/s`.padStart(10),
      `${deriveRate.toFixed(0)}/s`.padStart(9), `${(phsRate / bulkRate).toFixed(2)}x`.padStart(13),
      `${pct(latencies, 0.5).toFixed(0)} ms`.padStart(8), `${pct(latencies, 0.95).toFixed(0)} ms`.padStart(8),
    ].join(' | '));
    files.cleanup();
  } finally {
    await t.close();
    await dc.stop();
  }
}
console.log(`Password hash sync, store ${store}; latency over ${changes} password changes (LDAPS modify → the cloud verifies the new password)`);
console.log('  users | agent PHS | raw DRSR 1/call | raw DRSR pages |   derive  | PHS / pages |   p50    |   p95');
for (const r of rows) console.log(r);
