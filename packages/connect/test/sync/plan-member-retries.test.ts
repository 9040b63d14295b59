/**
 * Member changes the cloud refused (ExportStore.holdMemberChanges) go again
 * with the next plan, as the links are then: after the member changes that
 * plan makes itself, removals apart from adds, a deleted member or group
 * still in the cloud removed, a member not in the cloud left to its own
 * creation. The group's error stays while member changes are owed, and goes
 * when none are: at once when the retry has nothing to send, or, for members
 * the cloud did not hold (member_not_found, which the cloud lists until told),
 * once the cloud takes a member change naming none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SpaceObject } from '../../src/space/connector-space.ts';
import type { ExportStore } from '../../src/sync/export-store.ts';
import { phases } from '../../src/sync/export-store.ts';
import { plan } from '../../src/sync/planner.ts';
import { exportAll, withSpace } from '../helpers/planning.ts';

const guidOf = (n: number) => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
const dnOf = (n: number) => `CN=User ${n},OU=Staff,DC=corp,DC=example,DC=com`;
const user = (n: number): Omit<SpaceObject, 'deleted' | 'seq'> => ({
  guid: guidOf(n), dn: dnOf(n), kind: 'user', scope: null, usnChanged: null,
  attributes: { userPrincipalName: [`user${n}@corp.example.com`], userAccountControl: ['512'], displayName: [`User ${n}`], sAMAccountName: [`user${n}`] },
});
const groupGuid = guidOf(100);
const group: Omit<SpaceObject, 'deleted' | 'seq'> = {
  guid: groupGuid, dn: 'CN=Group 100,OU=Groups,DC=corp,DC=example,DC=com', kind: 'group', scope: null, usnChanged: null,
  attributes: { groupType: ['-2147483646'], sAMAccountName: ['group100'], displayName: ['Group 100'] },
};

/** The cloud refuses the group's planned member changes, as the exporter records it. */
function refuseMemberChanges(space: Parameters<typeof exportAll>[0], store: ExportStore): number {
  const items = store.next(1_000_000).filter((i) => i.phase === phases.members);
  assert.ok(items.length > 0, 'member changes are planned');
  space.transaction(() => {
    for (const i of items) {
      store.holdMemberChanges(i.id);
      store.setError({ guid: i.guid, dn: group.dn, category: 'other', code: 'member_not_found', message: 'member changes refused', attribute: 'members' });
      store.doneRange(i.phase, i.id, i.id);
    }
  });
  exportAll(space, store);
  return items.length;
}

const memberItems = (store: ExportStore) => store.next(1_000_000).filter((i) => i.phase === phases.members).map((i) => i.body);

test('refused member changes go again as the links are then, after the plan\'s own, removals apart', () => withSpace((space, store, options) => {
  space.transaction(() => {
    for (let n = 1; n <= 6; n++) space.put(user(n), 1);
    space.put(group, 1);
    space.putMembers(groupGuid, [dnOf(1), dnOf(2), dnOf(3)], 1);
  });
  plan(space, store, options);
  exportAll(space, store);
  // 4 joins and 3 leaves: the cloud refuses that change
  space.transaction(() => {
    space.addMembers(groupGuid, [dnOf(4)], 2);
    space.removeMembers(groupGuid, [dnOf(3)]);
  });
  plan(space, store, options);
  assert.deepEqual(memberItems(store), [{ kind: 'members', add: [guidOf(4)], remove: [guidOf(3)] }]);
  refuseMemberChanges(space, store);
  assert.deepEqual(store.memberRetries(groupGuid, '', 10).sort(), [guidOf(3), guidOf(4)].sort());

  // then 4 leaves again (that change goes through on its own) and 5 joins; 3 comes back
  space.transaction(() => {
    space.removeMembers(groupGuid, [dnOf(4)]);
    space.addMembers(groupGuid, [dnOf(5), dnOf(3)], 3);
  });
  const next = plan(space, store, options);
  // the plan's own change first, then the refused members as they are now: 3 a member (an add), 4 not (a removal)
  assert.deepEqual(memberItems(store), [
    { kind: 'members', add: [guidOf(3), guidOf(5)], remove: [guidOf(4)] },
    { kind: 'members', add: [], remove: [guidOf(4)] },
    { kind: 'members', add: [guidOf(3)], remove: [] },
  ], JSON.stringify(next));
  assert.deepEqual(store.memberRetries(groupGuid, '', 10), [], 'planned again: no longer kept');
  // the error stays while those changes wait to go out (the group, unchanged, is planned again for its error)…
  assert.equal(store.error(groupGuid)?.code, 'member_not_found');
  plan(space, store, options);
  assert.equal(store.error(groupGuid)?.code, 'member_not_found', 'member changes are owed');
  // …and a plan after they went out, with nothing owed, tells the cloud so: it lists member_not_found until a member
  // change made in full adds members or names none. The error stays until the cloud takes that change.
  exportAll(space, store);
  plan(space, store, options);
  assert.deepEqual(memberItems(store), [{ kind: 'members', add: [], remove: [] }]);
  assert.equal(store.error(groupGuid)?.code, 'member_not_found');
  plan(space, store, options);
  assert.deepEqual(memberItems(store), [{ kind: 'members', add: [], remove: [] }], 'said once: the next plan waits for its answer');
}));

