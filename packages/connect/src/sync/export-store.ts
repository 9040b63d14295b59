/**
 * The sync engine's state, in the connector space's database:
 *
 * - exports: what the cloud holds of each object, as last confirmed
 *   (immutable id, type, attributes and their hash, cloud object id);
 * - outbox: the changes planned and not yet confirmed, in order and in three
 *   phases (objects, then memberships, then deletions), so that a crash at
 *   any point resumes with the same batches;
 * - sync_errors: objects a rule could not project or the cloud refused,
 *   retried every cycle until they succeed;
 * - member_retries: the members named by member changes the cloud refused,
 *   per group, until a plan sends their links again.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { ObjectType, SyncErrorCategory } from '@skybridge/protocol';
import { ConnectError } from '../errors.ts';

export interface Exported {
  guid: string;
  immutableId: string;
  type: ObjectType;
  hash: string;
  attributes: Record<string, unknown>;
  objectId: string | null;
}

export const phases = { objects: 1, members: 2, deletes: 3 } as const;

export type OutboxBody =
  | { kind: 'upsert'; type: ObjectType; immutableId: string; attributes: Record<string, unknown>; hash: string; dn: string }
  | { kind: 'delete'; type: ObjectType; immutableId: string; dn: string }
  | { kind: 'members'; add: string[]; remove: string[] };

export interface OutboxItem {
  id: number;
  phase: number;
  guid: string;
  body: OutboxBody;
}

export interface SyncErrorRecord {
  guid: string;
  dn: string;
  category: SyncErrorCategory | 'rule';
  code: string;
  message: string;
  attribute: string | null;
  at: string;
}

export class ExportStore {
  readonly #db: DatabaseSync;
  readonly #s: Record<string, StatementSync>;

  constructor(db: DatabaseSync) {
    this.#db = db;
    const p = (sql: string) => db.prepare(sql);
    this.#s = {
      get: p('SELECT guid, immutable_id, type, hash, attrs, object_id FROM exports WHERE guid = ?'),
      peek: p('SELECT guid, immutable_id, type, hash, object_id FROM exports WHERE guid = ?'),
      // one row of VALUES, not INSERT … SELECT: a statement that may insert several rows makes SQLite keep a statement journal (its pages written to a temporary file)
      putFromOutbox: p(`INSERT INTO exports (guid, immutable_id, type, hash, attrs, object_id, exported_at)
        VALUES (?, ?, ?, ?, (SELECT json_extract(body, '$.attributes') FROM outbox WHERE id = ? AND kind = 'upsert'), ?, ?)
        ON CONFLICT (guid) DO UPDATE SET immutable_id = excluded.immutable_id, type = excluded.type, hash = excluded.hash, attrs = excluded.attrs,
          object_id = coalesce(excluded.object_id, exports.object_id), exported_at = excluded.exported_at`),
      remove: p('DELETE FROM exports WHERE guid = ?'),
      enqueue: p('INSERT INTO outbox (phase, guid, kind, body) VALUES (?, ?, ?, ?)'),
      next: p('SELECT id, phase, guid, body FROM outbox WHERE (phase, id) > (?, ?) AND id <= ? ORDER BY phase, id LIMIT ?'),
      nextWithoutDeletes: p('SELECT id, phase, guid, body FROM outbox WHERE (phase, id) > (?, ?) AND id <= ? AND phase < ? ORDER BY phase, id LIMIT ?'),
      lastPlannedId: p("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'"),
      doneRange: p('DELETE FROM outbox WHERE phase = ? AND id BETWEEN ? AND ?'),
      hasErrors: p('SELECT 1 FROM sync_errors LIMIT 1'),
      cancelDeletion: p('DELETE FROM outbox WHERE guid = ? AND phase = ?'),
      isPlanned: p("SELECT 1 FROM outbox WHERE guid = ? AND kind = 'upsert' LIMIT 1"),
      queueStamp: p('INSERT OR IGNORE INTO stamp_queue (guid) VALUES (?)'),
      setVersion: p('INSERT INTO cloud_versions (guid, version) VALUES (?, ?) ON CONFLICT (guid) DO UPDATE SET version = excluded.version'),
      forgetVersion: p('DELETE FROM cloud_versions WHERE guid = ?'),
      byImmutableId: p('SELECT e.guid, v.version FROM exports e LEFT JOIN cloud_versions v ON v.guid = e.guid WHERE e.immutable_id = ?'),
      markStale: p("UPDATE exports SET hash = '' WHERE guid = ?"),
      unqueueStamp: p('DELETE FROM stamp_queue WHERE guid = ?'),
      pending: p('SELECT phase, count(*) AS n FROM outbox GROUP BY phase'),
      setError: p(`INSERT INTO sync_errors (guid, dn, category, code, message, attribute, at) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (guid) DO UPDATE SET dn = excluded.dn, category = excluded.category, code = excluded.code, message = excluded.message, attribute = excluded.attribute, at = excluded.at`),
      clearError: p('DELETE FROM sync_errors WHERE guid = ?'),
      clearRuleError: p("DELETE FROM sync_errors WHERE guid = ? AND category = 'rule'"),
      // (a group's refused member changes stay its error while their members wait to go again, and members the
      // cloud did not hold stay it until the cloud is told nothing more is owed: endMemberError)
      clearExportError: p(`DELETE FROM sync_errors WHERE guid = ? AND category <> 'rule'
        AND NOT (attribute IS 'members' AND (code = 'member_not_found' OR EXISTS (SELECT 1 FROM member_retries WHERE group_guid = ?)))`),
      forgetPlanned: p('DELETE FROM outbox WHERE guid = ?'),
      // the item ids follow the guid in its index: the last planned upsert is one probe
      lastUpsert: p(`SELECT json_extract(body, '$.immutableId') AS immutable_id, json_extract(body, '$.type') AS type, json_extract(body, '$.hash') AS hash
        FROM outbox WHERE guid = ? AND kind = 'upsert' ORDER BY id DESC LIMIT 1`),
      holdMemberChanges: p(`INSERT OR IGNORE INTO member_retries (group_guid, member_guid)
        SELECT o.guid, j.value FROM outbox o, json_each(o.body, '$.add') j WHERE o.id = ? AND o.kind = 'members'
        UNION ALL SELECT o.guid, j.value FROM outbox o, json_each(o.body, '$.remove') j WHERE o.id = ? AND o.kind = 'members'`),
      holdMember: p('INSERT OR IGNORE INTO member_retries (group_guid, member_guid) VALUES (?, ?)'),
      anyMemberRetries: p('SELECT 1 FROM member_retries LIMIT 1'),
      memberRetryGroups: p('SELECT DISTINCT group_guid FROM member_retries'),
      memberRetries: p('SELECT member_guid FROM member_retries WHERE group_guid = ? AND member_guid > ? ORDER BY member_guid LIMIT ?'),
      dropMemberRetries: p('DELETE FROM member_retries WHERE group_guid = ?'),
      membersOwed: p("SELECT 1 FROM member_retries WHERE group_guid = ? UNION ALL SELECT 1 FROM outbox WHERE guid = ? AND kind = 'members' AND id > ? LIMIT 1"),
      clearMemberError: p("DELETE FROM sync_errors WHERE guid = ? AND attribute = 'members' AND category <> 'rule' AND NOT EXISTS (SELECT 1 FROM member_retries WHERE group_guid = ?)"),
      errors: p('SELECT guid, dn, category, code, message, attribute, at FROM sync_errors ORDER BY dn'),
      error: p('SELECT guid, dn, category, code, message, attribute, at FROM sync_errors WHERE guid = ?'),
      errorGuids: p('SELECT guid FROM sync_errors'),
      exportedCount: p('SELECT type, count(*) AS n FROM exports GROUP BY type'),
    };
  }

  get(guid: string): Exported | undefined {
    const r = this.#s.get!.get(guid) as { guid: string; immutable_id: string; type: ObjectType; hash: string; attrs: string; object_id: string | null } | undefined;
    return r ? { guid: r.guid, immutableId: r.immutable_id, type: r.type, hash: r.hash, attributes: JSON.parse(r.attrs) as Record<string, unknown>, objectId: r.object_id } : undefined;
  }

  /** What was exported of an object, without its attributes (the planner compares hashes; member lists need immutable ids). */
  peek(guid: string): Omit<Exported, 'attributes'> | undefined {
    const r = this.#s.peek!.get(guid) as { guid: string; immutable_id: string; type: ObjectType; hash: string; object_id: string | null } | undefined;
    return r ? { guid: r.guid, immutableId: r.immutable_id, type: r.type, hash: r.hash, objectId: r.object_id } : undefined;
  }

  /**
   * What the cloud will hold of an object once the outbox has gone out: its
   * last planned upsert if one waits, else what was exported. A sync's
   * rounds plan while the round before exports, and an object planned in one
   * round may change again before that round's export has recorded it: the
   * next round compares with what is on its way, not with what the cloud held
   * before (else a change back, a deletion, or a group's member removals
   * would be lost).
   */
  planned(guid: string): (Pick<Exported, 'guid' | 'immutableId' | 'type' | 'hash'> & { pending: boolean }) | undefined {
    const r = this.#s.lastUpsert!.get(guid) as { immutable_id: string; type: ObjectType; hash: string } | undefined;
    if (r) return { guid, immutableId: r.immutable_id, type: r.type, hash: r.hash, pending: true };
    const e = this.peek(guid);
    return e && { guid, immutableId: e.immutableId, type: e.type, hash: e.hash, pending: false };
  }

  /**
   * Records the export of a planned upsert, its attributes taken from the
   * outbox item `id` (still in the outbox until its batch is stored) inside
   * SQLite, without parsing or serializing them again.
   */
  putFromOutbox(id: number, e: Omit<Exported, 'attributes'>): void {
    try {
      this.#s.putFromOutbox!.run(e.guid, e.immutableId, e.type, e.hash, id, e.objectId, new Date().toISOString());
    } catch (err) {
      // attrs is NOT NULL: the subquery found no planned upsert (other failures, a taken immutable id, go as they are)
      if (!/NOT NULL constraint failed: exports\.attrs/.test((err as Error).message)) throw err;
      throw new ConnectError('connector_space_invalid', `outbox item ${id} (object ${e.guid}) is not a planned upsert: its export cannot be recorded`, {
        subject: e.guid, cause: err,
        fix: 'run skybridge connect sync again (the batch goes again, and the cloud answers what it already did); if this comes back, run skybridge connect sync --full',
      });
    }
  }

  remove(guid: string): void {
    this.#s.remove!.run(guid);
    this.#s.forgetVersion!.run(guid);
  }

  enqueue(phase: number, guid: string, body: OutboxBody): void {
    this.#s.enqueue!.run(phase, guid, body.kind, JSON.stringify(body));
  }

  /**
   * The next planned changes, in export order (without deletions when they
   * are held back), after `after` (items already in flight), and planned no
   * later than the item `upTo` (lastPlannedId: what a plan had written when
   * it ended, while the next plan writes more).
   */
  next(limit: number, options: { holdDeletes?: boolean; after?: { phase: number; id: number }; upTo?: number } = {}): OutboxItem[] {
    const { phase, id } = options.after ?? { phase: 0, id: 0 };
    const upTo = options.upTo ?? Number.MAX_SAFE_INTEGER;
    const rows = options.holdDeletes ? this.#s.nextWithoutDeletes!.all(phase, id, upTo, phases.deletes, limit) : this.#s.next!.all(phase, id, upTo, limit);
    return (rows as { id: number; phase: number; guid: string; body: string }[]).map((r) => ({ id: r.id, phase: r.phase, guid: r.guid, body: JSON.parse(r.body) as OutboxBody }));
  }

  /** The id of the last item ever planned (ids are never reused), 0 before the first. */
  lastPlannedId(): number {
    const r = this.#s.lastPlannedId!.get() as { seq: number } | undefined;
    return r ? Number(r.seq) : 0;
  }

  /** Takes a phase's items from `first` to `last` (ids) out of the outbox: a batch once its results are stored. */
  doneRange(phase: number, first: number, last: number): void {
    this.#s.doneRange!.run(phase, first, last);
  }

  /** Whether any object has a sync error recorded. */
  hasErrors(): boolean {
    return this.#s.hasErrors!.get() !== undefined;
  }

  /** Queues every exported user that has no mS-DS-ConsistencyGuid (stamping was just turned on). */
  queueAllUnstamped(): number {
    const r = this.#db.prepare(`INSERT OR IGNORE INTO stamp_queue (guid)
      SELECT e.guid FROM exports e JOIN objects o ON o.guid = e.guid
       WHERE e.type = 'user' AND o.deleted = 0 AND json_array_length(coalesce(json_extract(o.attrs, '$."mS-DS-ConsistencyGuid"'), '[]')) = 0`).run();
    return Number(r.changes);
  }

  setVersion(guid: string, version: number): void {
    this.#s.setVersion!.run(guid, version);
  }

  /** The exported object with this immutable id, and the cloud version the agent's last write left (one lookup per change read from the feed). */
  byImmutableId(immutableId: string): { guid: string; version: number | undefined } | undefined {
    const r = this.#s.byImmutableId!.get(immutableId) as { guid: string; version: number | null } | undefined;
    return r ? { guid: r.guid, version: r.version ?? undefined } : undefined;
  }

  /** The cloud changed the object after the agent's last write: what the agent exported no longer counts, so the next plan sends it again. */
  markChangedInCloud(guid: string): void {
    this.#s.markStale!.run(guid);
    this.#s.forgetVersion!.run(guid);
  }

  queueStamp(guid: string): void {
    this.#s.queueStamp!.run(guid);
  }

  /** Users waiting for their mS-DS-ConsistencyGuid, with their DNs. */
  stampQueue(limit: number): { guid: string; dn: string }[] {
    return this.#db.prepare('SELECT q.guid, o.dn FROM stamp_queue q JOIN objects o ON o.guid = q.guid ORDER BY q.guid LIMIT ?').all(limit) as { guid: string; dn: string }[];
  }

  unqueueStamps(guids: string[]): void {
    for (const g of guids) this.#s.unqueueStamp!.run(g);
  }

  /** Is the object's creation or update planned and not yet exported? */
  isPlanned(guid: string): boolean {
    return this.#s.isPlanned!.get(guid) !== undefined;
  }

  /** An object planned for deletion is back in scope: the deletion no longer goes out. */
  cancelDeletion(guid: string): void {
    this.#s.cancelDeletion!.run(guid, phases.deletes);
  }

  /** The first planned deletions (what the delete threshold stopped), for the tenant's alert. */
  pendingDeletions(limit: number): { dn: string; type: 'user' | 'group' | 'contact'; immutableId: string }[] {
    const rows = this.#db.prepare('SELECT body FROM outbox WHERE phase = ? ORDER BY id LIMIT ?').all(phases.deletes, limit) as { body: string }[];
    return rows.flatMap((r) => {
      const b = JSON.parse(r.body) as OutboxBody;
      return b.kind === 'delete' ? [{ dn: b.dn, type: b.type, immutableId: b.immutableId }] : [];
    });
  }

  /** Planned changes per phase. */
  pending(): { objects: number; members: number; deletes: number } {
    const out = { objects: 0, members: 0, deletes: 0 };
    for (const r of this.#s.pending!.all() as { phase: number; n: number }[]) {
      if (r.phase === phases.objects) out.objects = r.n;
      else if (r.phase === phases.members) out.members = r.n;
      else out.deletes = r.n;
    }
    return out;
  }

  setError(e: Omit<SyncErrorRecord, 'at'>): void {
    this.#s.setError!.run(e.guid, e.dn, e.category, e.code, e.message, e.attribute, new Date().toISOString());
  }

  /** A rule projects the object again: its rule error is over (errors the cloud gave stay until an export succeeds). */
  clearRuleError(guid: string): void {
    this.#s.clearRuleError!.run(guid);
  }

  /**
   * The cloud took the object: what an export or the change feed recorded is
   * over. A rule error stays: a later plan may have recorded it while this
   * export was under way, and only a plan clears it.
   */
  clearExportError(guid: string): void {
    this.#s.clearExportError!.run(guid, guid);
  }

  /**
   * The cloud deleted the object behind the agent's back: what the agent
   * exported, and what it planned on that basis, no longer holds. The next
   * plan sends the object as new, with its memberships (the cloud dropped its
   * links), or nothing if it has left the scope meanwhile.
   */
  forgetExported(guid: string): void {
    this.remove(guid);
    this.#s.forgetPlanned!.run(guid);
  }

  clearError(guid: string): void {
    this.#s.clearError!.run(guid);
  }

  /**
   * A member change the cloud refused (outbox item `id`, still in the outbox
   * until its batch is stored): its members are remembered, and the next
   * plan sends each one's link as the connector space holds it then
   * (planner.ts, retryMemberChanges). Not the refused change itself: member
   * changes planned after it may have gone through meanwhile, and sending an
   * old change after them would undo them.
   */
  holdMemberChanges(id: number): void {
    this.#s.holdMemberChanges!.run(id, id);
  }

  /** Members of a group the cloud did not add (it did not hold them): the next plan sends their links again. */
  holdMembers(group: string, members: readonly string[]): void {
    for (const m of members) this.#s.holdMember!.run(group, m);
  }

  /** Groups with refused member changes to send again. */
  memberRetryGroups(): string[] {
    if (this.#s.anyMemberRetries!.get() === undefined) return [];
    return (this.#s.memberRetryGroups!.all() as { group_guid: string }[]).map((r) => r.group_guid);
  }

  /** A group's members named by refused member changes, a page at a time (in GUID order, after `after`). */
  memberRetries(group: string, after: string, limit: number): string[] {
    return (this.#s.memberRetries!.all(group, after, limit) as { member_guid: string }[]).map((r) => r.member_guid);
  }

  /** The group's refused member changes are planned again (or no longer concern the cloud). */
  dropMemberRetries(group: string): void {
    this.#s.dropMemberRetries!.run(group);
  }

  /** The cloud took a member change of the group: the error of one it refused before is over (unless some wait to go again). */
  clearMemberError(group: string): void {
    this.#s.clearMemberError!.run(group, group);
  }

  /**
   * The group owes the cloud no member change (none refused waits to go
   * again, none is planned after the item `after`): its member error ends.
   * The cloud lists a `member_not_found` error until a member change made
   * in full adds members or names none (the agent contract's members), so
   * for that error a member change naming none is planned, and the error
   * stays here until the cloud takes it. Another member error, or one of a
   * group the cloud does not hold, ends now.
   */
  endMemberError(group: string, after = 0): void {
    const e = this.error(group);
    if (!e || e.attribute !== 'members' || e.category === 'rule' || this.#s.membersOwed!.get(group, group, after) !== undefined) return;
    if (e.code === 'member_not_found' && this.peek(group)) this.enqueue(phases.members, group, { kind: 'members', add: [], remove: [] });
    else this.clearError(group);
  }

  errors(): SyncErrorRecord[] {
    return this.#s.errors!.all() as unknown as SyncErrorRecord[];
  }

  error(guid: string): SyncErrorRecord | undefined {
    return this.#s.error!.get(guid) as SyncErrorRecord | undefined;
  }

  errorGuids(): string[] {
    return (this.#s.errorGuids!.all() as { guid: string }[]).map((r) => r.guid);
  }

  exportedCounts(): Record<string, number> {
    return Object.fromEntries((this.#s.exportedCount!.all() as { type: string; n: number }[]).map((r) => [r.type, r.n]));
  }
}
