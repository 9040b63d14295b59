/** The Idempotency-Key of an export batch: the same items and content give the same key, any difference another. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchDigest } from '../../src/sync/exporter.ts';
import { exportHash } from '../../src/sync/planner.ts';
import type { OutboxItem } from '../../src/sync/export-store.ts';
import type { SyncOperation } from '@skybridge/protocol';

const upsert = (id: number, immutableId: string, attributes: Record<string, unknown>): { item: OutboxItem; op: SyncOperation } => ({
  item: { id, phase: 1, guid: `guid-${immutableId}`, body: { kind: 'upsert', type: 'user', immutableId, attributes, hash: exportHash('user', attributes), dn: `CN=${immutableId}` } },
  op: { op: 'upsert', type: 'user', immutableId, attributes },
});
const members = (id: number, add: string[]): { item: OutboxItem; op: SyncOperation } => ({
  item: { id, phase: 2, guid: 'guid-group', body: { kind: 'members', add: ['g1'], remove: [] } },
  op: { op: 'upsert', type: 'group', immutableId: 'group', attributes: { displayName: 'Staff' }, members: { add, remove: [] } },
});

test('a batch sent again after a crash has the same key', () => {
  const a = [upsert(1, 'AAA', { userPrincipalName: 'a@x.com', displayName: 'A' }), upsert(2, 'BBB', { userPrincipalName: 'b@x.com' })];
  const again = [upsert(1, 'AAA', { displayName: 'A', userPrincipalName: 'a@x.com' }), upsert(2, 'BBB', { userPrincipalName: 'b@x.com' })];
  assert.equal(batchDigest(a), batchDigest(again), 'the same content in another key order');
  assert.equal(batchDigest([members(7, ['m1', 'm2'])]), batchDigest([members(7, ['m1', 'm2'])]));
});

test('other items or other content: another key', () => {
  const base = batchDigest([upsert(1, 'AAA', { userPrincipalName: 'a@x.com' })]);
  assert.notEqual(batchDigest([upsert(2, 'AAA', { userPrincipalName: 'a@x.com' })]), base, 'another outbox item');
  assert.notEqual(batchDigest([upsert(1, 'AAB', { userPrincipalName: 'a@x.com' })]), base, 'another immutable id');
  assert.notEqual(batchDigest([upsert(1, 'AAA', { userPrincipalName: 'a@x.com', jobTitle: 'Rep' })]), base, 'another attribute');
  assert.notEqual(batchDigest([members(7, ['m1', 'm2'])]), batchDigest([members(7, ['m1', 'm3'])]), 'other members');
  assert.notEqual(
    batchDigest([upsert(1, 'AAA', { userPrincipalName: 'a@x.com' }), upsert(2, 'BBB', { userPrincipalName: 'b@x.com' })]),
    batchDigest([upsert(1, 'AAA', { userPrincipalName: 'a@x.com' })]),
    'one item more',
  );
});
