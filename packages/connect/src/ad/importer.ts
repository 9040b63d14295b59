/**
 * Imports Active Directory into the connector space: full (a paged read of
 * the configured containers) and delta (DirSync, or uSNChanged polling when
 * the account lacks the replication right).
 *
 * Safety rules:
 * - The change position (DirSync cookie, or USN watermark of one DC) is taken
 *   before a full read starts, so what changes during the read comes again in
 *   the next delta.
 * - Objects are marked deleted only after a full read that completed, or when
 *   the DC reports the deletion. An interrupted full import leaves a mark that
 *   makes the next run a full import again; it deletes nothing.
 * - A delta commits the cookie in the same transaction as the changes it
 *   covers; a crash replays them.
 * - A different DC, or a cookie the DC refuses, leads to a full import.
 */
import type { Control } from 'ldapts';
import type { ActiveDirectoryConfig } from '../config/agent-config.ts';
import { ConnectError } from '../errors.ts';
import type { ConnectorSpace, SpaceObject, UpsertOutcome } from '../space/connector-space.ts';
import { decodeEntry, guidOf, importedAttributes, importFilter, kindOf, memberAttribute, parseRange, type DecodedEntry } from './attributes.ts';
import { AdConnection } from './connection.ts';
import { DirSyncControl, DirSyncFlags } from './controls/dirsync-control.ts';
import { ShowDeletedControl } from './controls/show-deleted-control.ts';
import { guidDn } from './guid.ts';
import type { RawEntry } from './ldap/raw-search.ts';
import { entryDn, readEntry } from './ldap/entry-bytes.ts';
import { readRootDse } from './root-dse.ts';
import { scopeOf } from './scope.ts';

export type TrackingMode = 'dirsync' | 'usn';

export interface ImportSummary {
  kind: 'full' | 'delta';
  tracking: TrackingMode;
  /** why a full import ran when a delta was asked for */
  reason?: string;
  server: string;
  objectsRead: number;
  added: number;
  updated: number;
  renamed: number;
  deleted: number;
  unchanged: number;
  memberValuesAdded: number;
  memberValuesRemoved: number;
  /** round trips spent on ranged reads of member */
  rangeRequests: number;
  searches: number;
  problems: number;
  durationMs: number;
  /** objects read per second */
  rate: number;
}

export interface ImportProgress {
  phase: 'connecting' | 'reading' | 'members' | 'finishing';
  objectsRead: number;
  /** objects the space held before, as an estimate of the total */
  expected: number;
}

export interface ImporterOptions {
  onProgress?: (p: ImportProgress) => void;
  /** Connection factory (default: AdConnection.open); lets callers count or route connections. */
  connect?: () => Promise<AdConnection>;
}

const metaKeys = {
  mode: 'tracking.mode',
  dc: 'tracking.dc',
  cookie: 'dirsync.cookie',
  usn: 'usn.watermark',
  fullPending: 'full.pending',
  lastFull: 'full.completed_at',
  lastRun: 'run.completed_at',
  /** the domain's naming context (DC=corp,DC=example,DC=com), for the sync rules */
  domain: 'ad.domain',
  /** the containers and exclusions the last full import used: a change needs a full import to rescope */
  scope: 'scope.containers',
} as const;

/** Member values read by range that one transaction stores. */
const membersPerCommit = 10_000;

/**
 * How many member values to ask for per round trip once a list goes on
 * past the range read with its entry (rangeStep): twenty times as many,
 * up to 100,000. A DC answers at most what it allows (Windows, MaxValRange:
 * 1,500 by default) and says where it stopped, so asking wide costs a
 * Windows DC nothing. Samba answers the width asked, and reads the whole
 * list for each answer: at 60,000 members, ranges of 1,000 cost it 60 reads
 * of the whole list (about 3.5 s of its CPU), ranges of 20,000 three.
 */
export const restRangeStep = (rangeStep: number): number => Math.min(20 * rangeStep, 100_000);

