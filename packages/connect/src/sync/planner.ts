/**
 * Planning: what the cloud must change so that it matches the connector
 * space. Reads the objects and member links changed since the last plan (a
 * cursor on the connector space's change sequence, so a delta touches only
 * what changed), runs the rules, compares with what was last exported, and
 * writes the differences to the outbox, in one transaction with the cursor
 * (or one per step of about 2,000 objects, planInSteps): a crash before it
 * commits plans again, a crash after it exports the outbox. A one-member
 * change of a huge group plans one member change.
 */
import { createHash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
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

/**
 * One step of a plan in steps (planInSteps): the changes after `from`, up to
 * `end` and to about `objects` objects, cut between two change sequence
 * numbers so that no object or member link is split from its step.
 */
interface PlanStep {
  from: number;
  end: number;
  objects: number;
  /** the first step also plans again the objects that failed before */
  first: boolean;
}

/** Plans in the caller's transaction (plan() opens one; a dry run rolls it back). */
export function planInto(space: ConnectorSpace, store: ExportStore, options: PlanOptions, step?: PlanStep): PlanSummary {
  const from = step ? step.from : options.full || options.rescan ? 0 : Number(space.getMeta(cursorKey) ?? 0);
  const to = step ? stepEnd(space, step) : space.currentSeq;
  const summary: PlanSummary = { from, to, objectsRead: 0, upserts: 0, deletes: 0, memberChanges: 0, ruleErrors: 0 };
  const newGroups = new Set<string>();
  const deletionsPending = store.pending().deletes > 0;
  /**
   * Whether any object has a sync error: without one (an initial sync, most deltas) no object asks for its own.
   * Read once per plan or step: inside one, only this plan records errors, each as it leaves the object concerned.
   */
  const errorsRecorded = store.hasErrors();
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
    // what the cloud holds, or will once the outbox has gone out (a round before may still be exporting it)
    const exported = store.planned(o.guid);
    if (p.kind === 'error') {
      store.setError({ guid: o.guid, dn: o.dn, category: 'rule', code: p.code, message: p.message, attribute: p.attribute });
      summary.ruleErrors += 1;
      return;
    }
    if (p.kind === 'skip') {
      if (errorsRecorded) store.clearError(o.guid);
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
        message: `${o.dn} was ${exported.pending ? 'planned for export' : 'exported'} with the immutable id ${exported.immutableId} and its source anchor now gives ${immutableId}: an immutable id never changes; restore ${options.anchor} or delete the cloud object first`,
      });
      summary.ruleErrors += 1;
      return;
    }
    // a full plan sends every object again (after directory synchronization was turned off and on, the cloud takes them back)
    // …and an object synced with a value held back (duplicate attribute) is asked about again until the cloud gives it back
    const unchanged = !!exported && exported.hash === hash && !options.full;
    const error = unchanged && errorsRecorded ? store.error(o.guid) : undefined;
    if (unchanged && error?.code !== 'attribute_quarantined') {
      // (the error of member changes the cloud refused stays while they wait to go again: a member change it takes ends it)
      if (error?.attribute === 'members' && error.category !== 'rule') store.endMemberError(o.guid);
      else if (error) store.clearError(o.guid);
      return;
    }
    if (errorsRecorded) store.clearRuleError(o.guid);
    store.enqueue(phases.objects, o.guid, { kind: 'upsert', type: p.type, immutableId, attributes: p.attributes, hash, dn: o.dn });
    summary.upserts += 1;
    if (exported && (!exported.pending || store.peek(o.guid))) return;
    // New in the cloud: its memberships go with it, whenever they were imported. So do they when its creation is
    // still on its way (planned by a round whose export has not answered): that creation may yet fail while this
    // upsert creates it, and the member changes planned with the first would have been dropped (they name objects
    // the cloud holds). Adding a member twice changes nothing; such a group is not new to the member pass below,
    // which sends what changed since (removals among it).
    if (p.type === 'group') {
      if (!exported) newGroups.add(o.guid);
      let after: string | undefined;
      let batch: string[] = [];
      for (;;) {
        const page = space.members(o.guid, { limit: membersPerItem, ...(after ? { after } : {}) });
        if (!page.length) break;
        for (const m of page) {
          const member = m.seq <= to ? memberNow(m.memberKey) : undefined;
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
  /**
   * A member link's member, by its key, if this plan sends the link: not a
   * deleted object, nor one a later plan will plan as new (a step of a plan
   * in steps ends before it, or it was imported after this plan began):
   * that plan sends the links imported before it with the object.
   */
  const memberNow = (key: string): string | undefined => {
    const m = space.objectByKey(key);
    if (!m) return undefined;
    if (m.seq > to && !store.peek(m.guid) && !store.isPlanned(m.guid)) return undefined;
    return m.guid;
  };
  /** new objects joining exported groups, one member change list per group */
  const joins = new Map<string, string[]>();
  /**
   * Sends again the links of the members a refused member change named: an
   * add for a member now in the group, a removal for one no longer in it,
   * and a removal too when the member or the group is deleted in AD and its
   * deletion has not gone out (the delete threshold may hold it, and a
   * restore from the recycle bin brings it back as it was, without that
   * link). A group not in the
   * cloud sends nothing (its creation sends its whole list), nor does a
   * member not in the cloud (its creation sends the groups it joins).
   * Removals go in items of their own: whatever refuses the adds (a group
   * made a member of itself, say) does not hold them back.
   */
  const retryMemberChanges = (group: string) => {
    const g = space.stateOf(group);
    const before = summary.memberChanges;
    if (g && (store.peek(group) || store.isPlanned(group))) {
      let after = '';
      for (;;) {
        const page = store.memberRetries(group, after, membersPerItem);
        if (!page.length) break;
        const add: string[] = [];
        const remove: string[] = [];
        for (const guid of page) {
          const m = space.stateOf(guid);
          if (!m || (!store.peek(guid) && !store.isPlanned(guid))) continue;
          (!g.deleted && !m.deleted && space.isMember(group, m.dn) ? add : remove).push(guid);
        }
        enqueueMembers(group, [], remove);
        enqueueMembers(group, add, []);
        after = page.at(-1)!;
      }
    }
    store.dropMemberRetries(group);
    // nothing left to send (nor planned by this plan): the refusal no longer concerns the cloud
    if (summary.memberChanges === before) store.endMemberError(group);
  };

  for (const o of space.changedSince(from)) {
    if (o.seq > to) break;
    planObject(o);
  }
  // Objects that failed before and have not changed since: retried every cycle (unless a plan still waiting to
  // be exported sends them anyway: a sync's rounds plan while the round before exports)
  if (!step || step.first) for (const guid of store.errorGuids()) if (!store.isPlanned(guid)) planAgain(space.get(guid));
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
      const member = memberNow(r.memberKey);
      if (!member) continue; // a deleted member (the cloud drops its links with it), or one planned later
      (r.removed ? remove : add).push(member);
      if (add.length + remove.length >= membersPerItem) flush();
    }
    const last = rows.at(-1)!;
    after = { seq: last.seq, group: last.groupGuid, key: last.memberKey };
  }
  flush();
  // Member changes the cloud refused: each member's link goes again as the connector space holds it now, after
  // every member change planned before (the refused change itself may be out of date: later ones went through)
  if (!step || step.first) for (const group of store.memberRetryGroups()) retryMemberChanges(group);
  space.setMeta(cursorKey, String(to));
  space.setMeta(rulesKey, options.rules.fingerprint);
  return summary;
}

