/**
 * A plan in steps (planInSteps) plans what one plan in a single transaction
 * plans: the same outbox, item for item, for an initial sync and for the
 * delta after it. Between steps the event loop runs, and what a step planned
 * is stored with its cursor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectorSpace, type SpaceObject } from '../../src/space/connector-space.ts';
import { ExportStore, type OutboxItem } from '../../src/sync/export-store.ts';
import { cursorKey, plan, planInSteps, type PlanOptions } from '../../src/sync/planner.ts';
import { RuleSet } from '../../src/rules/rule-set.ts';
import { exportAll } from '../helpers/planning.ts';

const users = 5000;
const guidOf = (n: number) => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
const dnOf = (n: number) => `CN=User ${n},OU=Staff,DC=corp,DC=example,DC=com`;
const user = (n: number, title = 'Engineer'): Omit<SpaceObject, 'deleted' | 'seq'> => ({
  guid: guidOf(n), dn: dnOf(n), kind: 'user', scope: null, usnChanged: null,
  attributes: { userPrincipalName: [`user${n}@corp.example.com`], userAccountControl: ['512'], displayName: [`User ${n}`], title: [title], sAMAccountName: [`user${n}`] },
});
const group = (n: number, name: string): Omit<SpaceObject, 'deleted' | 'seq'> => ({
  guid: guidOf(n), dn: `CN=${name},OU=Groups,DC=corp,DC=example,DC=com`, kind: 'group', scope: null, usnChanged: null,
  attributes: { groupType: ['-2147483646'], sAMAccountName: [name], displayName: [name] },
});

/**
 * An initial import in pages of 500, as the importer stores them. The 2,000th
 * object (the end of the first step) is a group whose member links are stored
 * after it: a step must not leave them to the next one. The other group is
 * the first object of the second step.
 */
function importInitial(space: ConnectorSpace): void {
  let n = 0;
  for (let page = 0; page < users / 500; page++) {
    space.transaction(() => {
      for (let i = 0; i < 500; i++) {
        n += 1;
        if (n === 2000) {
          space.put(group(900_001, 'Boundary'), 1);
          space.putMembers(guidOf(900_001), Array.from({ length: 1500 }, (_, k) => dnOf(k + 1)), 1);
        } else space.put(user(n), 1);
      }
      if (page === 3) {
        space.put(group(900_002, 'Everyone'), 1);
        // (users 1 to 10 join it later)
        space.putMembers(guidOf(900_002), Array.from({ length: users }, (_, k) => dnOf(k + 1)).filter((_, k) => k + 1 !== 2000 && k + 1 > 10), 1);
      }
    });
  }
}

/** What a delta brings: changed titles, new users joining both groups, a user gone. */
function importDelta(space: ConnectorSpace): void {
  space.transaction(() => {
    for (let n = 1; n <= 3000; n += 1) space.put(user(n, 'Manager'), 2);
    for (let n = users + 1; n <= users + 2500; n += 1) space.put(user(n), 2);
    space.putMembers(guidOf(900_001), Array.from({ length: 1500 }, (_, k) => dnOf(k + 1)).concat(Array.from({ length: 2500 }, (_, k) => dnOf(users + k + 1))), 2);
    space.markDeleted(guidOf(17));
  });
}

/**
 * Every outbox item, as the exporter would read them, without their ids;
 * member changes as what each group gains and loses (a group's new members
 * planned in a later step than the group come in an item of their own).
 */
function outbox(store: ExportStore): { objects: Omit<OutboxItem, 'id'>[]; members: Record<string, { add: string[]; remove: string[] }> } {
  const items = store.next(1_000_000);
  const members: Record<string, { add: string[]; remove: string[] }> = {};
  for (const { guid, body } of items) {
    if (body.kind !== 'members') continue;
    const m = (members[guid] ??= { add: [], remove: [] });
    m.add.push(...body.add);
    m.remove.push(...body.remove);
  }
  for (const m of Object.values(members)) m.add.sort(), m.remove.sort();
  return { objects: items.filter((i) => i.body.kind !== 'members').map(({ phase, guid, body }) => ({ phase, guid, body })), members };
}

/** Member values the outbox adds to each group, counted per member. */
function memberAdds(store: ExportStore): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const item of store.next(1_000_000)) {
    if (item.body.kind !== 'members') continue;
    const counts = out.get(item.guid) ?? new Map<string, number>();
    for (const m of item.body.add) counts.set(m, (counts.get(m) ?? 0) + 1);
    out.set(item.guid, counts);
  }
  return out;
}

