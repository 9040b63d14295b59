/**
 * `skybridge connect run`, the long-running service: import each change as
 * Active Directory signals it (and every pollIntervalSeconds at the
 * latest), export it, send the changed password hashes, report a heartbeat
 * after each cycle; keep the channel to the cloud open for pass-through
 * authentication. Everything it does is counted in its metrics and said in
 * its log.
 */
import type { HeartbeatRequest } from '@skybridge/protocol';
import type { LoadedConfig } from '../config/load-config.ts';
import type { CloudClient } from '../cloud/cloud-client.ts';
import { ChannelRunner } from '../cloud/channel-runner.ts';
import { ConnectError } from '../errors.ts';
import { AdImporter } from '../ad/importer.ts';
import { ImportWatcher } from '../ad/import-watcher.ts';
import { readLockoutThreshold } from '../ad/domain-policy.ts';
import type { ConnectorSpace } from '../space/connector-space.ts';
import { SyncEngine, type Stamper } from '../sync/engine.ts';
import { PassThroughAuthenticator } from '../pta/pass-through.ts';
import { passwordHashSyncFor } from '../phs/from-config.ts';
import { passwordSyncStatus } from '../phs/password-hash-sync.ts';
import type { AgentLog } from '../observability/log.ts';
import type { AgentMetrics } from '../observability/metrics.ts';

export interface AgentServiceOptions {
  version: string;
  log: AgentLog;
  metrics: AgentMetrics;
  stamper: Stamper;
}

export interface AgentService {
  stop(): Promise<void>;
}

export async function startAgentService(loaded: LoadedConfig, space: ConnectorSpace, cloud: CloudClient | null, o: AgentServiceOptions): Promise<AgentService> {
  const staging = loaded.config.sync.staging;
  const ad = loaded.config.activeDirectory;
  if (!cloud && !staging) throw new ConnectError('sync_not_registered', `${loaded.path}: there is no cloud section`, { subject: 'cloud.url', fix: 'add cloud: { url: https://… } and run skybridge connect register' });
  const { log, metrics } = o;
  const engine = new SyncEngine(space, loaded.config.sync, staging ? null : cloud);
  const importer = new AdImporter(ad, loaded.secrets.adPassword, space);
  const phs = cloud ? passwordHashSyncFor(loaded, space, cloud) : null;
  /** the last password hash run, reported with each heartbeat (the cloud alerts when it fails or goes stale) */
  let hashState: NonNullable<HeartbeatRequest['passwordHashSync']> | undefined;
  const hashCounts = () => {
    const s = passwordSyncStatus(space);
    return { synced: s.synced, errors: s.errors };
  };
  // the domain's lockout threshold, reported with each heartbeat (read again at each start)
  const lockoutThreshold = cloud ? await readLockoutThreshold(ad, loaded.secrets.adPassword).catch((err: Error) => {
    log.warn(`could not read the domain's lockout threshold (${err.message}); the cloud keeps its default smart lockout`);
    return null;
  }) : null;

  const watcher = new ImportWatcher(importer, ad, loaded.secrets.adPassword, {
    afterRun: async (imported) => {
      const startedAt = new Date().toISOString();
      const timer = metrics.cycleSeconds.startTimer();
      const s = await engine.cycle({ stamper: o.stamper });
      // password hashes of users whose password changed (pwdLastSet moved), after the objects
      if (phs && !staging) {
        try {
          const h = await phs.run();
          metrics.hashesSent.inc(h.stored);
          metrics.hashRuns.inc({ result: 'ok' });
          if (h.candidates) log.info(`password hashes: ${h.stored} sent${h.notInCloud ? `, ${h.notInCloud} users not in the cloud yet` : ''}${h.errors ? `, ${h.errors} errors (skybridge connect status)` : ''}`, { passwordHashes: h });
          hashState = { lastRunAt: new Date().toISOString(), ok: true, ...hashCounts() };
        } catch (err) {
          metrics.hashRuns.inc({ result: 'failed' });
          log.error(`password hash synchronization failed, retrying at the next change: ${(err as Error).message}`, { code: (err as ConnectError).code });
          hashState = { lastRunAt: new Date().toISOString(), ok: false, error: (err as Error).message.slice(0, 1000), ...hashCounts() };
        }
      }
      const e = s.export;
      const errors = engine.store.errors().length;
      timer();
      metrics.cycles.inc({ kind: imported.kind, result: 'ok' });
      metrics.lastCycle.setToCurrentTime();
      metrics.syncErrors.set(errors);
      if (e) {
        metrics.exported.inc({ operation: 'created' }, e.created);
        metrics.exported.inc({ operation: 'updated' }, e.updated);
        metrics.exported.inc({ operation: 'deleted' }, e.deleted);
        metrics.memberChanges.inc(e.memberChanges);
      }
      if (imported.objectsRead || s.plan.upserts || s.plan.deletes || s.plan.memberChanges || imported.kind === 'full') {
        log.info(`${imported.kind} import: ${imported.objectsRead} read; sync: ${e ? `${e.created} created, ${e.updated} updated, ${e.deleted} deleted, ${e.memberChanges} member changes` : `staging, ${s.pending.objects + s.pending.deletes} pending`}${errors ? `; ${errors} objects with errors` : ''}`,
          { import: { kind: imported.kind, read: imported.objectsRead }, export: e ?? null, errors });
      }
      await cloud?.heartbeat({
        version: o.version, role: staging ? 'staging' : 'active',
        ...(lockoutThreshold === null ? {} : { domainPolicy: { lockoutThreshold } }),
        ...(hashState ? { passwordHashSync: hashState } : {}),
        lastCycle: { kind: imported.kind, startedAt, finishedAt: new Date().toISOString(), adds: e?.created ?? 0, updates: e?.updated ?? 0, deletes: e?.deleted ?? 0, errors },
      }).catch((err: Error) => log.warn(`heartbeat failed: ${err.message}`));
    },
    onError: (err) => {
      metrics.cycles.inc({ kind: 'unknown', result: 'failed' });
      log.error(`cycle failed, retrying: ${err.message}`, { code: (err as ConnectError).code });
    },
    onNotifierError: (err, retry) => log.warn(`change notification lost (${err.message}); reconnecting in ${Math.round(retry / 1000)} s`),
  });

  // the channel: every registered agent answers pass-through authentication, active or standby
  const authenticator = cloud ? new PassThroughAuthenticator(ad, cloud.credentials.privateJwk) : null;
  const channel = cloud ? new ChannelRunner(cloud, {
    version: o.version,
    log: (line) => log.info(line),
    onRequest: async (request) => {
      if (request.kind === 'ping') return { pong: true };
      if (request.kind === 'passThroughAuthentication') {
        const done = metrics.passThroughSeconds.startTimer();
        try {
          const answer = await authenticator!.handle(request.payload);
          metrics.passThrough.inc({ outcome: answer.outcome });
          return answer;
        } catch (err) {
          metrics.passThrough.inc({ outcome: 'error' });
          throw err;
        } finally {
          done();
        }
      }
      throw new ConnectError('pta_bad_request', `this agent does not know the request ${request.kind as string}: upgrade it`);
    },
  }) : null;

  channel?.start();
  try {
    await watcher.start();
  } catch (err) {
    channel?.stop();
    authenticator?.close();
    throw err;
  }
  log.info(`running${staging ? ' in staging mode' : ''}: following Active Directory (Ctrl-C to stop)`);
  return {
    stop: async () => {
      channel?.stop();
      await watcher.stop().catch(() => {});
      authenticator?.close();
    },
  };
}
