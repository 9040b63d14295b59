/**
 * Upgrading the agent: a connector space written by an earlier release (here:
 * one from before password hash synchronization, without its table) opens
 * with this release, gains what it lacks in place, and keeps its contents;
 * one written by a newer release is refused with the fix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ConnectorSpace } from '../../src/space/connector-space.ts';
import { passwordSyncStatus } from '../../src/phs/password-hash-sync.ts';
import { ConnectError } from '../../src/errors.ts';

test('a space from an earlier release gains the password hash table and keeps its objects; a newer one is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skybridge-space-'));
  try {
    const space = ConnectorSpace.open(dir);
    const run = space.beginRun('full');
    space.put({ guid: '00000000-0000-0000-0000-000000000001', dn: 'CN=Ada,DC=corp,DC=example,DC=com', kind: 'user', scope: 'in_scope' as never, attributes: { pwdLastSet: ['1'] }, usnChanged: 1n }, run);
    space.close();

    // as the release before password hash synchronization left it
    const old = new DatabaseSync(join(dir, 'connector-space.db'));
    old.exec('DROP TABLE password_sync');
    old.close();

    const upgraded = ConnectorSpace.open(dir);
    assert.equal(upgraded.get('00000000-0000-0000-0000-000000000001')?.dn, 'CN=Ada,DC=corp,DC=example,DC=com');
    assert.deepEqual(passwordSyncStatus(upgraded), { users: 0, synced: 0, errors: 0, lastSyncedAt: null }, 'the table is back and readable');
    upgraded.close();

    const newer = new DatabaseSync(join(dir, 'connector-space.db'));
    newer.exec("UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    newer.close();
    assert.throws(() => ConnectorSpace.open(dir), (e: unknown) => e instanceof ConnectError && e.code === 'connector_space_invalid' && /newer agent/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
