/**
 * The connector space: the agent's copy of what it imported from Active
 * Directory, in an embedded SQLite database (node:sqlite).
 *
 * - objects: one row per object, keyed by objectGUID, with its DN, a DN key
 *   that makes a subtree one index range, its scope decision and its
 *   attributes. Deleted objects stay as tombstones until the sync engine has
 *   exported the deletion.
 * - members: one row per member value, so a group of a million members costs
 *   one row per change, never a rewrite of the list.
 * - every change takes the next sequence number: the sync engine reads
 *   "everything after seq N", in order.
 * - meta: change-tracking state (DirSync cookie, USN watermark, the DC it
 *   belongs to), committed in the same transaction as the changes it covers,
 *   so a crash replays changes rather than losing them.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { ConnectError } from '../errors.ts';
import { descendantRange, dnKey } from '../ad/dn.ts';
import type { ObjectKind } from '../ad/attributes.ts';
import type { ScopeReason } from '../ad/scope.ts';

export interface SpaceObject {
  guid: string;
  dn: string;
  kind: ObjectKind;
  scope: ScopeReason | null;
  attributes: Record<string, string[]>;
  usnChanged: bigint | null;
  deleted: boolean;
  seq: number;
}

export interface SpaceMember {
  groupGuid: string;
  memberDn: string;
  /** the normalized DN (dnKey) the link is stored under */
  memberKey: string;
  removed: boolean;
  seq: number;
}

export type UpsertOutcome = 'added' | 'updated' | 'renamed' | 'unchanged' | 'restored';

export interface RunRecord {
  id: number;
  kind: string;
  startedAt: string;
  finishedAt: string | null;
  status: 'running' | 'completed' | 'failed';
  summary: Record<string, number>;
  error: string | null;
}