export const dirsyncFlags = (config: ActiveDirectoryConfig) =>
  DirSyncFlags.incrementalValues | DirSyncFlags.ancestorsFirstOrder | (config.dirsyncObjectSecurity ? DirSyncFlags.objectSecurity : 0);

/** What to do when DirSync is refused for lack of "Replicating Directory Changes" (the importer and the doctor say the same). */
export const dirsyncRightFix = 'grant the connector account "Replicating Directory Changes" on the domain root (skybridge connect prepare-ad, or dsacls "<domain DN>" /G "<account>:CA;Replicating Directory Changes"), set activeDirectory.dirsyncObjectSecurity: true, or set changeTracking: usn';

/** A filter no object matches: a DirSync search with it returns no entries, only the current cookie. */
export const matchNothing = '(objectGUID=\\00)';

export class AdImporter {
  private readonly config: ActiveDirectoryConfig;
  private readonly password: string;
  private readonly space: ConnectorSpace;
  private readonly options: ImporterOptions;

  constructor(config: ActiveDirectoryConfig, password: string, space: ConnectorSpace, options: ImporterOptions = {}) {
    this.config = config;
    this.password = password;
    this.space = space;
    this.options = options;
  }

  /** Whether the next delta must be a full import, and why. */
  fullImportNeeded(): string | undefined {
    if (this.space.getMeta(metaKeys.fullPending)) return 'the previous full import did not complete';
    if (!this.space.getMeta(metaKeys.mode)) return 'nothing was imported yet';
    const scope = this.space.getMeta(metaKeys.scope);
    if (scope !== undefined && scope !== this.scopeFingerprint()) return 'the synchronized containers changed (containers or excludedContainers)';
    return undefined;
  }

  /** A delta when possible; a full import when there is no usable change position. */
  async run(kind: 'auto' | 'full' | 'delta' = 'auto'): Promise<ImportSummary> {
    if (kind === 'full') return this.full();
    const reason = this.fullImportNeeded();
    if (reason) return this.full(reason);
    return this.delta();
  }

  private connect(): Promise<AdConnection> {
    this.options.onProgress?.({ phase: 'connecting', objectsRead: 0, expected: 0 });
    return this.options.connect ? this.options.connect() : AdConnection.open(this.config, this.password);
  }

  private scopeFingerprint(): string {
    const norm = (dns: string[]) => dns.map((d) => d.toLowerCase()).sort();
    return JSON.stringify([norm(this.config.containers), norm(this.config.excludedContainers)]);
  }

  private containers(conn: AdConnection): string[] {
    return this.config.containers.length ? this.config.containers : [conn.rootDse.defaultNamingContext];
  }

  private newSummary(kind: 'full' | 'delta', tracking: TrackingMode, server: string): ImportSummary {
    return { kind, tracking, server, objectsRead: 0, added: 0, updated: 0, renamed: 0, deleted: 0, unchanged: 0, memberValuesAdded: 0, memberValuesRemoved: 0, rangeRequests: 0, searches: 0, problems: 0, durationMs: 0, rate: 0 };
  }

  private count(summary: ImportSummary, outcome: UpsertOutcome): void {
    if (outcome === 'added' || outcome === 'restored') summary.added += 1;
    else if (outcome === 'updated') summary.updated += 1;
    else if (outcome === 'renamed') summary.renamed += 1;
    else summary.unchanged += 1;
  }

