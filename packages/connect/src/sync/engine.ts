/**
 * One sync cycle: plan (connector space → outbox), check the delete
 * threshold, export (outbox → cloud). Staging mode plans and exports
 * nothing; a dry run plans, reports every change, and keeps nothing.
 */
import { ConnectError } from '../errors.ts';
import type { CloudClient } from '../cloud/cloud-client.ts';
import type { ConnectorSpace } from '../space/connector-space.ts';
import { ExportStore, phases, type Exported, type OutboxItem, type SyncErrorRecord } from './export-store.ts';
import { RuleSet, type RuledProjection } from '../rules/rule-set.ts';
import type { FilterConfig, RuleConfig } from '../rules/rules-config.ts';
import { immutableIdOf } from './source-anchor.ts';
import { Exporter, type ExportSummary, type ExporterOptions } from './exporter.ts';
import { exportHash, mergePlanSummaries, planInSteps, planInto, rulesKey, type PlanSummary } from './planner.ts';
import type { SourceAnchor } from './source-anchor.ts';

export interface SyncSettings {
  sourceAnchor: SourceAnchor;
  /** deletions one cycle may export without an administrator allowing them: a count, or a percentage of exported objects */
  deleteThreshold: number | string;
  /** plan, never export */
  staging: boolean;
  /** write objectGUID bytes into mS-DS-ConsistencyGuid of exported users (with that attribute as the anchor) */
  stampConsistencyGuid?: boolean;
  /** custom rules over the defaults */
  rules?: RuleConfig[];
  filter?: FilterConfig;
}

/** Writes mS-DS-ConsistencyGuid in AD (ad/consistency-guid.ts); the engine gives it the users to stamp. */
export type Stamper = (items: { guid: string; dn: string }[]) => Promise<{ stamped: number; skipped: number }>;

export interface SyncSummary {
  plan: PlanSummary;
  export: ExportSummary | null;
  /** users whose mS-DS-ConsistencyGuid this cycle stamped */
  stamped?: number;
  /** the change feed read back after the export: objects as the agent left them, and objects someone changed in the cloud since (sent again next cycle) */
  confirmation?: { confirmed: number; changedInCloud: number };
  pending: { objects: number; members: number; deletes: number };
  staging: boolean;
  durationMs: number;
}

export interface DryRunChange {
  action: 'create-or-update' | 'delete' | 'members';
  dn: string;
  type?: string;
  immutableId?: string;
  attributes?: Record<string, unknown>;
  add?: number;
  remove?: number;
}

const allowedDeletesKey = 'sync.allowed_deletes';
/** set while the tenant shows the delete threshold alert this agent raised */
const deleteAlertKey = 'sync.delete_alert';
/** set once the users exported before stamping was turned on were queued for it */
const stampingKey = 'sync.stamping';
/** how far the agent has read the cloud's change feed */
const feedCursorKey = 'sync.feed_cursor';

export class SyncEngine {
  readonly space: ConnectorSpace;
  readonly store: ExportStore;
  readonly #settings: SyncSettings;
  readonly #cloud: CloudClient | null;
  readonly #exporterOptions: ExporterOptions;

  constructor(space: ConnectorSpace, settings: SyncSettings, cloud: CloudClient | null, exporterOptions: ExporterOptions = {}) {
    this.space = space;
    this.store = new ExportStore(space.db);
    this.#settings = settings;
    this.#cloud = cloud;
    this.#exporterOptions = exporterOptions;
  }

  #rules(): RuleSet {
    const domain = this.space.getMeta('ad.domain');
    if (!domain) throw new ConnectError('change_state_invalid', 'nothing has been imported from Active Directory yet', { fix: 'run skybridge connect import first' });
    const rules = new RuleSet(
      { domainDns: domain.split(',').map((p) => p.replace(/^DC=/i, '')).join('.').toLowerCase() },
      { rules: this.#settings.rules ?? [], filter: this.#settings.filter ?? { groups: [], exclude: [] } },
    );
    if (rules.filterGroupDns.length) {
      const groups = rules.filterGroupDns.map((dn) => {
        const g = this.space.getByDn(dn);
        if (!g || g.deleted || g.kind !== 'group') {
          throw new ConnectError('config_invalid', `sync.filter.groups: ${dn} is ${g && !g.deleted ? `a ${g.kind}, not a group` : 'not an imported group'}`, {
            subject: 'sync.filter.groups', fix: 'give the distinguished name of a group inside activeDirectory.containers (skybridge connect preview DN shows what was imported)',
          });
        }
        return g.guid;
      });
      rules.useFilterGroups((o) => groups.includes(o.guid) || groups.some((g) => this.space.isMember(g, o.dn)));
    }
    return rules;
  }