const schemaVersion = 1;

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- a rowid table: its rows (the attributes as JSON, a few KiB) are too large for WITHOUT ROWID to pay off
CREATE TABLE IF NOT EXISTS objects (
  guid TEXT NOT NULL UNIQUE,
  dn TEXT NOT NULL,
  dn_key TEXT NOT NULL,
  kind TEXT NOT NULL,
  scope TEXT,
  attrs TEXT NOT NULL,
  usn_changed INTEGER,
  deleted INTEGER NOT NULL DEFAULT 0,
  seen_run INTEGER NOT NULL,
  seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS objects_dn_key ON objects(dn_key);
CREATE INDEX IF NOT EXISTS objects_seq ON objects(seq);
-- the sweep after a full read looks for live objects not seen in it: few, found without reading every row
CREATE INDEX IF NOT EXISTS objects_unseen ON objects(seen_run) WHERE deleted = 0;
CREATE TABLE IF NOT EXISTS members (
  group_guid TEXT NOT NULL,
  member_key TEXT NOT NULL,
  member_dn TEXT NOT NULL,
  removed INTEGER NOT NULL DEFAULT 0,
  seen_run INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (group_guid, member_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_member_key ON members(member_key);
CREATE INDEX IF NOT EXISTS members_seq ON members(seq);
CREATE TABLE IF NOT EXISTS problems (
  dn TEXT NOT NULL,
  attribute TEXT NOT NULL,
  guid TEXT,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  run INTEGER NOT NULL,
  PRIMARY KEY (dn, attribute)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS problems_guid ON problems(guid);
-- The sync engine's side (packages/connect/src/sync): what was last exported per object,
-- the planned changes not yet confirmed by the cloud (in order), and per-object sync errors.
CREATE TABLE IF NOT EXISTS exports (
  guid TEXT PRIMARY KEY,
  immutable_id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  hash TEXT NOT NULL,
  attrs TEXT NOT NULL,
  object_id TEXT,
  exported_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  phase INTEGER NOT NULL,
  guid TEXT NOT NULL,
  kind TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_phase ON outbox(phase, id);
CREATE INDEX IF NOT EXISTS outbox_guid ON outbox(guid);
-- the cloud's version of each exported object after the agent's last write, checked against the change feed
CREATE TABLE IF NOT EXISTS cloud_versions (guid TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
-- exported users whose mS-DS-ConsistencyGuid the agent still has to stamp
CREATE TABLE IF NOT EXISTS stamp_queue (guid TEXT PRIMARY KEY) WITHOUT ROWID;
-- member changes the cloud refused (group, member): the next plan sends each member's link as it is then
CREATE TABLE IF NOT EXISTS member_retries (group_guid TEXT NOT NULL, member_guid TEXT NOT NULL, PRIMARY KEY (group_guid, member_guid)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sync_errors (
  guid TEXT PRIMARY KEY,
  dn TEXT NOT NULL,
  category TEXT NOT NULL,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  attribute TEXT,
  at TEXT NOT NULL
) WITHOUT ROWID;
-- password hash synchronization (packages/connect/src/phs): the pwdLastSet each user's hash was last
-- sent for (a change of pwdLastSet means a new password), or the error that stopped it
CREATE TABLE IF NOT EXISTS password_sync (
  guid TEXT PRIMARY KEY,
  pwd_last_set TEXT,
  synced_at TEXT,
  error_code TEXT,
  error TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  status TEXT NOT NULL,
  summary TEXT NOT NULL DEFAULT '{}',
  error TEXT
);
`;

/** Attribute values in a stable order of keys, so equal content gives an equal string. */
function canonicalJson(attributes: Record<string, string[]>): string {
  // the importer hands over its attributes sorted already: then they are written as they are
  const keys = Object.keys(attributes);
  let ordered = true;
  for (let i = 0; i < keys.length && ordered; i++) ordered = (i === 0 || keys[i - 1]! < keys[i]!) && attributes[keys[i]!]!.length > 0;
  if (ordered) return JSON.stringify(attributes);
  const out: Record<string, string[]> = {};
  for (const k of keys.sort()) {
    const v = attributes[k]!;
    if (v.length) out[k] = v;
  }
  return JSON.stringify(out);
}

/** meta key of the highest sequence number handed out */
const seqHighWaterKey = 'space.seq';

export class ConnectorSpace {
  readonly path: string;
  /** The SQLite database, for the sync engine's tables (one file, one transaction for both sides). */
  readonly db: DatabaseSync;
  private seqValue: number;
  private readonly stmts: Record<string, StatementSync>;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.db = db;
    const p = (sql: string) => db.prepare(sql);
    this.stmts = {
      metaGet: p('SELECT value FROM meta WHERE key = ?'),
      metaSet: p('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      metaDel: p('DELETE FROM meta WHERE key = ?'),
      get: p('SELECT guid, dn, kind, scope, attrs, usn_changed, deleted, seq FROM objects WHERE guid = ?'),
      getByKey: p('SELECT guid, dn, kind, scope, attrs, usn_changed, deleted, seq FROM objects WHERE dn_key = ? AND deleted = 0'),
      insert: p('INSERT INTO objects (guid, dn, dn_key, kind, scope, attrs, usn_changed, deleted, seen_run, seq) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)'),
      update: p('UPDATE objects SET dn = ?, dn_key = ?, kind = ?, scope = ?, attrs = ?, usn_changed = ?, deleted = 0, seen_run = ?, seq = ? WHERE guid = ?'),
      touch: p('UPDATE objects SET seen_run = ?, usn_changed = coalesce(?, usn_changed) WHERE guid = ?'),
      markDeleted: p('UPDATE objects SET deleted = 1, seq = ? WHERE guid = ? AND deleted = 0'),
      memberUpsert: p(`INSERT INTO members (group_guid, member_key, member_dn, removed, seen_run, seq) VALUES (?, ?, ?, 0, ?, ?)
        ON CONFLICT (group_guid, member_key) DO UPDATE SET seen_run = excluded.seen_run, member_dn = excluded.member_dn,
          seq = CASE WHEN members.removed = 1 THEN excluded.seq ELSE members.seq END, removed = 0`),
      memberRemove: p('UPDATE members SET removed = 1, seq = ? WHERE group_guid = ? AND member_key = ? AND removed = 0'),
      memberSweep: p('UPDATE members SET removed = 1, seq = ? WHERE group_guid = ? AND seen_run < ? AND removed = 0'),
      memberRemoveAll: p('UPDATE members SET removed = 1, seq = ? WHERE group_guid = ? AND removed = 0'),
      memberRemoveEverywhere: p('UPDATE members SET removed = 1, seq = ? WHERE member_key = ? AND removed = 0'),
      memberCount: p('SELECT count(*) AS n FROM members WHERE group_guid = ? AND removed = 0'),
      memberRekey: p('UPDATE members SET member_dn = ?, member_key = ? WHERE member_key = ?'),
      problemSet: p('INSERT INTO problems (dn, attribute, guid, code, message, run) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dn, attribute) DO UPDATE SET guid = excluded.guid, code = excluded.code, message = excluded.message, run = excluded.run'),
      problemClear: p('DELETE FROM problems WHERE dn = ? OR (guid IS NOT NULL AND guid = ?)'),
      runInsert: p("INSERT INTO runs (kind, started_at, status) VALUES (?, ?, 'running') RETURNING id"),
      runFinish: p('UPDATE runs SET finished_at = ?, status = ?, summary = ?, error = ? WHERE id = ?'),
    };
    // Sequence numbers only grow, across processes too: a number handed out for a write that changed
    // nothing (a member already present) is stored nowhere, yet a plan cursor may have been set to it.
    // So the space keeps its high-water mark, written with every transaction; spaces from before the
    // mark start above their plan cursor.
    const row = db.prepare('SELECT max(s) AS s FROM (SELECT max(seq) AS s FROM objects UNION ALL SELECT max(seq) FROM members)').get() as { s: number | null };
    const meta = (key: string) => Number((this.stmts.metaGet!.get(key) as { value: string } | undefined)?.value ?? 0);
    this.seqValue = Math.max(row.s ?? 0, meta(seqHighWaterKey), meta('sync.cursor'));
  }

  /** Opens (creating) the connector space in `directory`. One agent process at a time holds it. */
  static open(directory: string): ConnectorSpace {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const path = join(directory, 'connector-space.db');
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
      db.exec('PRAGMA busy_timeout = 0');
      // Storage tuned for the sync's write-heavy work (measured on 30,000 users: about a quarter less agent CPU):
      // 16 KB pages (a new space only; an existing one keeps its page size) write a commit in fewer, larger
      // pieces; 32 MB of page cache (a bounded part of the agent's memory) keeps the indexes the planner and the
      // exporter probe for every object in memory; the write-ahead log is checkpointed every 64 MB, not 4 MB.
      db.exec('PRAGMA page_size = 16384');
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
      db.exec('PRAGMA cache_size = -32768');
      db.exec('PRAGMA wal_autocheckpoint = 4000');
      db.exec('PRAGMA journal_size_limit = 67108864');
      // Exclusive: a second agent on the same state directory fails at once instead of interleaving writes.
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      db.exec('BEGIN IMMEDIATE');
      db.exec(schema);
      const version = (db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined)?.value;
      if (version && Number(version) > schemaVersion) {
        db.exec('ROLLBACK');
        throw new ConnectError('connector_space_invalid', `${path} was written by a newer agent (schema ${version}; this agent knows ${schemaVersion})`, {
          subject: path, fix: 'run the newer agent, or remove the state directory to start over with a full import',
        });
      }
      db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO NOTHING").run(String(schemaVersion));
      db.exec('COMMIT');
    } catch (err) {
      if (err instanceof ConnectError) throw err;
      const message = (err as Error).message;
      throw new ConnectError(/locked|busy/i.test(message) ? 'connector_space_locked' : 'connector_space_invalid', `cannot open the connector space ${path}: ${message}`, {
        subject: path,
        fix: /locked|busy/i.test(message) ? 'another Skybridge Connect process uses this state directory: stop it first' : 'check the state directory\'s permissions and free space',
      });
    }
    return new ConnectorSpace(path, db);
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  /** Runs `fn` in one transaction: all of it is stored, or none. */
  transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN');
    const seq = this.seqValue;
    try {
      const result = fn();
      if (this.seqValue !== seq) this.stmts.metaSet!.run(seqHighWaterKey, String(this.seqValue));
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      this.db.exec('ROLLBACK');
      this.seqValue = seq;
      throw err;
    }
  }

  nextSeq(): number {
    this.seqValue += 1;
    return this.seqValue;
  }

  get currentSeq(): number {
    return this.seqValue;
  }

  getMeta(key: string): string | undefined {
    return (this.stmts.metaGet!.get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string | undefined): void {
    if (value === undefined) this.stmts.metaDel!.run(key);
    else this.stmts.metaSet!.run(key, value);
  }

  get(guid: string): SpaceObject | undefined {
    return this.row(this.stmts.get!.get(guid));
  }

  /** The live object at a DN, if any. */
  getByDn(dn: string): SpaceObject | undefined {
    return this.getByKey(dnKey(dn));
  }

  /** The stored objects among `guids`, in one query per 500. */
  getMany(guids: string[]): Map<string, SpaceObject> {
    const out = new Map<string, SpaceObject>();
    for (let i = 0; i < guids.length; i += 500) {
      const chunk = guids.slice(i, i + 500);
      const rows = this.getManyStatement(chunk.length).all(...chunk);
      for (const r of rows) {
        const o = this.row(r)!;
        out.set(o.guid, o);
      }
    }
    return out;
  }

  readonly #getMany = new Map<number, StatementSync>();

  /** One prepared statement per chunk size (full chunks reuse theirs). */
  private getManyStatement(n: number): StatementSync {
    let statement = this.#getMany.get(n);
    if (!statement) {
      statement = this.db.prepare(`SELECT guid, dn, kind, scope, attrs, usn_changed, deleted, seq FROM objects WHERE guid IN (${Array.from({ length: n }, () => '?').join(',')})`);
      if (this.#getMany.size < 8) this.#getMany.set(n, statement);
    }
    return statement;
  }

  private row(r: unknown): SpaceObject | undefined {
    if (!r) return undefined;
    const x = r as { guid: string; dn: string; kind: ObjectKind; scope: ScopeReason | null; attrs: string; usn_changed: number | bigint | null; deleted: number; seq: number };
    return {
      guid: x.guid, dn: x.dn, kind: x.kind, scope: x.scope, attributes: JSON.parse(x.attrs) as Record<string, string[]>,
      usnChanged: x.usn_changed === null ? null : BigInt(x.usn_changed), deleted: x.deleted === 1, seq: x.seq,
    };
  }

  /**
   * Stores an object's full state as imported. `existing.known` is what the
   * space held (pass it when already read, to save a query; undefined when
   * the object is new).
   */
  put(object: Omit<SpaceObject, 'deleted' | 'seq'>, run: number, existing?: { known: SpaceObject | undefined }): UpsertOutcome {
    const before = existing ? existing.known : this.get(object.guid);
    const attrs = canonicalJson(object.attributes);
    const usn = object.usnChanged === null ? null : object.usnChanged;
    if (!before) {
      this.stmts.insert!.run(object.guid, object.dn, dnKey(object.dn), object.kind, object.scope, attrs, usn, run, this.nextSeq());
      return 'added';
    }
    const renamed = before.dn !== object.dn;
    const changed = before.deleted || renamed || before.kind !== object.kind || before.scope !== object.scope || canonicalJson(before.attributes) !== attrs;
    if (!changed) {
      this.stmts.touch!.run(run, usn, object.guid);
      return 'unchanged';
    }
    this.stmts.update!.run(object.dn, dnKey(object.dn), object.kind, object.scope, attrs, usn, run, this.nextSeq(), object.guid);
    if (renamed && !before.deleted) this.stmts.memberRekey!.run(object.dn, dnKey(object.dn), dnKey(before.dn));
    if (before.deleted) return 'restored';
    return renamed ? 'renamed' : 'updated';
  }

  /** Marks an object deleted (a tombstone until the engine has exported it). Returns whether it was live. */
  markDeleted(guid: string): boolean {
    const before = this.get(guid);
    if (!before || before.deleted) return false;
    const seq = this.nextSeq();
    this.stmts.markDeleted!.run(seq, guid);
    // A deleted group has no members; a deleted object is a member of nothing (AD drops the links).
    this.stmts.memberRemoveAll!.run(seq, guid);
    this.stmts.memberRemoveEverywhere!.run(seq, dnKey(before.dn));
    return true;
  }

  /**
   * After a container moved or was renamed from `oldDn` to `newDn`, gives
   * every object below it its new DN (a DirSync stream reports only the
   * container) and rewrites member values that pointed into the subtree.
   * Returns the objects moved.
   */
  moveSubtree(oldDn: string, newDn: string, rescope: (o: SpaceObject) => ScopeReason | null): number {
    const oldKey = dnKey(oldDn);
    const newKey = dnKey(newDn);
    const [lo, hi] = descendantRange(oldKey);
    const seq = this.nextSeq();
    const rows = this.db.prepare('SELECT guid, dn, kind, scope, attrs, usn_changed, deleted, seq FROM objects WHERE dn_key >= ? AND dn_key < ?').iterate(lo, hi);
    const moves: { guid: string; dn: string; scope: ScopeReason | null }[] = [];
    const lowerOld = oldDn.toLowerCase();
    for (const r of rows) {
      const o = this.row(r)!;
      // The descendant's DN ends with the container's old DN; keep its own RDNs and put the new parent under them.
      const cut = o.dn.toLowerCase().endsWith(lowerOld) ? o.dn.length - oldDn.length : -1;
      if (cut < 0) continue;
      const dn = o.dn.slice(0, cut) + newDn;
      moves.push({ guid: o.guid, dn, scope: rescope({ ...o, dn }) });
    }
    const update = this.db.prepare('UPDATE objects SET dn = ?, dn_key = ?, scope = ?, seq = ? WHERE guid = ?');
    for (const m of moves) update.run(m.dn, dnKey(m.dn), m.scope, seq, m.guid);
    const memberRows = this.db.prepare('SELECT group_guid, member_key, member_dn FROM members WHERE member_key >= ? AND member_key < ?').all(lo, hi) as { group_guid: string; member_key: string; member_dn: string }[];
    const rekey = this.db.prepare('UPDATE members SET member_dn = ?, member_key = ? WHERE group_guid = ? AND member_key = ?');
    for (const m of memberRows) {
      if (!m.member_dn.toLowerCase().endsWith(lowerOld)) continue;
      const dn = m.member_dn.slice(0, m.member_dn.length - oldDn.length) + newDn;
      rekey.run(dn, newKey + m.member_key.slice(oldKey.length), m.group_guid, m.member_key);
    }
    return moves.length;
  }

  /** Records that `guid` was read in this run without change. */
  touch(guid: string, run: number): void {
    this.stmts.touch!.run(run, null, guid);
  }

  /** After a complete full read: objects under `containers` not seen in `run` were deleted in AD. */
  sweepUnseen(run: number, containers: string[]): string[] {
    const deleted: string[] = [];
    for (const c of containers) {
      const key = dnKey(c);
      const [lo, hi] = descendantRange(key);
      const rows = this.db.prepare('SELECT guid FROM objects INDEXED BY objects_unseen WHERE deleted = 0 AND seen_run < ? AND (dn_key = ? OR (dn_key >= ? AND dn_key < ?))').all(run, key, lo, hi) as { guid: string }[];
      for (const r of rows) if (this.markDeleted(r.guid)) deleted.push(r.guid);
    }
    return deleted;
  }

  /** Gives live objects not seen in `run` the scope reason `reason` (they lie outside the containers now). Returns how many changed. */
  rescopeUnseen(run: number, reason: ScopeReason): number {
    const rows = this.db.prepare('SELECT guid FROM objects INDEXED BY objects_unseen WHERE deleted = 0 AND seen_run < ? AND (scope IS NULL OR scope <> ?)').all(run, reason) as { guid: string }[];
    const update = this.db.prepare('UPDATE objects SET scope = ?, seq = ? WHERE guid = ?');
    for (const r of rows) update.run(reason, this.nextSeq(), r.guid);
    return rows.length;
  }

  /** Member values of a group as read now (a full list or one range of it); sweepMembers ends the list. */
  putMembers(groupGuid: string, dns: string[], run: number): void {
    const seq = this.nextSeq();
    for (const dn of dns) this.stmts.memberUpsert!.run(groupGuid, dnKey(dn), dn, run, seq);
  }

  /** Adds member values (a DirSync value delta). Returns the values that were not already members. */
  addMembers(groupGuid: string, dns: string[], run: number): number {
    const seq = this.nextSeq();
    let added = 0;
    const exists = this.db.prepare('SELECT removed FROM members WHERE group_guid = ? AND member_key = ?');
    for (const dn of dns) {
      const key = dnKey(dn);
      const row = exists.get(groupGuid, key) as { removed: number } | undefined;
      if (!row || row.removed === 1) added += 1;
      this.stmts.memberUpsert!.run(groupGuid, key, dn, run, seq);
    }
    return added;
  }

  /** Removes member values (a DirSync value delta). Returns how many were members. */
  removeMembers(groupGuid: string, dns: string[]): number {
    const seq = this.nextSeq();
    let removed = 0;
    for (const dn of dns) removed += Number(this.stmts.memberRemove!.run(seq, groupGuid, dnKey(dn)).changes);
    return removed;
  }

  /** After a group's whole member list was read in `run`: values not seen were removed. */
  sweepMembers(groupGuid: string, run: number): number {
    return Number(this.stmts.memberSweep!.run(this.nextSeq(), groupGuid, run).changes);
  }

  memberCount(groupGuid: string): number {
    return (this.stmts.memberCount!.get(groupGuid) as { n: number }).n;
  }

  /** Member values of a group, in DN-key order, a page at a time. */
  members(groupGuid: string, options: { after?: string; limit?: number; includeRemoved?: boolean } = {}): SpaceMember[] {
    const rows = this.db.prepare(`SELECT group_guid, member_key, member_dn, removed, seq FROM members WHERE group_guid = ? AND member_key > ? ${options.includeRemoved ? '' : 'AND removed = 0'} ORDER BY member_key LIMIT ?`)
      .all(groupGuid, options.after ?? '', options.limit ?? 1000) as { group_guid: string; member_key: string; member_dn: string; removed: number; seq: number }[];
    return rows.map((r) => ({ groupGuid: r.group_guid, memberDn: r.member_dn, memberKey: r.member_key, removed: r.removed === 1, seq: r.seq }));
  }

  /** Member rows changed after `seq` (added or removed), in order, a page at a time. */
  membersChangedSince(seq: number, after: { seq: number; group: string; key: string } | null, limit = 5000): SpaceMember[] {
    const rows = (after
      ? this.db.prepare('SELECT group_guid, member_key, member_dn, removed, seq FROM members WHERE seq > ? AND (seq, group_guid, member_key) > (?, ?, ?) ORDER BY seq, group_guid, member_key LIMIT ?').all(seq, after.seq, after.group, after.key, limit)
      : this.db.prepare('SELECT group_guid, member_key, member_dn, removed, seq FROM members WHERE seq > ? ORDER BY seq, group_guid, member_key LIMIT ?').all(seq, limit)) as { group_guid: string; member_key: string; member_dn: string; removed: number; seq: number }[];
    return rows.map((r) => ({ groupGuid: r.group_guid, memberKey: r.member_key, memberDn: r.member_dn, removed: r.removed === 1, seq: r.seq }));
  }

  /** The groups `dn` is a (live) member of, with the sequence number of each link. */
  /** Is `dn` a current direct member of the group? One primary-key lookup. */
  isMember(groupGuid: string, dn: string): boolean {
    this.#isMember ??= this.db.prepare('SELECT 1 FROM members WHERE group_guid = ? AND member_key = ? AND removed = 0');
    return this.#isMember.get(groupGuid, dnKey(dn)) !== undefined;
  }

  #isMember: StatementSync | undefined;

  groupsOf(dn: string): { group: string; seq: number }[] {
    this.#groupsOf ??= this.db.prepare('SELECT group_guid, seq FROM members WHERE member_key = ? AND removed = 0');
    return (this.#groupsOf.all(dnKey(dn)) as { group_guid: string; seq: number }[]).map((r) => ({ group: r.group_guid, seq: r.seq }));
  }

  #groupsOf: StatementSync | undefined;

  /** A live object whose attribute `name` has this value (case-insensitive); for lookups by UPN or mail. */
  findByAttribute(name: string, value: string): SpaceObject | undefined {
    return this.row(this.db.prepare(`SELECT o.guid, o.dn, o.kind, o.scope, o.attrs, o.usn_changed, o.deleted, o.seq FROM objects o, json_each(o.attrs, '$.' || ?) v
      WHERE o.deleted = 0 AND lower(v.value) = lower(?) LIMIT 1`).get(name, value));
  }

  /** An object's DN and whether it is deleted, without reading its attributes. */
  stateOf(guid: string): { dn: string; deleted: boolean } | undefined {
    this.#stateOf ??= this.db.prepare('SELECT dn, deleted FROM objects WHERE guid = ?');
    const r = this.#stateOf.get(guid) as { dn: string; deleted: number } | undefined;
    return r && { dn: r.dn, deleted: r.deleted === 1 };
  }

  #stateOf: StatementSync | undefined;

  /** The live object whose DN has this key. */
  getByKey(key: string): SpaceObject | undefined {
    return this.row(this.stmts.getByKey!.get(key));
  }

  /** A live object's GUID and change sequence number, by its DN key: a member link resolved without reading the object's attributes. */
  objectByKey(key: string): { guid: string; seq: number } | undefined {
    this.#objectByKey ??= this.db.prepare('SELECT guid, seq FROM objects WHERE dn_key = ? AND deleted = 0');
    return this.#objectByKey.get(key) as { guid: string; seq: number } | undefined;
  }

  #objectByKey: StatementSync | undefined;

  /** The sequence numbers of the `n`th and the next object changed after `seq` (fewer at the end). */
  objectSeqsAfter(seq: number, n: number): number[] {
    this.#objectSeqsAfter ??= this.db.prepare('SELECT seq FROM objects WHERE seq > ? ORDER BY seq LIMIT 2 OFFSET ?');
    return (this.#objectSeqsAfter.all(seq, n - 1) as { seq: number }[]).map((r) => r.seq);
  }

  #objectSeqsAfter: StatementSync | undefined;

  /** Objects changed after `seq`, in order (what the sync engine reads); pages by (seq, guid), since a subtree move gives many objects one seq. */
  *changedSince(seq: number, limit = 1000): Generator<SpaceObject> {
    const first = this.db.prepare('SELECT guid, dn, kind, scope, attrs, usn_changed, deleted, seq FROM objects WHERE seq > ? ORDER BY seq, guid LIMIT ?');
    const next = this.db.prepare('SELECT guid, dn, kind, scope, attrs, usn_changed, deleted, seq FROM objects WHERE seq > ? AND (seq, guid) > (?, ?) ORDER BY seq, guid LIMIT ?');
    let rows = first.all(seq, limit);
    while (rows.length) {
      let last: SpaceObject | undefined;
      for (const r of rows) yield (last = this.row(r)!);
      if (rows.length < limit) return;
      rows = next.all(seq, last!.seq, last!.guid, limit);
    }
  }

  recordProblem(problem: { dn: string; guid: string | undefined; attribute: string; code: string; message: string }, run: number): void {
    this.stmts.problemSet!.run(problem.dn, problem.attribute, problem.guid ?? null, problem.code, problem.message, run);
  }

  clearProblems(dn: string, guid: string | undefined): void {
    this.stmts.problemClear!.run(dn, guid ?? '');
  }

  /** Whether an import problem is recorded for the object (its stored state is then older than AD's). */
  hasProblems(guid: string): boolean {
    return this.db.prepare('SELECT 1 FROM problems WHERE guid = ? LIMIT 1').get(guid) !== undefined;
  }

  problems(): { dn: string; guid: string | null; attribute: string; code: string; message: string }[] {
    return this.db.prepare('SELECT dn, guid, attribute, code, message FROM problems ORDER BY dn, attribute').all() as never;
  }

  counts(): { objects: number; inScope: number; deleted: number; members: number } {
    const o = this.db.prepare('SELECT count(*) AS n, sum(CASE WHEN deleted = 0 AND scope IS NULL THEN 1 ELSE 0 END) AS s, sum(deleted) AS d FROM objects').get() as { n: number; s: number | null; d: number | null };
    const m = this.db.prepare('SELECT count(*) AS n FROM members WHERE removed = 0').get() as { n: number };
    return { objects: o.n - (o.d ?? 0), inScope: o.s ?? 0, deleted: o.d ?? 0, members: m.n };
  }

  beginRun(kind: string): number {
    return Number((this.stmts.runInsert!.get(kind, new Date().toISOString()) as { id: number }).id);
  }

  finishRun(id: number, status: 'completed' | 'failed', summary: Record<string, number>, error?: string): void {
    this.stmts.runFinish!.run(new Date().toISOString(), status, JSON.stringify(summary), error ?? null, id);
  }

  runs(limit = 20): RunRecord[] {
    const rows = this.db.prepare('SELECT id, kind, started_at, finished_at, status, summary, error FROM runs ORDER BY id DESC LIMIT ?').all(limit) as { id: number; kind: string; started_at: string; finished_at: string | null; status: RunRecord['status']; summary: string; error: string | null }[];
    return rows.map((r) => ({ id: r.id, kind: r.kind, startedAt: r.started_at, finishedAt: r.finished_at, status: r.status, summary: JSON.parse(r.summary) as Record<string, number>, error: r.error }));
  }
}