  /** A full import. Safe to interrupt at any point. */
  async full(reason?: string): Promise<ImportSummary> {
    const started = Date.now();
    const conn = await this.connect();
    const run = this.space.beginRun('full');
    let summary = this.newSummary('full', 'dirsync', conn.host);
    try {
      this.space.setMeta(metaKeys.fullPending, new Date().toISOString());
      // the domain being read, known at once: a sync running alongside the import needs it for its rules
      this.space.setMeta(metaKeys.domain, conn.rootDse.defaultNamingContext);
      // 1. The change position first: whatever changes from now on comes in the next delta.
      const position = await this.capturePosition(conn, summary);
      summary.tracking = position.mode;
      if (reason) summary.reason = reason;
      // 2. The read.
      const expected = this.space.counts().objects;
      const containers = this.containers(conn);
      for (const container of containers) {
        const spec = { base: container, scope: 'sub' as const, filter: importFilter, attributes: [...importedAttributes, `${memberAttribute};range=0-${this.config.rangeStep - 1}`] };
        for await (const page of conn.pages(spec, this.config.pageSize)) {
          summary.searches += 1;
          await this.storeFullState(conn, page, run, summary);
          this.options.onProgress?.({ phase: 'reading', objectsRead: summary.objectsRead, expected });
        }
      }
      // 3. Only now, with the whole directory read, are missing objects known to be deleted.
      this.options.onProgress?.({ phase: 'finishing', objectsRead: summary.objectsRead, expected });
      this.space.transaction(() => {
        summary.deleted += this.space.sweepUnseen(run, containers).length;
        // what is left unseen lies outside the containers now (they were narrowed): out of scope, not deleted
        summary.updated += this.space.rescopeUnseen(run, 'outside-containers');
        this.space.setMeta(metaKeys.scope, this.scopeFingerprint());
        this.savePosition(position, conn);
        this.space.setMeta(metaKeys.fullPending, undefined);
        this.space.setMeta(metaKeys.lastFull, new Date().toISOString());
        this.space.setMeta(metaKeys.lastRun, new Date().toISOString());
      });
      summary = this.finish(summary, started);
      this.space.finishRun(run, 'completed', numbers(summary));
      return summary;
    } catch (err) {
      this.space.finishRun(run, 'failed', numbers(this.finish(summary, started)), (err as Error).message);
      throw err;
    } finally {
      await conn.close();
    }
  }

  /** A delta import; runs a full import instead when the change position cannot be used. */
  async delta(): Promise<ImportSummary> {
    const reason = this.fullImportNeeded();
    if (reason) return this.full(reason);
    const started = Date.now();
    const conn = await this.connect();
    const mode = this.space.getMeta(metaKeys.mode) as TrackingMode;
    const dc = this.space.getMeta(metaKeys.dc);
    if (dc !== conn.rootDse.invocationId) {
      await conn.close();
      return this.full(`the domain controller changed (${conn.host} has database ${conn.rootDse.invocationId}, the change position belongs to ${dc})`);
    }
    const run = this.space.beginRun('delta');
    let summary = this.newSummary('delta', mode, conn.host);
    try {
      if (mode === 'dirsync') {
        const invalid = await this.dirsyncDelta(conn, run, summary);
        if (invalid) {
          this.space.finishRun(run, 'failed', numbers(this.finish(summary, started)), invalid);
          await conn.close();
          return this.full(invalid);
        }
      } else {
        await this.usnDelta(conn, run, summary);
      }
      this.space.setMeta(metaKeys.lastRun, new Date().toISOString());
      summary = this.finish(summary, started);
      this.space.finishRun(run, 'completed', numbers(summary));
      return summary;
    } catch (err) {
      this.space.finishRun(run, 'failed', numbers(this.finish(summary, started)), (err as Error).message);
      throw err;
    } finally {
      await conn.close();
    }
  }

  private finish(summary: ImportSummary, started: number): ImportSummary {
    summary.durationMs = Date.now() - started;
    summary.rate = summary.durationMs > 0 ? Math.round((summary.objectsRead * 1000) / summary.durationMs) : summary.objectsRead;
    return summary;
  }

  // ---- change position -------------------------------------------------------------------------