  /** Plan options: a changed rule set plans every object again (only the differences are exported). */
  #planOptions(full: boolean) {
    const rules = this.#rules();
    return { rules, anchor: this.#settings.sourceAnchor, full, rescan: this.space.getMeta(rulesKey) !== rules.fingerprint };
  }

  /** Deletions the threshold lets through without an administrator. */
  deleteLimit(): number {
    const t = this.#settings.deleteThreshold;
    if (typeof t === 'number') return t;
    // "5%" (the config schema checks the form)
    const exported = Object.values(this.store.exportedCounts()).reduce((a, b) => a + b, 0);
    return Math.floor((exported * Number(t.slice(0, -1))) / 100);
  }

  /** Lets the deletions now pending through once (skybridge connect sync --allow-deletes). */
  allowPendingDeletes(): number {
    const n = this.store.pending().deletes;
    this.space.setMeta(allowedDeletesKey, String(n));
    return n;
  }

  /**
   * Plans and exports while an import is still reading. Every quarter of a
   * second, what the import has committed since the last round is planned;
   * once the import is done, one last cycle runs (its sweep of objects gone
   * from AD, and the delete threshold, act on the complete read only). The
   * import reads AD while the cloud applies the batches, instead of one
   * after the other.
   *
   * A round's export (and its reading of the change feed) runs while the
   * next round plans: the cloud applies batches while the agent plans, and
   * the last cycle's plan overlaps the last round's export. Each export
   * sends only what its own plan wrote (the outbox items up to the last id
   * that plan took): a later plan's member changes may name objects that
   * only its own export sends first. One export at a time, in plan order;
   * everything they share with the plans is SQLite work in synchronous
   * transactions, so the two never interleave inside a transaction.
   */
  async cycleWhileImporting(importing: Promise<unknown>, options: { stamper?: Stamper } = {}): Promise<SyncSummary> {
    const started = Date.now();
    let finished = false;
    const done = importing.then(() => { finished = true; }, () => { finished = true; });
    const rounds: SyncSummary[] = [];
    let seen = this.space.currentSeq;
    /** the last round's export, while the next one plans */
    let exporting: Promise<SyncSummary> | null = null;
    const exported = async (): Promise<SyncSummary | null> => {
      const round = exporting;
      exporting = null;
      if (!round) return null;
      const summary = await round;
      rounds.push(summary);
      return summary;
    };
    try {
      while (!finished) {
        await Promise.race([done, new Promise((r) => setTimeout(r, 250))]);
        // nothing new yet, or the import has not yet said which domain it reads (the rules need it)
        if (finished || this.space.currentSeq === seen || !this.space.getMeta('ad.domain')) continue;
        seen = this.space.currentSeq;
        const roundStarted = Date.now();
        const planned = await this.#plan(false);
        const upTo = this.store.lastPlannedId();
        await exported();
        exporting = this.#export(planned, roundStarted, { ...options, holdDeletes: true, upTo });
        exporting.catch(() => {}); // awaited by exported(); a failure meanwhile must not go unhandled
      }
      await importing;
      const lastStarted = Date.now();
      let planned = await this.#plan(false);
      const round = await exported();
      // objects the last round's export saw refused, or its change feed saw changed in the cloud, after that plan's
      // first step: planned again now, as a cycle does
      if (round && (round.export?.errors || round.export?.quarantined || round.confirmation?.changedInCloud)) planned = mergePlanSummaries([planned, await this.#plan(false)]);
      const last = await this.#export(planned, lastStarted, options);
      return mergeSummaries([...rounds, last], Date.now() - started);
    } catch (err) {
      await done; // never leave the import running behind a failed export…
      await (exporting as Promise<SyncSummary> | null)?.catch(() => {}); // …nor an export behind a failed import
      throw err;
    }
  }

  async cycle(options: { full?: boolean; stamper?: Stamper; holdDeletes?: boolean } = {}): Promise<SyncSummary> {
    const started = Date.now();
    return this.#export(await this.#plan(options.full ?? false), started, options);
  }

  #plan(full: boolean): Promise<PlanSummary> {
    return planInSteps(this.space, this.store, this.#planOptions(full));
  }

  /**
   * A cycle's export, after its plan: the delete threshold (unless the
   * deletions are held back), the export of the outbox (up to the item
   * `upTo`), the users to stamp, and the change feed's confirmation.
   */
  async #export(planned: PlanSummary, started: number, options: { stamper?: Stamper; holdDeletes?: boolean; upTo?: number }): Promise<SyncSummary> {
    const pending = this.store.pending();
    if (this.#settings.staging) return { plan: planned, export: null, pending, staging: true, durationMs: Date.now() - started };
    if (!this.#cloud) throw new ConnectError('sync_not_registered', 'this agent is not registered with a cloud', { fix: 'run skybridge connect register --url … --token …' });
    const limit = this.deleteLimit();
    const allowed = Number(this.space.getMeta(allowedDeletesKey) ?? 0);
    if (!options.holdDeletes && pending.deletes > limit && pending.deletes > allowed) {
      // the tenant sees the alert; an administrator may allow the deletions from the cloud
      const answer = await this.#cloud.reportPendingDeletions({ pending: pending.deletes, limit, sample: this.store.pendingDeletions(20) });
      this.space.setMeta(deleteAlertKey, '1');
      if (answer.allowed < pending.deletes) {
        throw new ConnectError('sync_delete_threshold', `this cycle would delete ${pending.deletes} objects from the cloud, more than the delete threshold (${limit}); nothing was exported, and the tenant shows the alert`, {
          fix: 'check why so many objects left the scope (a filter, an OU move, a failed import); if the deletions are right, allow them: in the cloud (POST /api/v1/sync/allow-deletes) or here (skybridge connect allow-deletes, or sync --allow-deletes)',
        });
      }
    }
    const exported = await new Exporter(this.space, this.store, this.#cloud, {
      ...this.#exporterOptions, stampConsistencyGuid: this.#settings.stampConsistencyGuid ?? false, holdDeletes: options.holdDeletes ?? false,
      ...(options.upTo === undefined ? {} : { upTo: options.upTo }),
    }).drain();
    if (!options.holdDeletes) this.space.setMeta(allowedDeletesKey, undefined);
    if (!options.holdDeletes && this.space.getMeta(deleteAlertKey)) {
      // the deletions went out (or the cause was fixed before they had to): the alert is over
      await this.#cloud.clearPendingDeletions();
      this.space.setMeta(deleteAlertKey, undefined);
    }
    // turning stamping on queues the users exported before; later exports queue themselves
    if (!this.#settings.stampConsistencyGuid) this.space.setMeta(stampingKey, undefined);
    else if (!this.space.getMeta(stampingKey)) this.space.transaction(() => { this.store.queueAllUnstamped(); this.space.setMeta(stampingKey, '1'); });
    const stamped = this.#settings.stampConsistencyGuid && options.stamper ? await this.#stamp(options.stamper) : undefined;
    const confirmation = await this.#confirm();
    return { plan: planned, export: exported, ...(stamped === undefined ? {} : { stamped }), confirmation, pending: this.store.pending(), staging: false, durationMs: Date.now() - started };
  }

  /**
   * Reads the cloud's change feed from where the last cycle stopped and holds
   * each synchronized object against what this agent last wrote: the same
   * version confirms the export; a later version, or a deletion the agent did
   * not make, means someone changed the object in the cloud, and the next
   * cycle sends it again (AD is the source of authority for it); a deleted
   * one as new, with its memberships.
   */
  async #confirm(): Promise<{ confirmed: number; changedInCloud: number }> {
    const out = { confirmed: 0, changedInCloud: 0 };
    let cursor = this.space.getMeta(feedCursorKey);
    for (;;) {
      const page = await this.#cloud!.changes(cursor, 5000, { objectsOnly: true, withoutAttributes: true });
      this.space.transaction(() => {
        for (const c of page.changes) {
          if (c.kind !== 'object' || !c.immutableId) continue;
          const exported = this.store.byImmutableId(c.immutableId);
          if (!exported) continue; // the agent deleted it, or never exported it
          const known = exported.version;
          if (!c.deleted && (known === undefined || c.version <= known)) {
            if (known === undefined) this.store.setVersion(exported.guid, c.version); // exported before versions were kept
            out.confirmed += 1;
            continue;
          }
          out.changedInCloud += 1;
          // changed: sent again. Deleted: the cloud dropped its links with it, so it goes again as new, with its
          // memberships (a group its whole member list, a user the groups it joins); what a later round planned for it
          // as an object the cloud holds is dropped (no export runs meanwhile: one at a time, and this is one's end)
          if (c.deleted) this.store.forgetExported(exported.guid);
          else this.store.markChangedInCloud(exported.guid);
          const dn = this.space.get(exported.guid)?.dn ?? c.immutableId;
          this.store.setError({
            guid: exported.guid, dn, category: 'other', code: 'changed_in_cloud', attribute: null,
            message: `${dn} was ${c.deleted ? 'deleted' : 'changed'} in the cloud after this agent's last write (version ${c.version}); the next cycle sends it again from Active Directory`,
          });
        }
        this.space.setMeta(feedCursorKey, page.cursor);
      });
      cursor = page.cursor;
      if (!page.hasMore) return out;
    }
  }

  /** Stamps the queued users, 500 at a time; a refusal for lack of rights stops it with the grant to make (the queue stays). */
  async #stamp(stamper: Stamper): Promise<number> {
    let stamped = 0;
    for (;;) {
      const items = this.store.stampQueue(500);
      if (!items.length) return stamped;
      stamped += (await stamper(items)).stamped;
      this.store.unqueueStamps(items.map((i) => i.guid));
    }
  }

  /**
   * The takeover preview (upgrading from another sync tool): how every
   * in-scope object would match in the cloud, asked 500 at a time, with
   * nothing written on either side. `onEntry` receives each object.
   */
  async takeoverPreview(onEntry: (e: TakeoverEntry) => void): Promise<TakeoverPreview> {
    if (!this.#cloud) throw new ConnectError('sync_not_registered', 'the takeover preview asks the cloud: this agent is not registered', { fix: 'run skybridge connect register first' });
    const rules = this.#rules();
    const tally: TakeoverPreview = { hard: 0, takenOver: 0, soft: 0, new: 0, refused: 0 };
    this.space.db.exec('BEGIN');
    try {
      // As if nothing had been exported or planned yet: every object in scope, once
      this.space.db.exec('DELETE FROM exports');
      this.space.db.exec('DELETE FROM outbox');
      planInto(this.space, this.store, { rules, anchor: this.#settings.sourceAnchor, full: true });
      const page = this.space.db.prepare("SELECT id, body FROM outbox WHERE kind = 'upsert' AND id > ? ORDER BY id LIMIT 500");
      let last = 0;
      for (;;) {
        const rows = page.all(last) as { id: number; body: string }[];
        if (!rows.length) break;
        last = rows.at(-1)!.id;
        const bodies = rows.map((r) => JSON.parse(r.body) as { type: 'user' | 'group' | 'contact'; immutableId: string; attributes: Record<string, unknown>; dn: string });
        const answer = await this.#cloud.matchPreview(bodies.map((b) => ({ type: b.type, immutableId: b.immutableId, attributes: b.attributes })));
        for (const r of answer.results) {
          const b = bodies[r.index]!;
          tally[r.outcome] += 1;
          if (r.outcome === 'hard' && r.synced === false) tally.takenOver += 1;
          onEntry({ dn: b.dn, type: b.type, immutableId: b.immutableId, outcome: r.outcome, objectId: r.objectId, synced: r.synced, by: r.by, reason: r.reason });
        }
      }
      return tally;
    } finally {
      this.space.db.exec('ROLLBACK');
    }
  }

  /**
   * One object, by DN or UPN: what AD holds (as imported), what the rules
   * make of it, what the cloud was last sent, and what the next export
   * would do. Reads only.
   */
  preview(dnOrUpn: string): ObjectPreview | null {
    const o = this.space.getByDn(dnOrUpn)
      ?? this.space.findByAttribute('userPrincipalName', dnOrUpn);
    if (!o) return null;
    const projection = this.#rules().project(o);
    const exported = this.store.get(o.guid);
    const error = this.store.error(o.guid) ?? null;
    let action: ObjectPreview['action'] = 'none';
    let immutableId: string | null = exported?.immutableId ?? null;
    if (projection.kind === 'export') {
      immutableId = immutableIdOf(o, this.#settings.sourceAnchor);
      action = !exported ? 'create' : exported.hash !== exportHash(projection.type, projection.attributes) ? 'update' : 'none';
    } else if (projection.kind === 'skip' && exported) action = 'delete';
    return { dn: o.dn, guid: o.guid, kind: o.kind, scope: o.scope, imported: o.attributes, projection, exported: exported ?? null, immutableId, action, error };
  }

  /**
   * What a cycle would change, without keeping anything (the outbox, the
   * cursor and the errors are left as they were). Each change goes to
   * `onChange` in export order (objects, memberships, deletions), so a
   * report of a million changes never sits in memory.
   */
  dryRun(options: { full?: boolean } = {}, onChange: (c: DryRunChange) => void): { plan: PlanSummary; counts: { upserts: number; members: number; deletes: number }; deleteLimit: number } {
    this.space.db.exec('BEGIN');
    try {
      const planned = planInto(this.space, this.store, this.#planOptions(options.full ?? false));
      const counts = { upserts: 0, members: 0, deletes: 0 };
      const page = this.space.db.prepare('SELECT id, phase, guid, body FROM outbox WHERE (phase, id) > (?, ?) ORDER BY phase, id LIMIT 1000');
      let after: [number, number] = [-1, 0];
      for (;;) {
        const rows = page.all(...after) as { id: number; phase: number; guid: string; body: string }[];
        if (!rows.length) break;
        for (const r of rows) {
          const b = JSON.parse(r.body) as OutboxItem['body'];
          const dn = 'dn' in b ? b.dn : (this.space.get(r.guid)?.dn ?? r.guid);
          if (b.kind === 'upsert') {
            counts.upserts += 1;
            onChange({ action: 'create-or-update', dn, type: b.type, immutableId: b.immutableId, attributes: b.attributes });
          } else if (b.kind === 'delete') {
            counts.deletes += 1;
            onChange({ action: 'delete', dn, type: b.type, immutableId: b.immutableId });
          } else {
            counts.members += 1;
            onChange({ action: 'members', dn, add: b.add.length, remove: b.remove.length });
          }
        }
        const last = rows.at(-1)!;
        after = [last.phase, last.id];
      }
      return { plan: planned, counts, deleteLimit: this.deleteLimit() };
    } finally {
      this.space.db.exec('ROLLBACK');
    }
  }
}

export interface ObjectPreview {
  dn: string;
  guid: string;
  kind: string;
  scope: string | null;
  imported: Record<string, string[]>;
  projection: RuledProjection;
  exported: Exported | null;
  immutableId: string | null;
  /** what the next export would do with it */
  action: 'create' | 'update' | 'delete' | 'none';
  error: SyncErrorRecord | null;
}

export interface TakeoverEntry {
  dn: string;
  type: string;
  immutableId: string;
  outcome: 'hard' | 'soft' | 'new' | 'refused';
  objectId?: string | undefined;
  synced?: boolean | undefined;
  by?: string | undefined;
  reason?: string | undefined;
}

export interface TakeoverPreview {
  hard: number;
  /** of the hard matches, those onto cloud-managed objects (taken over) */
  takenOver: number;
  soft: number;
  new: number;
  refused: number;
}

const order = (c: DryRunChange) => (c.action === 'create-or-update' ? phases.objects : c.action === 'members' ? phases.members : phases.deletes);

/** One summary for the rounds of an overlapped cycle: counts add up, the last round says what is pending. */
function mergeSummaries(rounds: SyncSummary[], durationMs: number): SyncSummary {
  const last = rounds.at(-1)!;
  const sum = <T extends object>(pick: (s: SyncSummary) => T | null | undefined): T | null => {
    const parts = rounds.map(pick).filter((x): x is T => !!x);
    if (!parts.length) return null;
    const out = { ...parts[0]! } as Record<string, unknown>;
    for (const p of parts.slice(1)) for (const [k, v] of Object.entries(p)) if (typeof v === 'number' && typeof out[k] === 'number') out[k] = (out[k] as number) + v;
    return out as T;
  };
  const plan = mergePlanSummaries(rounds.map((s) => s.plan));
  const stamped = rounds.reduce((n, s) => n + (s.stamped ?? 0), 0);
  const confirmation = sum((s) => s.confirmation);
  return {
    plan, export: sum((s) => s.export), pending: last.pending, staging: last.staging, durationMs,
    ...(rounds.some((s) => s.stamped !== undefined) ? { stamped } : {}),
    ...(confirmation ? { confirmation } : {}),
  };
}
