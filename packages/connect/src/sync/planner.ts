/**
 * Planning: what the cloud must change so that it matches the connector
 * space. Reads the objects and member links changed since the last plan (a
 * cursor on the connector space's change sequence, so a delta touches only
 * what changed), runs the rules, compares with what was last exported, and
 * writes the differences to the outbox, in one transaction with the cursor:
 * a crash before it commits plans again, a crash after it exports the
 * outbox. A one-member change of a huge group plans one member change.
 */
import { createHash } from 'node:crypto';
import type { ConnectorSpace, SpaceObject } from '../space/connector-space.ts';
import type { RuleSet } from '../rules/rule-set.ts';
import { immutableIdOf, type SourceAnchor } from './source-anchor.ts';
import { phases, type ExportStore, type OutboxBody } from './export-store.ts';

export const cursorKey = 'sync.cursor';
/** the fingerprint of the rules and filters the last plan ran */
export const rulesKey = 'sync.rules';
/** Member values per outbox item (the contract takes up to 10,000 per operation). */
const membersPerItem = 5000;

export interface PlanOptions {
  rules: RuleSet;
  /** plan every object again, exporting only what differs (the rules or filters changed) */
  rescan?: boolean;
  anchor: SourceAnchor;
  /** plan from the beginning, and send every object in scope again, whatever was exported before */
  full?: boolean;
}

export interface PlanSummary {
  from: number;
  to: number;
  objectsRead: number;
  upserts: number;
  deletes: number;
  memberChanges: number;
  ruleErrors: number;
}

/** The hash of an object's exported form: equal content, equal hash, whatever the key order. */
export function exportHash(type: string, attributes: Record<string, unknown>): string {
  const canonical = JSON.stringify([type, Object.keys(attributes).sort().map((k) => [k, attributes[k]])]);
  return createHash('sha256').update(canonical).digest('base64url');
}