  private async capturePosition(conn: AdConnection, summary: ImportSummary): Promise<{ mode: 'dirsync'; cookie: Buffer } | { mode: 'usn'; usn: bigint }> {
    const wanted = this.config.changeTracking;
    if (wanted !== 'usn') {
      try {
        const control = new DirSyncControl({ flags: dirsyncFlags(this.config) });
        for (;;) {
          await conn.search({ base: conn.rootDse.defaultNamingContext, scope: 'sub', filter: matchNothing, attributes: ['objectGUID'] }, [control]);
          summary.searches += 1;
          if (!control.result) throw new ConnectError('ad_protocol_error', 'the domain controller answered a DirSync search without a DirSync control', { subject: conn.host, fix: 'set activeDirectory.changeTracking to usn' });
          control.cookie = control.result.cookie;
          if (!control.result.moreResults) break;
        }
        return { mode: 'dirsync', cookie: control.cookie };
      } catch (err) {
        if (wanted === 'dirsync' || !(err instanceof ConnectError) || (err.code !== 'ad_missing_rights' && err.code !== 'ad_protocol_error')) {
          if (err instanceof ConnectError && err.code === 'ad_missing_rights') {
            throw new ConnectError('ad_missing_rights', `DirSync on ${conn.rootDse.defaultNamingContext} was refused: the connector account lacks "Replicating Directory Changes"`, {
              subject: 'activeDirectory.changeTracking', cause: err,
              fix: dirsyncRightFix,
            });
          }
          throw err;
        }
        // auto: fall back to uSNChanged polling on this DC.
      }
    }
    const { highestCommittedUSN } = await readRootDse(conn.client);
    summary.searches += 2;
    return { mode: 'usn', usn: highestCommittedUSN };
  }

  private savePosition(position: { mode: 'dirsync'; cookie: Buffer } | { mode: 'usn'; usn: bigint }, conn: AdConnection): void {
    this.space.setMeta(metaKeys.mode, position.mode);
    this.space.setMeta(metaKeys.dc, conn.rootDse.invocationId);
    this.space.setMeta(metaKeys.domain, conn.rootDse.defaultNamingContext);
    this.space.setMeta(metaKeys.cookie, position.mode === 'dirsync' ? position.cookie.toString('base64') : undefined);
    this.space.setMeta(metaKeys.usn, position.mode === 'usn' ? position.usn.toString() : undefined);
  }

  // ---- storing ---------------------------------------------------------------------------------

  private scope(dn: string, kind: SpaceObject['kind'], attributes: Record<string, string[]>, conn: AdConnection) {
    return scopeOf({ dn, kind, attributes }, this.config, conn.rootDse.defaultNamingContext);
  }

  private recordProblems(d: DecodedEntry, run: number, summary: ImportSummary): void {
    for (const p of d.problems) this.space.recordProblem({ dn: d.dn, guid: d.guid, attribute: p.attribute, code: p.code, message: p.message }, run);
    if (!d.guid) this.space.recordProblem({ dn: d.dn, guid: undefined, attribute: 'objectGUID', code: 'missing_anchor', message: `${d.dn}: no objectGUID was returned; the connector account may lack read access to it` }, run);
    summary.problems += d.problems.length + (d.guid ? 0 : 1);
  }

