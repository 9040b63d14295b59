import { join } from 'node:path';
import { currentAgentVersion } from '@skybridge/protocol';
import { hostname } from 'node:os';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { Command, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import { runSetup } from './setup.ts';
import {
  AdImporter, CloudClient, runDoctor, stampConsistencyGuids, ConnectError, ConnectorSpace, ImportWatcher, SyncEngine, configPathFrom, loadConfig, loadCredentials, registerAgent, saveCredentials,
  type DryRunChange, type ImportProgress, type ImportSummary, type LoadedConfig, type Stamper, type SyncSummary, type TakeoverEntry,
  passwordHashSyncFor, passwordSyncStatus, passwordSyncErrors, prepareAd, readSecretFile,
  AgentMetrics, agentLog, logFormatFrom, parseListen, serveMetrics, startAgentService,
  type PasswordSyncSummary,
} from '@skybridge/connect';

const agentVersion = currentAgentVersion;

/** The connector space lives in STATE_DIRECTORY/connect. */
export const spaceDirectory = (loaded: LoadedConfig): string => join(loaded.config.stateDirectory, 'connect');

const configOption = () => new Option('--config <file>', 'agent configuration file').env('SKYBRIDGE_CONNECT_CONFIG');

export function connectCommand(): Command {
  const connect = new Command('connect').description('Skybridge Connect: the on-premises agent');

  connect
    .command('import')
    .description('Import Active Directory into the connector space: a delta when possible, else a full import')
    .addOption(configOption())
    .addOption(new Option('--full', 'read everything again (objects missing afterwards are marked deleted)').conflicts('delta'))
    .addOption(new Option('--delta', 'only what changed since the last import (a full import runs when that is not possible)'))
    .option('--watch', 'then keep following changes (change notification, within about a second) until interrupted')
    .option('--json', 'print the summary as JSON')
    .option('--no-progress', 'no progress bar')
    .action(async (opts: { config?: string; full?: boolean; delta?: boolean; watch?: boolean; json?: boolean; progress: boolean }) => {
      const loaded = loadConfig(configPathFrom(opts.config));
      const space = ConnectorSpace.open(spaceDirectory(loaded));
      const bar = opts.progress && !opts.json && process.stderr.isTTY ? progressBar() : undefined;
      const importer = new AdImporter(loaded.config.activeDirectory, loaded.secrets.adPassword, space, { ...(bar ? { onProgress: bar.update } : {}) });
      const print = (s: ImportSummary) => process.stdout.write(opts.json ? `${JSON.stringify(s)}\n` : describe(s));
      try {
        if (!opts.watch) {
          const summary = await importer.run(opts.full ? 'full' : opts.delta ? 'delta' : 'auto');
          bar?.stop();
          print(summary);
          reportProblems(space, opts.json);
          return;
        }
        if (opts.full) print(await importer.run('full'));
        bar?.stop();
        const watcher = new ImportWatcher(importer, loaded.config.activeDirectory, loaded.secrets.adPassword, {
          onRun: (s) => { if (s.objectsRead || s.kind === 'full' || s.deleted) print(s); },
          onError: (err) => process.stderr.write(`skybridge: import failed, retrying: ${err.message}\n`),
          onNotifierError: (err, retry) => process.stderr.write(`skybridge: change notification lost (${err.message}); reconnecting in ${Math.round(retry / 1000)} s\n`),
        });
        await watcher.start();
        if (!opts.json) process.stdout.write('Following changes (Ctrl-C to stop)\n');
        await new Promise<void>((resolve) => {
          const stop = () => void watcher.stop().then(resolve, resolve);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      } finally {
        bar?.stop();
        space.close();
      }
    });

  connect
    .command('register')
    .description('Register this agent with its tenant in Skybridge Cloud (a one-time registration token from the admin center)')
    .addOption(configOption())
    .addOption(new Option('--token <token>', 'the one-time registration token').env('SKYBRIDGE_REGISTRATION_TOKEN').makeOptionMandatory())
    .option('--pin <spki-sha256>', "trust the cloud's certificate by this pin (shown with the token), instead of cloud.caFile or the system CAs")
    .action(async (opts: { config?: string; token: string; pin?: string }) => {
      const loaded = loadConfig(configPathFrom(opts.config));
      const cloud = loaded.config.cloud;
      if (!cloud) throw new ConnectError('config_invalid', `${loaded.path}: there is no cloud section`, { subject: 'cloud.url', fix: 'add cloud: { url: https://… } to the configuration' });
      const credentials = await registerAgent({
        cloudUrl: cloud.url, registrationToken: opts.token, hostname: hostname(), version: agentVersion,
        trust: { ...(cloud.caFile ? { ca: readFileSync(cloud.caFile, 'utf8') } : {}), ...(opts.pin ? { pin: opts.pin } : {}) },
      });
      saveCredentials(cloud.credentialsFile!, credentials);
      process.stdout.write(`Registered as agent ${credentials.agentId} of tenant ${credentials.tenantId}; credentials in ${cloud.credentialsFile} (mode 0600)\n`);
    });

  connect
    .command('sync')
    .description('One cycle: import the changes from Active Directory, then export them to the cloud')
    .addOption(configOption())
    .option('--full', 'full import and full synchronization (every object compared with the cloud)')
    .option('--dry-run', 'print every change the cycle would make, and make none (the import still runs)')
    .option('--report <file>', 'with --dry-run: write every change to this file, one JSON object per line (mode 0600)')
    .option('--allow-deletes', 'let the deletions now pending through, above the delete threshold, once')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: { config?: string; full?: boolean; dryRun?: boolean; report?: string; allowDeletes?: boolean; json?: boolean }) => {
      if (opts.report && !opts.dryRun) throw new ConnectError('config_invalid', '--report goes with --dry-run', { subject: '--report', fix: 'add --dry-run, or drop --report' });
      const loaded = loadConfig(configPathFrom(opts.config));
      const space = ConnectorSpace.open(spaceDirectory(loaded));
      try {
        const importer = new AdImporter(loaded.config.activeDirectory, loaded.secrets.adPassword, space);
        const cloud = loaded.config.cloud && !loaded.config.sync.staging && !opts.dryRun ? cloudClient(loaded) : null;
        const engine = new SyncEngine(space, loaded.config.sync, cloud);
        if (opts.dryRun) {
          const imported = await importer.run(opts.full ? 'full' : 'auto');
          const file = opts.report ? openSync(opts.report, 'w', 0o600) : null;
          const shown: DryRunChange[] = [];
          const shownMax = opts.json && !file ? Infinity : 200;
          try {
            const report = engine.dryRun({ full: opts.full ?? false }, (c) => {
              if (file !== null) writeSync(file, `${JSON.stringify(c)}\n`);
              if (shown.length < shownMax) shown.push(c);
            });
            if (opts.json) process.stdout.write(`${JSON.stringify({ import: imported, ...report, changes: shown, ...(opts.report ? { report: opts.report } : {}) })}\n`);
            else process.stdout.write(describe(imported) + describeDryRun(report, shown, opts.report));
          } finally {
            if (file !== null) closeSync(file);
          }
          return;
        }
        if (opts.allowDeletes) engine.allowPendingDeletes();
        if (!loaded.config.cloud && !loaded.config.sync.staging) throw new ConnectError('sync_not_registered', `${loaded.path}: there is no cloud section`, { subject: 'cloud.url', fix: 'add cloud: { url: https://… } and run skybridge connect register' });
        let imported: ImportSummary;
        let summary: SyncSummary;
        if (opts.full || loaded.config.sync.staging) {
          // a full sync sends everything again once the import is complete; staging exports nothing anyway
          imported = await importer.run(opts.full ? 'full' : 'auto');
          summary = await engine.cycle({ full: opts.full ?? false, stamper: stamperFor(loaded) });
        } else {
          // export while the import reads (deletions wait for the complete read and the delete threshold)
          const importing = importer.run('auto');
          summary = await engine.cycleWhileImporting(importing, { stamper: stamperFor(loaded) });
          imported = await importing;
        }
        // password hashes after the objects: a user's hash goes once the cloud holds the user
        const phs = cloud ? passwordHashSyncFor(loaded, space, cloud) : null;
        let hashes: PasswordSyncSummary | undefined;
        let hashError: Error | undefined;
        if (phs) {
          try {
            hashes = await phs.run({ full: opts.full ?? false });
          } catch (err) {
            hashError = err as Error;
          }
        }
        const passwordHashSync = phs ? (hashes ?? { error: errorJson(hashError!) }) : undefined;
        if (opts.json) process.stdout.write(`${JSON.stringify({ import: imported, sync: summary, errors: engine.store.errors(), ...(passwordHashSync ? { passwordHashSync } : {}) })}\n`);
        else process.stdout.write(describe(imported) + describeSync(summary, engine) + (hashes ? describeHashes(hashes) : ''));
        // the directory is synchronized; the hashes are not, and the exit code says so
        if (hashError) throw hashError;
      } finally {
        space.close();
      }
    });

  connect
    .command('setup')
    .description('The set-up wizard: express or custom, each answer checked live; writes the configuration and the password file, and registers the agent')
    .addOption(configOption())
    .action(async (opts: { config?: string }) => {
      if (!process.stdin.isTTY) throw new ConnectError('config_invalid', 'setup asks questions: run it in a terminal', { subject: 'setup', fix: 'run it interactively, or write the configuration yourself (docs/connect-config.md)' });
      await runSetup(configPathFrom(opts.config));
    });

  connect
    .command('prepare-ad')
    .description('Create the connector account if it is missing and grant exactly the rights the configured features need, with a domain administrator\'s credentials used once and never stored')
    .addOption(configOption())
    .requiredOption('--admin <account>', 'a domain administrator, as a userPrincipalName or DOMAIN\\name')
    .option('--admin-password-file <file>', 'read the administrator\'s password from this file (else $SKYBRIDGE_AD_ADMIN_PASSWORD, else a hidden prompt)')
    .option('--container <dn>', 'where to create the connector account (default: CN=Users of the domain)')
    .option('--dry-run', 'print the account and every permission entry it would add, and change nothing')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { config?: string; admin: string; adminPasswordFile?: string; container?: string; dryRun?: boolean; json?: boolean }) => {
      const loaded = loadConfig(configPathFrom(opts.config), { withoutSecrets: true });
      const password = opts.adminPasswordFile
        ? readSecretFile(opts.adminPasswordFile, '--admin-password-file')
        : process.env.SKYBRIDGE_AD_ADMIN_PASSWORD ?? (process.stdin.isTTY ? await (await import('@inquirer/prompts')).password({ message: `Password of ${opts.admin}`, mask: true }) : '');
      if (!password) throw new ConnectError('config_invalid', `no password for ${opts.admin}`, { subject: '--admin', fix: 'give --admin-password-file, set SKYBRIDGE_AD_ADMIN_PASSWORD, or run in a terminal to be asked' });
      const r = await prepareAd({ config: loaded.config, admin: { bindAs: opts.admin, password }, ...(opts.container ? { container: opts.container } : {}), dryRun: opts.dryRun ?? false });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      const a = r.account;
      const lines = [
        r.dryRun ? 'Dry run: nothing is changed.' : 'Active Directory is prepared.',
        `Connector account ${a.userPrincipalName} (${a.dn}): ${a.existed ? 'exists' : r.dryRun ? 'would be created' : `created; its password is in ${a.passwordFile} (mode 0600)`}`,
        'Permissions:',
        ...r.grants.map((g) => `  ${g.present ? 'present   ' : r.dryRun ? 'would add ' : 'added     '} ${g.ace} on ${g.object}  (${g.reason})`),
        ...(r.dryRun ? [] : ['Next: skybridge connect doctor, then skybridge connect register.']),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  connect
    .command('doctor')
    .description('Check every prerequisite live (Node.js, DC reachability and TLS, the connector account\'s rights, the cloud, the clock, the registration) and say how to fix each failure; writes nothing')
    .addOption(configOption())
    .option('--json', 'print the checks as JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const loaded = loadConfig(configPathFrom(opts.config));
      const checks = await runDoctor(loaded);
      const failed = checks.filter((c) => c.status === 'fail').length;
      if (opts.json) process.stdout.write(`${JSON.stringify({ checks, failed })}\n`);
      else {
        const mark = { pass: '✔', fail: '✖', warn: '!', skip: '-' } as const;
        const width = Math.max(...checks.map((c) => c.name.length));
        const lines = checks.flatMap((c) => [`${mark[c.status]} ${c.name.padEnd(width)}  ${c.detail}`, ...(c.fix && c.status !== 'pass' ? [`  ${' '.repeat(width)}  fix: ${c.fix}`] : [])]);
        lines.push(failed ? `${failed} check${failed > 1 ? 's' : ''} failed.` : 'Every check passed.');
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      if (failed) process.exitCode = 1;
    });

  connect
    .command('allow-deletes')
    .description('Let the deletions the delete threshold stopped through at the next cycle (list them first with sync --dry-run)')
    .addOption(configOption())
    .action((opts: { config?: string }) => {
      const loaded = loadConfig(configPathFrom(opts.config));
      const space = ConnectorSpace.open(spaceDirectory(loaded));
      try {
        const engine = new SyncEngine(space, loaded.config.sync, null);
        const sample = engine.store.pendingDeletions(10);
        const n = engine.allowPendingDeletes();
        if (n === 0) {
          process.stdout.write('No deletions are waiting.\n');
          return;
        }
        process.stdout.write([`${n} deletions will go out at the next cycle (skybridge connect sync, or the running agent's next change), for example:`, ...sample.map((d) => `  ${d.type} ${d.dn}`), ''].join('\n'));
      } finally {
        space.close();
      }
    });

  connect
    .command('run')
    .description('Run continuously: import each change as Active Directory signals it (and every pollIntervalSeconds at the latest), and export it at once')
    .addOption(configOption())
    .addOption(new Option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (HOST defaults to 127.0.0.1)').env('SKYBRIDGE_METRICS'))
    .addOption(new Option('--log-format <format>', 'text lines, or one JSON object per line').choices(['text', 'json']).env('SKYBRIDGE_LOG_FORMAT'))
    .action(async (opts: { config?: string; metrics?: string; logFormat?: string }) => {
      const log = agentLog(logFormatFrom(opts.logFormat));
      const loaded = loadConfig(configPathFrom(opts.config));
      const space = ConnectorSpace.open(spaceDirectory(loaded));
      const metrics = new AgentMetrics();
      const served = opts.metrics ? await serveMetrics(metrics, parseListen(opts.metrics)) : null;
      if (served) log.info(`metrics at ${served.url}`, { metrics: served.url });
      try {
        const cloud = loaded.config.cloud ? cloudClient(loaded) : null;
        const service = await startAgentService(loaded, space, cloud, { version: agentVersion, log, metrics, stamper: stamperFor(loaded) });
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        log.info('stopping');
        await service.stop();
      } finally {
        await served?.close();
        space.close();
      }
    });

  connect
    .command('takeover')
    .description('Upgrading from another sync tool: which cloud objects the agent would hard-match, soft-match or create (nothing is written)')
    .addOption(configOption())
    .addOption(new Option('--preview', 'list the matches without writing anything (required: the takeover itself is the next sync)').makeOptionMandatory())
    .option('--report <file>', 'write every object and its outcome to this file (JSON lines)')
    .option('--json', 'print the counts as JSON')
    .action(async (opts: { config?: string; report?: string; json?: boolean }) => {
      const loaded = loadConfig(configPathFrom(opts.config));
      const space = ConnectorSpace.open(spaceDirectory(loaded));
      const report = opts.report ? openSync(opts.report, 'w', 0o600) : null;
      try {
        await new AdImporter(loaded.config.activeDirectory, loaded.secrets.adPassword, space).run('auto');
        const engine = new SyncEngine(space, loaded.config.sync, cloudClient(loaded));
        const notable: TakeoverEntry[] = [];
        const tally = await engine.takeoverPreview((e) => {
          if (report) writeSync(report, `${JSON.stringify(e)}\n`);
          if ((e.outcome === 'soft' || e.outcome === 'refused' || (e.outcome === 'hard' && !e.synced)) && notable.length < 200) notable.push(e);
        });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(tally)}\n`);
          return;
        }
        const lines = [
          'Takeover preview (nothing was written):',
          `  hard match (same immutable id): ${tally.hard}, of which ${tally.takenOver} cloud-managed objects taken over`,
          `  soft match (UPN or primary SMTP address): ${tally.soft}`,
          `  created: ${tally.new}`,
          `  refused: ${tally.refused}`,
        ];
        for (const e of notable) lines.push(`  ${e.outcome.padEnd(7)} ${e.type} ${e.dn}${e.objectId ? ` → ${e.objectId}` : ''}${e.by ? ` (by ${e.by})` : ''}${e.reason ? `: ${e.reason}` : ''}`);
        if (opts.report) lines.push(`Every object: ${opts.report}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        if (report !== null) closeSync(report);
        space.close();
      }
    });

  connect
    .command('preview')
    .description('One object, by DN or UPN: what was imported, what the rules make of it, what the cloud holds, and what the next export does')
    .argument('<dn-or-upn>')
    .addOption(configOption())
    .option('--json', 'print as JSON')
    .action((target: string, opts: { config?: string; json?: boolean }) => {
      const loaded = loadConfig(configPathFrom(opts.config));
      const space = ConnectorSpace.open(spaceDirectory(loaded));
      try {
        const p = new SyncEngine(space, loaded.config.sync, null).preview(target);
        if (!p) throw new ConnectError('ad_container_not_found', `no imported object has the DN or userPrincipalName ${target}`, { subject: target, fix: 'check the spelling, run skybridge connect import, and check that it is inside the configured containers' });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(p, null, 2)}\n`);
          return;
        }
        const lines = [`${p.dn} (${p.kind}, objectGUID ${p.guid})`, `  scope: ${p.scope ?? 'in scope'}`];
        if (p.projection.kind === 'export') {
          const sources = p.projection.sources ?? {};
          lines.push(`  rules: exported as a ${p.projection.type}, immutable id ${p.immutableId}`, ...Object.entries(p.projection.attributes).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}${sources[k] && sources[k] !== 'default' ? `   (rule "${sources[k]}")` : ''}`));
        }
        else if (p.projection.kind === 'skip') lines.push(`  rules: not exported (${p.projection.reason})`);
        else lines.push(`  rules: error ${p.projection.code}: ${p.projection.message}`);
        lines.push(`  in the cloud: ${p.exported ? `${p.exported.type} ${p.exported.objectId ?? ''} (immutable id ${p.exported.immutableId})` : 'not exported'}`, `  next export: ${p.action}`);
        if (p.error) lines.push(`  sync error: [${p.error.category}/${p.error.code}] ${p.error.message}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        space.close();
      }
    });

  connect
    .command('status')
    .description('What the connector space holds: objects, members, the last runs and import problems')
    .addOption(configOption())
    .option('--json', 'print as JSON')
    .action((opts: { config?: string; json?: boolean }) => {
      const loaded = loadConfig(configPathFrom(opts.config));
      const space = ConnectorSpace.open(spaceDirectory(loaded));
      try {
        const sync = new SyncEngine(space, loaded.config.sync, null);
        const phs = loaded.config.passwordHashSync.enabled ? { ...passwordSyncStatus(space), errorList: passwordSyncErrors(space) } : null;
        const status = { version: agentVersion, counts: space.counts(), runs: space.runs(5), problems: space.problems(), exported: sync.store.exportedCounts(), pending: sync.store.pending(), syncErrors: sync.store.errors(), passwordHashSync: phs };
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
          return;
        }
        const c = status.counts;
        const lines = [`Skybridge Connect ${agentVersion}`, `Connector space ${space.path}`, `  objects: ${c.objects} (${c.inScope} in scope), tombstones: ${c.deleted}, member values: ${c.members}`, 'Last runs:'];
        for (const r of status.runs) lines.push(`  #${r.id} ${r.kind} ${r.status} ${r.startedAt}${r.error ? `: ${r.error}` : ` (+${r.summary.added ?? 0} ~${r.summary.updated ?? 0} >${r.summary.renamed ?? 0} -${r.summary.deleted ?? 0})`}`);
        if (status.problems.length) lines.push(`Import problems (${status.problems.length}):`, ...status.problems.slice(0, 20).map((p) => `  ${p.message}`));
        lines.push(`Exported to the cloud: ${Object.entries(status.exported).map(([k, v]) => `${v} ${k}s`).join(', ') || 'nothing yet'}; pending: ${status.pending.objects} objects, ${status.pending.members} member changes, ${status.pending.deletes} deletions`);
        if (status.syncErrors.length) lines.push(`Sync errors (${status.syncErrors.length}):`, ...status.syncErrors.slice(0, 20).map((e) => `  [${e.category}/${e.code}] ${e.message}`));
        if (phs) {
          lines.push(`Password hash sync: ${phs.synced} of ${phs.users} exported users synchronized${phs.lastSyncedAt ? `, last at ${phs.lastSyncedAt}` : ''}`);
          if (phs.errorList.length) lines.push(`Password hash errors (${phs.errors}):`, ...phs.errorList.slice(0, 20).map((e) => `  [${e.code}] ${e.dn}: ${e.message}`));
        } else lines.push('Password hash sync: off (passwordHashSync.enabled in the configuration)');
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        space.close();
      }
    });
  return connect;
}