test('a plan in steps plans the same outbox as one plan, for an initial sync and the delta after it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skybridge-plan-steps-'));
  const one = ConnectorSpace.open(join(dir, 'one'));
  const steps = ConnectorSpace.open(join(dir, 'steps'));
  try {
    const options: PlanOptions = { rules: new RuleSet({ domainDns: 'corp.example.com' }), anchor: 'objectGUID' };
    const stores = { one: new ExportStore(one.db), steps: new ExportStore(steps.db) };
    importInitial(one);
    importInitial(steps);

    // the first plan: the event loop runs between steps, and finds a step's cursor stored
    const seen: number[] = [];
    const watch = setInterval(() => seen.push(Number(steps.getMeta(cursorKey) ?? 0)), 0);
    const single = plan(one, stores.one, options);
    const stepped = await planInSteps(steps, stores.steps, options);
    clearInterval(watch);
    assert.ok(seen.some((c) => c > 0 && c < steps.currentSeq), `a step's cursor was stored while the plan went on (seen ${[...new Set(seen)].join(', ')})`);
    assert.deepEqual({ ...stepped, to: 0 }, { ...single, to: 0 }, 'the same counts');
    assert.equal(stepped.to, steps.currentSeq);
    assert.equal(single.upserts, users + 1);
    const first = outbox(stores.steps);
    assert.deepEqual(first, outbox(stores.one), 'the same outbox after the initial plan');
    assert.equal(first.members[guidOf(900_001)]!.add.length, 1500, 'the group ending the first step sends its 1,500 members once');
    assert.equal(first.members[guidOf(900_002)]!.add.length, users - 1 - 10);

    exportAll(one, stores.one);
    exportAll(steps, stores.steps);
    importDelta(one);
    importDelta(steps);
    const delta = { one: plan(one, stores.one, options), steps: await planInSteps(steps, stores.steps, options) };
    assert.deepEqual({ ...delta.steps, to: 0 }, { ...delta.one, to: 0 });
    assert.equal(delta.steps.upserts, 3000 - 1 + 2500, 'changed and new users (one changed user is then deleted)');
    assert.equal(delta.steps.deletes, 1);
    assert.deepEqual(outbox(stores.steps), outbox(stores.one), 'the same outbox after the delta');
  } finally {
    one.close();
    steps.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('objects imported while a plan goes on step by step are planned by the next plan, their member links sent once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skybridge-plan-steps-'));
  const space = ConnectorSpace.open(dir);
  try {
    const options: PlanOptions = { rules: new RuleSet({ domainDns: 'corp.example.com' }), anchor: 'objectGUID' };
    const store = new ExportStore(space.db);
    importInitial(space);
    // the import goes on between steps, as an initial sync's does: new users, and their links to both groups
    // (and links of users planned before: users 1 to 10 join a group planned after them)
    let next = users + 1;
    const importing = (async () => {
      while (next <= users + 1000) {
        await new Promise((resolve) => setImmediate(resolve));
        space.transaction(() => {
          const page = Array.from({ length: 200 }, (_, k) => next + k);
          for (const n of page) space.put(user(n), 2);
          space.putMembers(guidOf(900_001), Array.from({ length: 1500 }, (_, k) => dnOf(k + 1)).concat(Array.from({ length: next + 199 - users }, (_, k) => dnOf(users + k + 1))), 2);
          space.putMembers(guidOf(900_002), Array.from({ length: next + 199 }, (_, k) => dnOf(k + 1)).filter((_, k) => k + 1 !== 2000), 2);
          next += 200;
        });
      }
    })();
    const first = await planInSteps(space, store, options);
    await importing;
    assert.ok(first.to < space.currentSeq, 'the import went on during the plan');
    const second = await planInSteps(space, store, options);
    assert.equal(first.upserts + second.upserts, users + 1 + 1000, 'every object planned once');

    const adds = memberAdds(store);
    const expected = (group: number, members: number[]) => {
      const counts = adds.get(guidOf(group)) ?? new Map<string, number>();
      const twice = [...counts].filter(([, c]) => c > 1).map(([m]) => m);
      assert.deepEqual(twice, [], `no member of group ${group} sent twice`);
      assert.deepEqual([...counts.keys()].sort(), members.map(guidOf).sort(), `every member of group ${group} sent`);
    };
    expected(900_001, [...Array.from({ length: 1500 }, (_, k) => k + 1), ...Array.from({ length: 1000 }, (_, k) => users + k + 1)]);
    expected(900_002, Array.from({ length: users + 1000 }, (_, k) => k + 1).filter((n) => n !== 2000));
  } finally {
    space.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