  /**
   * Stores entries that carry an object's whole state (a full import page,
   * a USN delta page, or a base read): the page in one transaction, then the
   * rest of any large member list, range by range.
   */
  private async storeFullState(conn: AdConnection, page: Buffer[], run: number, summary: ImportSummary): Promise<void> {
    const existing = this.space.getMany(page.flatMap((e) => guidOf(e) ?? []));
    const pendingRanges: { guid: string; dn: string; next: number }[] = [];
    this.space.transaction(() => {
      // one entry read at a time: its values are garbage as soon as it is stored, instead of a whole page's
      // surviving the young generation's collections while the page is stored
      for (const bytes of page) {
        const d = decodeEntry(readEntry(bytes));
        summary.objectsRead += 1;
        if (!d.guid || d.problems.length) {
          this.recordProblems(d, run, summary);
          // Keep what the space holds and count it as seen: a bad value never deletes an object.
          if (d.guid && existing.has(d.guid)) this.space.touch(d.guid, run);
          continue;
        }
        if (d.attributes.isDeleted?.[0]?.toUpperCase() === 'TRUE') {
          if (this.space.markDeleted(d.guid)) summary.deleted += 1;
          continue;
        }
        this.space.clearProblems(d.dn, d.guid);
        const before = existing.get(d.guid);
        const kind = kindOf(d.attributes.objectClass ?? []);
        const usn = d.attributes.uSNChanged?.[0];
        const attributes = withoutVolatile(d.attributes);
        const outcome = this.space.put({ guid: d.guid, dn: d.dn, kind, scope: this.scope(d.dn, kind, attributes, conn), attributes, usnChanged: usn ? BigInt(usn) : null }, run, { known: before });
        this.count(summary, outcome);
        if (kind === 'group') {
          const m = d.member;
          if (m) this.space.putMembers(d.guid, m.values, run);
          if (m?.range && m.range.high !== null) pendingRanges.push({ guid: d.guid, dn: d.dn, next: m.range.high + 1 });
          else summary.memberValuesRemoved += this.space.sweepMembers(d.guid, run);
        }
      }
    });
    for (const g of pendingRanges) await this.readRemainingMembers(conn, g.guid, g.dn, g.next, run, summary);
  }

  /**
   * Reads member;range=N-… until the DC says the list ended (range high "*"),
   * then drops values not seen. The ranges are stored about 10,000 values
   * to a transaction, not one by one: each commit rewrites every page of the
   * member indexes that the values land on, and values arrive in no key
   * order, so a commit per range of 1,000 would rewrite most of a large
   * group's index pages again and again.
   */
  private async readRemainingMembers(conn: AdConnection, guid: string, dn: string, from: number, run: number, summary: ImportSummary): Promise<void> {
    let low = from;
    let held: string[][] = [];
    let heldValues = 0;
    const store = (end: boolean) => {
      const ranges = held;
      held = [];
      heldValues = 0;
      this.space.transaction(() => {
        for (const values of ranges) this.space.putMembers(guid, values, run);
        if (end) summary.memberValuesRemoved += this.space.sweepMembers(guid, run);
      });
    };
    try {
      for (;;) {
        const step = restRangeStep(this.config.rangeStep);
        const attribute = `${memberAttribute};range=${low}-${low + step - 1}`;
        const { entries } = await conn.search({ base: guidDn(guid), scope: 'base', filter: '(objectClass=*)', attributes: [attribute] });
        summary.rangeRequests += 1;
        summary.searches += 1;
        this.options.onProgress?.({ phase: 'members', objectsRead: summary.objectsRead, expected: 0 });
        const entry = entries[0];
        if (!entry) return; // deleted meanwhile: the next delta reports it
        let part: { values: Buffer[]; high: number | null } | undefined;
        for (const a of entry.attributes.values()) {
          const { name, range } = parseRange(a.type);
          if (name.toLowerCase() !== memberAttribute) continue;
          part = { values: a.values, high: range ? range.high : null };
        }
        if (!part) {
          // No values from `low` on: the list shrank while we read it. What we have is the whole list.
          store(true);
          return;
        }
        held.push(part.values.map((v) => v.toString('utf8')));
        heldValues += part.values.length;
        const high = part.high;
        if (high === null) {
          store(true);
          return;
        }
        if (high < low) throw new ConnectError('ad_protocol_error', `${dn}: the DC answered member;range=${low}-… with a range ending at ${high}`, { subject: dn, fix: 'report this; lower activeDirectory.rangeStep meanwhile' });
        if (heldValues >= membersPerCommit) store(false);
        low = high + 1;
      }
    } finally {
      // an error or a deleted group: what was read is kept (the interrupted full import reads it all again)
      if (held.length) store(false);
    }
  }