/** Writes mS-DS-ConsistencyGuid over LDAP as the connector account (sync.stampConsistencyGuid). */
const stamperFor = (loaded: LoadedConfig): Stamper => (items) => stampConsistencyGuids(loaded.config.activeDirectory, loaded.secrets.adPassword, items);

function cloudClient(loaded: LoadedConfig): CloudClient {
  const credentials = loadCredentials(loaded.config.cloud!.credentialsFile!);
  return new CloudClient(credentials, loaded.config.cloud!.caFile ? { ca: readFileSync(loaded.config.cloud!.caFile, 'utf8') } : {});
}

function describeHashes(h: PasswordSyncSummary): string {
  const extra = [h.notInCloud ? `${h.notInCloud} users not in the cloud yet (retried next time)` : '', h.errors ? `${h.errors} errors (skybridge connect status)` : ''].filter(Boolean).join(', ');
  return `Password hashes: ${h.stored} of ${h.candidates} due sent in ${(h.milliseconds / 1000).toFixed(1)} s${extra ? `; ${extra}` : ''}\n`;
}

const errorJson = (err: Error) => ({ message: err.message, ...(err instanceof ConnectError ? { code: err.code, fix: err.fix } : {}) });

function describeSync(s: SyncSummary, engine: SyncEngine): string {
  const p = s.plan;
  const lines = [`Sync: planned ${p.upserts} creations or updates, ${p.deletes} deletions, ${p.memberChanges} member changes (${p.objectsRead} objects compared)`];
  if (s.staging) lines.push(`  staging mode: nothing exported; pending ${s.pending.objects} objects, ${s.pending.members} member changes, ${s.pending.deletes} deletions`);
  if (s.export) {
    const e = s.export;
    lines.push(`  exported in ${e.batches} batches: ${e.created} created, ${e.updated} updated, ${e.unchanged} unchanged, ${e.deleted} deleted, ${e.memberChanges} member changes${e.quarantined ? `, ${e.quarantined} synced with a duplicate value held back` : ''}${e.retries ? `, ${e.retries} retries` : ''}`);
  }
  if (s.stamped) lines.push(`  stamped mS-DS-ConsistencyGuid on ${s.stamped} users`);
  if (s.confirmation) lines.push(`  confirmed through the change feed: ${s.confirmation.confirmed} objects${s.confirmation.changedInCloud ? `; ${s.confirmation.changedInCloud} changed in the cloud since, sent again next cycle` : ''}`);
  const errors = engine.store.errors();
  if (errors.length) {
    lines.push(`  ${errors.length} objects have sync errors:`);
    for (const e of errors.slice(0, 10)) lines.push(`    [${e.category}/${e.code}] ${e.message}`);
    if (errors.length > 10) lines.push(`    … and ${errors.length - 10} more (skybridge connect status)`);
  }
  return `${lines.join('\n')}\n`;
}