test('a refused member deleted in AD, and still in the cloud, is removed; one not in the cloud is left to its creation', () => withSpace((space, store, options) => {
  space.transaction(() => {
    for (let n = 1; n <= 3; n++) space.put(user(n), 1);
    space.put(group, 1);
    space.putMembers(groupGuid, [dnOf(1)], 1);
  });
  plan(space, store, options);
  exportAll(space, store);
  space.transaction(() => space.addMembers(groupGuid, [dnOf(2), dnOf(3)], 2));
  plan(space, store, options);
  refuseMemberChanges(space, store);
  // 2 is deleted in AD (its deletion, held by the delete threshold, has not gone out); the cloud never had 3
  space.transaction(() => {
    space.markDeleted(guidOf(2));
    store.remove(guidOf(3));
  });
  plan(space, store, options);
  assert.deepEqual(memberItems(store), [{ kind: 'members', add: [], remove: [guidOf(2)] }]);
  assert.ok(store.next(1_000_000).some((i) => i.phase === phases.deletes && i.guid === guidOf(2)), 'its deletion is planned too');
}));

test('a retry with nothing left to send ends the error (telling the cloud, for member_not_found); a deleted group still in the cloud loses the kept members', () => withSpace((space, store, options) => {
  space.transaction(() => {
    for (let n = 1; n <= 2; n++) space.put(user(n), 1);
    space.put(group, 1);
  });
  plan(space, store, options);
  exportAll(space, store);
  space.transaction(() => space.addMembers(groupGuid, [dnOf(1)], 2));
  plan(space, store, options);
  refuseMemberChanges(space, store);
  // the member is no longer in the cloud (deleted there, the agent forgot it): nothing to send, but the cloud is told
  // that nothing is owed (a member change naming none)
  space.transaction(() => store.remove(guidOf(1)));
  plan(space, store, options);
  assert.deepEqual(memberItems(store), [{ kind: 'members', add: [], remove: [] }]);
  assert.equal(store.error(groupGuid)?.code, 'member_not_found', 'until the cloud takes it');
  exportAll(space, store);
  // another refusal (a group made a member of itself) concerns that change, not a list the cloud keeps: with nothing
  // owed, it ends at once
  space.transaction(() => store.setError({ guid: groupGuid, dn: group.dn, category: 'data_validation', code: 'self_membership', message: 'refused', attribute: 'members' }));
  plan(space, store, options);
  assert.deepEqual(memberItems(store), []);
  assert.equal(store.error(groupGuid), undefined, 'nothing is owed');

  space.transaction(() => space.addMembers(groupGuid, [dnOf(2)], 3));
  plan(space, store, options);
  refuseMemberChanges(space, store);
  // the group is deleted in AD; its deletion waits (the delete threshold): its kept member is removed meanwhile,
  // after the removals of its links that the plan makes itself
  space.transaction(() => space.markDeleted(groupGuid));
  plan(space, store, options);
  assert.deepEqual(memberItems(store).at(-1), { kind: 'members', add: [], remove: [guidOf(2)] });
  assert.equal(memberItems(store).length, 2);
}));