/** Plans in the caller's transaction (plan() opens one; a dry run rolls it back). */
export function planInto(space: ConnectorSpace, store: ExportStore, options: PlanOptions): PlanSummary {
  const from = options.full || options.rescan ? 0 : Number(space.getMeta(cursorKey) ?? 0);
  const to = space.currentSeq;
  const summary: PlanSummary = { from, to, objectsRead: 0, upserts: 0, deletes: 0, memberChanges: 0, ruleErrors: 0 };
  const newGroups = new Set<string>();
  const deletionsPending = store.pending().deletes > 0;
  /** objects planned again although unchanged since the last plan (retries, filter group changes): each once */
  const again = new Set<string>();
  const planAgain = (o: SpaceObject | undefined) => {
    if (o && o.seq <= from && !again.has(o.guid)) {
      again.add(o.guid);
      planObject(o);
    }
  };
  // group-based filtering: joining or leaving a filter group brings an object into or out of scope
  const filterGroups = new Set(options.rules.filterGroupDns.flatMap((dn) => space.getByDn(dn)?.guid ?? []));

  const enqueueMembers = (group: string, add: string[], remove: string[]) => {
    for (let i = 0; i < Math.max(add.length, remove.length); i += membersPerItem) {
      const body: OutboxBody = { kind: 'members', add: add.slice(i, i + membersPerItem), remove: remove.slice(i, i + membersPerItem) };
      store.enqueue(phases.members, group, body);
      summary.memberChanges += body.add.length + body.remove.length;
    }
  };

  const planObject = (o: SpaceObject) => {
    summary.objectsRead += 1;
    const p = options.rules.project(o);
    const exported = store.peek(o.guid);
    if (p.kind === 'error') {
      store.setError({ guid: o.guid, dn: o.dn, category: 'rule', code: p.code, message: p.message, attribute: p.attribute });
      summary.ruleErrors += 1;
      return;
    }
    if (p.kind === 'skip') {
      store.clearError(o.guid);
      if (exported) {
        store.enqueue(phases.deletes, o.guid, { kind: 'delete', type: exported.type, immutableId: exported.immutableId, dn: o.dn });
        summary.deletes += 1;
      }
      return;
    }
    // back in scope before its planned deletion went out (the delete threshold held it, the cause was fixed)
    if (deletionsPending) store.cancelDeletion(o.guid);
    const immutableId = immutableIdOf(o, options.anchor);
    const hash = exportHash(p.type, p.attributes);
    if (exported && exported.immutableId !== immutableId) {
      store.setError({
        guid: o.guid, dn: o.dn, category: 'rule', code: 'source_anchor_changed', attribute: options.anchor,
        message: `${o.dn} was exported with the immutable id ${exported.immutableId} and its source anchor now gives ${immutableId}: an immutable id never changes; restore ${options.anchor} or delete the cloud object first`,
      });
      summary.ruleErrors += 1;
      return;
    }
    // a full plan sends every object again (after directory synchronization was turned off and on, the cloud takes them back)
    // …and an object synced with a value held back (duplicate attribute) is asked about again until the cloud gives it back
    if (exported && exported.hash === hash && !options.full && store.error(o.guid)?.code !== 'attribute_quarantined') {
      store.clearError(o.guid);
      return;
    }
    store.enqueue(phases.objects, o.guid, { kind: 'upsert', type: p.type, immutableId, attributes: p.attributes, hash, dn: o.dn });
    summary.upserts += 1;
    if (exported) return;
    // New in the cloud: its memberships go with it, whenever they were imported.
    if (p.type === 'group') {
      newGroups.add(o.guid);
      let after: string | undefined;
      let batch: string[] = [];
      for (;;) {
        const page = space.members(o.guid, { limit: membersPerItem, ...(after ? { after } : {}) });
        if (!page.length) break;
        for (const m of page) {
          const member = space.guidByKey(m.memberKey);
          if (member) batch.push(member);
        }
        after = page.at(-1)!.memberKey;
        if (batch.length >= membersPerItem) {
          enqueueMembers(o.guid, batch, []);
          batch = [];
        }
      }
      if (batch.length) enqueueMembers(o.guid, batch, []);
    }
    // …and joins the groups the cloud already holds, by links imported before this plan (later links are
    // changes the member pass below reads; a group new in this plan, or later, brings its whole list)
    for (const { group, seq } of space.groupsOf(o.dn)) {
      // (a group planned earlier and not exported yet counts: its creation goes out before the member changes)
      if (seq > from || newGroups.has(group) || (!store.peek(group) && !store.isPlanned(group))) continue;
      const list = joins.get(group) ?? [];
      list.push(o.guid);
      joins.set(group, list);
    }
  };
  /** new objects joining exported groups, one member change list per group */
  const joins = new Map<string, string[]>();

  for (const o of space.changedSince(from)) {
    if (o.seq > to) break;
    planObject(o);
  }
  // Objects that failed before and have not changed since: retried every cycle
  for (const guid of store.errorGuids()) planAgain(space.get(guid));
  // Objects that joined or left a filter group since the last plan come into or leave the scope
  if (filterGroups.size) {
    let cursor: { seq: number; group: string; key: string } | null = null;
    for (;;) {
      const rows = space.membersChangedSince(from, cursor);
      if (!rows.length) break;
      for (const r of rows) if (r.seq <= to && filterGroups.has(r.groupGuid)) planAgain(space.getByKey(r.memberKey));
      const last = rows.at(-1)!;
      cursor = { seq: last.seq, group: last.groupGuid, key: last.memberKey };
    }
  }
  for (const [group, members] of joins) enqueueMembers(group, members, []);
  // Member links changed since the last plan (groups new in this plan got their whole list above)
  let after: { seq: number; group: string; key: string } | null = null;
  let group: string | null = null;
  let add: string[] = [];
  let remove: string[] = [];
  const flush = () => {
    if (group && (add.length || remove.length)) enqueueMembers(group, add, remove);
    add = [];
    remove = [];
  };
  for (;;) {
    const rows = space.membersChangedSince(from, after);
    if (!rows.length) break;
    for (const r of rows) {
      if (r.seq > to) continue;
      if (r.groupGuid !== group) {
        flush();
        group = r.groupGuid;
      }
      if (newGroups.has(r.groupGuid)) continue;
      const member = space.guidByKey(r.memberKey);
      if (!member) continue; // a deleted member: the cloud drops its links with it
      (r.removed ? remove : add).push(member);
      if (add.length + remove.length >= membersPerItem) flush();
    }
    const last = rows.at(-1)!;
    after = { seq: last.seq, group: last.groupGuid, key: last.memberKey };
  }
  flush();
  space.setMeta(cursorKey, String(to));
  space.setMeta(rulesKey, options.rules.fingerprint);
  return summary;
}

export function plan(space: ConnectorSpace, store: ExportStore, options: PlanOptions): PlanSummary {
  return space.transaction(() => planInto(space, store, options));
}
