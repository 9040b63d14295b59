/**
 * A plan made while the last plan's items are still on their way to the
 * cloud (a sync's rounds plan while the round before exports) compares each
 * object with what is on its way: a change back, a deletion, and a new
 * group's member removals all go out after what was planned before; an
 * object whose creation is on its way sends its memberships again with its
 * next upsert (the creation may fail, and the update create it). And a rule
 * error a plan records is not cleared by the export of an earlier plan.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SpaceObject } from '../../src/space/connector-space.ts';
import { phases } from '../../src/sync/export-store.ts';
import { plan } from '../../src/sync/planner.ts';
import { exportAll, withSpace } from '../helpers/planning.ts';

const guidOf = (n: number) => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
const dnOf = (n: number) => `CN=User ${n},OU=Staff,DC=corp,DC=example,DC=com`;
const user = (n: number, title = 'Engineer'): Omit<SpaceObject, 'deleted' | 'seq'> => ({
  guid: guidOf(n), dn: dnOf(n), kind: 'user', scope: null, usnChanged: null,
  attributes: { userPrincipalName: [`user${n}@corp.example.com`], userAccountControl: ['512'], displayName: [`User ${n}`], title: [title], sAMAccountName: [`user${n}`] },
});
const group = (n: number, description = 'A group'): Omit<SpaceObject, 'deleted' | 'seq'> => ({
  guid: guidOf(n), dn: `CN=Group ${n},OU=Groups,DC=corp,DC=example,DC=com`, kind: 'group', scope: null, usnChanged: null,
  attributes: { groupType: ['-2147483646'], sAMAccountName: [`group${n}`], displayName: [`Group ${n}`], description: [description] },
});

test('a plan compares with the items a plan before it left on their way, not with what the cloud held', () => withSpace((space, store, options) => {
  space.transaction(() => {
    for (let n = 1; n <= 10; n++) space.put(user(n), 1);
    space.put(group(200), 1); // a group the cloud holds
    space.putMembers(guidOf(200), [dnOf(1)], 1);
  });
  plan(space, store, options);
  exportAll(space, store);
  const exportedHash = store.get(guidOf(1))!.hash;

  // round k plans four changes, and its export has not recorded them when round k+1 plans
  space.transaction(() => {
    space.put(user(1, 'Manager'), 2); // changed…
    space.put(user(11), 2); // new…
    space.put(group(100), 2); // a new group with three members
    space.putMembers(guidOf(100), [dnOf(1), dnOf(2), dnOf(3)], 2);
    space.put(user(12), 2); // a new user joining the group the cloud holds
    space.putMembers(guidOf(200), [dnOf(1), dnOf(12)], 2);
  });
  const roundK = plan(space, store, options);
  assert.equal(roundK.upserts, 4);
  const roundKLast = store.lastPlannedId();
  space.transaction(() => {
    space.put(user(1), 3); // …and back as the cloud has it
    space.markDeleted(guidOf(11)); // …and gone again
    space.put(group(100, 'Another description'), 3); // the group changes, and loses a member
    space.putMembers(guidOf(100), [dnOf(1), dnOf(3)], 3);
    space.sweepMembers(guidOf(100), 3);
    space.put(user(12, 'Manager'), 3); // the new user changes before its creation was answered
  });
  const roundK1 = plan(space, store, options);

  const items = store.next(1_000_000);
  const upserts = (n: number) => items.filter((i) => i.guid === guidOf(n) && i.body.kind === 'upsert').map((i) => (i.body.kind === 'upsert' ? i.body.hash : ''));
  // the change back goes out after the change: the cloud ends as AD is
  assert.equal(upserts(1).length, 2, JSON.stringify(roundK1));
  assert.equal(upserts(1).at(-1), exportedHash);
  // the user created and deleted between the rounds is deleted after its creation
  assert.ok(items.some((i) => i.guid === guidOf(11) && i.phase === phases.deletes && i.body.kind === 'delete'), 'the deletion of a user on its way to the cloud');
  // the group: created with three members; then updated with its members as they are now (its creation may yet
  // fail while the update creates it), and the member it lost removed after them
  const memberItems = items.filter((i) => i.guid === guidOf(100) && i.body.kind === 'members').map((i) => i.body);
  assert.deepEqual(memberItems, [
    { kind: 'members', add: [guidOf(1), guidOf(2), guidOf(3)], remove: [] },
    { kind: 'members', add: [guidOf(1), guidOf(3)], remove: [] },
    { kind: 'members', add: [], remove: [guidOf(2)] },
  ]);
  assert.equal(upserts(100).length, 2);
  // the new user changed again: its link to the group the cloud holds goes again with its second upsert
  const joins = items.filter((i) => i.guid === guidOf(200) && i.body.kind === 'members' && i.body.add.includes(guidOf(12)));
  assert.equal(upserts(12).length, 2);
  assert.deepEqual(joins.map((i) => i.id > roundKLast), [false, true], 'joins planned by both rounds');

  exportAll(space, store);
  assert.equal(store.get(guidOf(1))!.hash, exportedHash);
  assert.equal(store.get(guidOf(11)), undefined);
}));

test('a rule error stays until a plan clears it; what an export or the cloud recorded, until an export succeeds', () => withSpace((space, store, options) => {
  space.transaction(() => {
    for (let n = 1; n <= 3; n++) space.put(user(n), 1);
  });
  plan(space, store, options);
  exportAll(space, store);
  const error = (n: number, category: 'rule' | 'duplicate_attribute') => store.setError({ guid: guidOf(n), dn: dnOf(n), category, code: 'test', message: 'recorded by the test', attribute: null });
  error(1, 'rule');
  error(2, 'duplicate_attribute');
  // an earlier plan's export succeeding for both: only the error the cloud gave is over
  store.clearExportError(guidOf(1));
  store.clearExportError(guidOf(2));
  assert.deepEqual(store.errors().map((e) => [e.guid, e.category]), [[guidOf(1), 'rule']]);
  // the object projects again: the plan clears its rule error, and sends it
  space.transaction(() => {
    space.put(user(1, 'Fixed'), 2);
  });
  const planned = plan(space, store, options);
  assert.equal(planned.upserts, 1);
  assert.deepEqual(store.errors(), []);
}));

test('an object the cloud deleted behind the agent\'s back, its update on its way, goes again as new with its memberships', () => withSpace((space, store, options) => {
  space.transaction(() => {
    for (let n = 1; n <= 3; n++) space.put(user(n), 1);
    space.put(group(100), 1);
    space.putMembers(guidOf(100), [dnOf(1), dnOf(2)], 1);
  });
  plan(space, store, options);
  exportAll(space, store);
  // a round plans updates of the group and of user 1 (as objects the cloud holds) and a new member of the group…
  space.transaction(() => {
    space.put(group(100, 'Changed'), 2);
    space.put(user(1, 'Manager'), 2);
    space.addMembers(guidOf(100), [dnOf(3)], 2);
  });
  plan(space, store, options);
  // …then the round before reads the change feed: both were deleted in the cloud, their links with them (as SyncEngine.#confirm records it)
  space.transaction(() => {
    for (const n of [100, 1]) {
      store.forgetExported(guidOf(n));
      store.setError({ guid: guidOf(n), dn: dnOf(n), category: 'other', code: 'changed_in_cloud', message: 'deleted in the cloud', attribute: null });
    }
  });
  assert.deepEqual(store.next(1_000_000).filter((i) => [guidOf(100), guidOf(1)].includes(i.guid)), [], 'what was planned for them is dropped');
  plan(space, store, options);
  const items = store.next(1_000_000);
  assert.deepEqual(items.filter((i) => i.body.kind === 'upsert').map((i) => i.guid).sort(), [guidOf(1), guidOf(100)].sort());
  // the group comes back with its whole member list (user 1 among them: its creation goes out in the same phase before)
  const members = items.filter((i) => i.guid === guidOf(100) && i.body.kind === 'members').map((i) => i.body);
  assert.deepEqual(members, [{ kind: 'members', add: [guidOf(1), guidOf(2), guidOf(3)], remove: [] }]);
}));