  // ---- DirSync ---------------------------------------------------------------------------------

  /** Returns a reason when the cookie was refused (then a full import must follow). */
  private async dirsyncDelta(conn: AdConnection, run: number, summary: ImportSummary): Promise<string | undefined> {
    let cookie: Buffer = Buffer.from(this.space.getMeta(metaKeys.cookie) ?? '', 'base64');
    for (;;) {
      const control = new DirSyncControl({ flags: dirsyncFlags(this.config), cookie });
      let entries: RawEntry[];
      try {
        ({ entries } = await conn.search({ base: conn.rootDse.defaultNamingContext, scope: 'sub', filter: importFilter, attributes: [...importedAttributes, memberAttribute] }, [control] as Control[]));
      } catch (err) {
        if (err instanceof ConnectError && err.code === 'ad_protocol_error' && /cookie|dirsync|unwilling|protocol/i.test(err.message)) return `the domain controller refused the DirSync cookie (${err.message.split('. Fix:')[0]})`;
        throw err;
      }
      summary.searches += 1;
      if (!control.result) return 'the domain controller answered without a DirSync cookie';
      const decoded = entries.map((e) => decodeEntry(e, { dirsyncIncremental: true }));
      // Objects the space does not know, and that are not reported whole, are read whole first.
      const known = this.space.getMany(decoded.flatMap((d) => (d.guid ? [d.guid] : [])));
      const wholeReads: Buffer[] = [];
      const readWhole = new Set<string>();
      for (const d of decoded) {
        if (!d.guid || d.problems.length || d.attributes.isDeleted?.[0]?.toUpperCase() === 'TRUE') continue;
        if (known.has(d.guid)) {
          // A value of it could not be imported before: the stored state missed the changes of that time,
          // which DirSync does not send again. Read it whole.
          if (!this.space.hasProblems(d.guid)) continue;
        } else {
          if (d.attributes.whenCreated && d.attributes.objectClass) continue; // a new object: DirSync sent all its values
          if (this.scope(d.dn, 'user', { sAMAccountName: ['x'] }, conn) === 'outside-containers') continue;
        }
        readWhole.add(d.guid);
        const { entries: whole } = await conn.searchBytes({ base: guidDn(d.guid), scope: 'base', filter: '(objectClass=*)', attributes: [...importedAttributes, `${memberAttribute};range=0-${this.config.rangeStep - 1}`] });
        summary.searches += 1;
        wholeReads.push(...whole);
      }
      const next = control.result.cookie;
      const pendingRanges: { guid: string; dn: string; next: number }[] = [];
      this.space.transaction(() => {
        for (const d of decoded) {
          if (d.guid && readWhole.has(d.guid)) continue;
          this.applyDirSyncEntry(d, known.get(d.guid ?? ''), run, summary, conn, pendingRanges);
        }
      });
      if (wholeReads.length) await this.storeFullState(conn, wholeReads, run, summary);
      for (const g of pendingRanges) await this.readRemainingMembers(conn, g.guid, g.dn, g.next, run, summary);
      // The cookie moves only once everything it covers is stored: a crash before this line replays the batch.
      this.space.transaction(() => this.space.setMeta(metaKeys.cookie, next.toString('base64')));
      cookie = next;
      if (!control.result.moreResults) return undefined;
    }
  }

