/**
 * The sync engine's state (sync/export-store.ts): what an export records,
 * and the refusal to record what was never planned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectError } from '../../src/errors.ts';
import { ConnectorSpace } from '../../src/space/connector-space.ts';
import { ExportStore, phases } from '../../src/sync/export-store.ts';

const guid = '0000002a-0000-4000-8000-000000000000';

test('an export is recorded from its planned item; an item that is not a planned upsert is refused with connector_space_invalid', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skybridge-export-store-'));
  const space = ConnectorSpace.open(dir);
  try {
    const store = new ExportStore(space.db);
    assert.equal(store.lastPlannedId(), 0, 'nothing planned yet');
    const exported = { guid, immutableId: 'KgAAAAAAAEBAAAAAAAAAAA==', type: 'user' as const, hash: 'h1', objectId: null };
    store.enqueue(phases.objects, guid, { kind: 'upsert', type: 'user', immutableId: exported.immutableId, attributes: { displayName: 'Zoë' }, hash: 'h1', dn: 'CN=Zoë,DC=corp,DC=example,DC=com' });
    store.enqueue(phases.members, guid, { kind: 'members', add: [], remove: [] });
    assert.equal(store.lastPlannedId(), 2);
    store.putFromOutbox(1, exported);
    assert.deepEqual(store.get(guid)?.attributes, { displayName: 'Zoë' });
    assert.throws(() => store.putFromOutbox(2, exported), (err: unknown) => err instanceof ConnectError && err.code === 'connector_space_invalid' && err.subject === guid && /outbox item 2 .* not a planned upsert/.test(err.message));
    assert.throws(() => store.putFromOutbox(99, exported), (err: unknown) => err instanceof ConnectError && err.code === 'connector_space_invalid');
    // ids are never reused: the last planned id stays after the items leave the outbox
    store.doneRange(phases.objects, 1, 1);
    store.doneRange(phases.members, 2, 2);
    assert.equal(store.lastPlannedId(), 2);
    assert.deepEqual(store.next(10), []);
    store.enqueue(phases.objects, guid, { kind: 'upsert', type: 'user', immutableId: exported.immutableId, attributes: {}, hash: 'h2', dn: 'CN=Zoë,DC=corp,DC=example,DC=com' });
    assert.deepEqual(store.next(10).map((i) => i.id), [3]);
    assert.deepEqual(store.next(10, { upTo: 2 }), [], 'an export bounded to an earlier plan leaves the later item');
  } finally {
    space.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