function describeDryRun(r: ReturnType<SyncEngine['dryRun']>, shown: DryRunChange[], reportFile?: string): string {
  const n = r.counts.upserts + r.counts.members + r.counts.deletes;
  const lines = [`Dry run: ${n} changes would be exported (${r.counts.upserts} creations or updates, ${r.counts.members} member changes, ${r.counts.deletes} deletions; delete threshold ${r.deleteLimit}); nothing was changed`];
  for (const c of shown) {
    if (c.action === 'members') lines.push(`  members ${c.dn}: +${c.add} -${c.remove}`);
    else lines.push(`  ${c.action} ${c.type ?? ''} ${c.dn}${c.attributes ? ` ${JSON.stringify(c.attributes)}` : ''}`);
  }
  if (n > shown.length) lines.push(`  … and ${n - shown.length} more${reportFile ? '' : ' (--report FILE writes every change)'}`);
  if (reportFile) lines.push(`Every change: ${reportFile}`);
  return `${lines.join('\n')}\n`;
}

function progressBar() {
  const bar = new SingleBar({ format: ' {phase} |{bar}| {value} objects, {rate}/s', hideCursor: true, clearOnComplete: true, stream: process.stderr, etaBuffer: 50 }, undefined);
  let started = 0;
  const begin = Date.now();
  return {
    update: (p: ImportProgress) => {
      const total = Math.max(p.expected, p.objectsRead, 1);
      const rate = Math.round(p.objectsRead / Math.max(0.001, (Date.now() - begin) / 1000));
      if (!started) {
        bar.start(total, p.objectsRead, { phase: p.phase, rate });
        started = 1;
      }
      bar.setTotal(total);
      bar.update(p.objectsRead, { phase: p.phase.padEnd(10), rate });
    },
    stop: () => { if (started) bar.stop(); started = 0; },
  };
}