  private applyDirSyncEntry(d: DecodedEntry, before: SpaceObject | undefined, run: number, summary: ImportSummary, conn: AdConnection, pendingRanges: { guid: string; dn: string; next: number }[]): void {
    summary.objectsRead += 1;
    if (!d.guid || d.problems.length) {
      this.recordProblems(d, run, summary);
      return;
    }
    if (d.attributes.isDeleted?.[0]?.toUpperCase() === 'TRUE') {
      if (before && this.space.markDeleted(d.guid)) summary.deleted += 1;
      return;
    }
    const isNew = !before && d.attributes.whenCreated && d.attributes.objectClass;
    if (!before && !isNew) return; // outside the containers, or read whole above
    // DirSync sends changed attributes only; an attribute sent without values was cleared.
    const attributes: Record<string, string[]> = { ...(before && !before.deleted ? before.attributes : {}) };
    for (const [k, v] of Object.entries(withoutVolatile(d.attributes))) {
      if (v.length) attributes[k] = v;
      else delete attributes[k];
    }
    const kind = kindOf(attributes.objectClass ?? []);
    const usn = d.attributes.uSNChanged?.[0];
    const scope = this.scope(d.dn, kind, attributes, conn);
    if (!before && scope === 'outside-containers') return;
    this.space.clearProblems(d.dn, d.guid);
    const outcome = this.space.put({ guid: d.guid, dn: d.dn, kind, scope, attributes, usnChanged: usn ? BigInt(usn) : before?.usnChanged ?? null }, run, { known: before });
    this.count(summary, outcome);
    if (outcome === 'renamed' && before && (kind === 'organizationalUnit' || kind === 'container' || kind === 'domain')) {
      summary.renamed += this.space.moveSubtree(before.dn, d.dn, (o) => this.scope(o.dn, o.kind, o.attributes, conn));
    }
    if (kind !== 'group') return;
    if (d.memberDelta) {
      summary.memberValuesAdded += this.space.addMembers(d.guid, d.memberDelta.added, run);
      summary.memberValuesRemoved += this.space.removeMembers(d.guid, d.memberDelta.removed);
    }
    if (d.member) {
      // A DC that does not send value deltas sends the whole list (or its first range).
      this.space.putMembers(d.guid, d.member.values, run);
      if (d.member.range && d.member.range.high !== null) pendingRanges.push({ guid: d.guid, dn: d.dn, next: d.member.range.high + 1 });
      else summary.memberValuesRemoved += this.space.sweepMembers(d.guid, run);
    }
  }

  // ---- uSNChanged polling ----------------------------------------------------------------------

  private async usnDelta(conn: AdConnection, run: number, summary: ImportSummary): Promise<void> {
    const from = BigInt(this.space.getMeta(metaKeys.usn) ?? '0');
    // The new watermark before the read, as for a full import.
    const to = conn.rootDse.highestCommittedUSN;
    if (to <= from) return;
    const spec = {
      base: conn.rootDse.defaultNamingContext, scope: 'sub' as const,
      filter: `(&${importFilter}(uSNChanged>=${from + 1n}))`,
      attributes: [...importedAttributes, `${memberAttribute};range=0-${this.config.rangeStep - 1}`],
    };
    for await (const page of conn.pages(spec, this.config.pageSize, [new ShowDeletedControl()])) {
      summary.searches += 1;
      // Objects outside the containers that the space never held are not imported by a delta.
      const known = this.space.getMany(page.flatMap((e) => guidOf(e) ?? []));
      const relevant = page.filter((e) => {
        const guid = guidOf(e);
        return (guid && known.has(guid)) || this.scope(entryDn(e), 'user', { sAMAccountName: ['x'] }, conn) !== 'outside-containers';
      });
      await this.storeFullState(conn, relevant, run, summary);
    }
    this.space.transaction(() => this.space.setMeta(metaKeys.usn, to.toString()));
  }
}

/** Attributes that change with every write and carry no directory data of their own. */
const volatileAttributes = new Set(['uSNChanged', 'whenChanged', 'isDeleted', 'isRecycled']);

/**
 * The attributes without the volatile ones, keys in sorted order (the order
 * the connector space stores them in: it then keeps this object as it is,
 * without a sorted copy of its own).
 */
function withoutVolatile(attributes: Record<string, string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const k of Object.keys(attributes).sort()) if (!volatileAttributes.has(k)) out[k] = attributes[k]!;
  return out;
}

function numbers(summary: ImportSummary): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(summary)) if (typeof v === 'number') out[k] = v;
  return out;
}