export function plan(space: ConnectorSpace, store: ExportStore, options: PlanOptions): PlanSummary {
  return space.transaction(() => planInto(space, store, options));
}

/**
 * Where a step ends: after about `objects` objects, before the next object's
 * sequence number, so that the member links stored with an object stay in
 * its step (objects may share a number: a subtree move gives them one).
 */
function stepEnd(space: ConnectorSpace, step: PlanStep): number {
  const [last, next] = space.objectSeqsAfter(step.from, step.objects);
  if (last === undefined || next === undefined) return step.end;
  return Math.min(step.end, Math.max(last, next - 1));
}

/** Objects a step of planInSteps plans: about 0.1 s of the agent's time. */
const objectsPerStep = 2000;

/**
 * A plan in steps of about 2,000 objects, each its own transaction with the
 * cursor, and the event loop free between them. The agent meanwhile goes on
 * reading AD (an initial sync plans while it imports) and answering
 * pass-through authentications: a plan in one piece held the event loop
 * for 1–2 s a round at 100,000 users. A crash between steps is as if the
 * steps had been cycles of their own: the next plan starts after the last
 * one stored.
 *
 * A full plan, or a rescan after the rules changed, runs in one piece, as
 * plan(): both go back to the beginning, and what they must do beyond a
 * step (send every object again, apply the new rules to objects planned
 * before) would not be recorded anywhere after a crash mid-way.
 */
export async function planInSteps(space: ConnectorSpace, store: ExportStore, options: PlanOptions): Promise<PlanSummary> {
  let from = Number(space.getMeta(cursorKey) ?? 0);
  // (a rescan from the beginning is a first plan: nothing before its steps was planned under other rules)
  if (options.full || (options.rescan && from > 0)) return plan(space, store, options);
  const end = space.currentSeq;
  const steps: PlanSummary[] = [];
  for (;;) {
    const step: PlanStep = { from, end, objects: objectsPerStep, first: steps.length === 0 };
    const s = space.transaction(() => planInto(space, store, options, step));
    steps.push(s);
    if (s.to >= end) return mergePlanSummaries(steps);
    from = s.to;
    await nextTurn();
  }
}

/** Plans in a row (steps, or a sync's rounds) as one: from the first's start to the last's end, the counts added. */
export function mergePlanSummaries(parts: readonly PlanSummary[]): PlanSummary {
  const total = { ...parts[0]!, to: parts.at(-1)!.to };
  for (const p of parts.slice(1)) {
    total.objectsRead += p.objectsRead;
    total.upserts += p.upserts;
    total.deletes += p.deletes;
    total.memberChanges += p.memberChanges;
    total.ruleErrors += p.ruleErrors;
  }
  return total;
}