export function describe(s: ImportSummary): string {
  const lines = [
    `${s.kind === 'full' ? 'Full' : 'Delta'} import from ${s.server} (${s.tracking === 'dirsync' ? 'DirSync' : 'uSNChanged polling'})${s.reason ? `: full because ${s.reason}` : ''}`,
    `  read ${s.objectsRead} objects in ${(s.durationMs / 1000).toFixed(2)} s (${s.rate}/s)`,
    `  added ${s.added}, updated ${s.updated}, renamed or moved ${s.renamed}, deleted ${s.deleted}, unchanged ${s.unchanged}`,
    `  member values: +${s.memberValuesAdded} -${s.memberValuesRemoved}; ${s.searches} searches, ${s.rangeRequests} ranged reads`,
  ];
  if (s.problems) lines.push(`  ${s.problems} objects could not be imported: see skybridge connect status`);
  return `${lines.join('\n')}\n`;
}

function reportProblems(space: ConnectorSpace, json?: boolean): void {
  if (json) return;
  const problems = space.problems();
  for (const p of problems.slice(0, 10)) process.stderr.write(`skybridge: warning: ${p.message}\n`);
  if (problems.length > 10) process.stderr.write(`skybridge: … and ${problems.length - 10} more (skybridge connect status)\n`);
}
