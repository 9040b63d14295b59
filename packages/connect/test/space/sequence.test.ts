/**
 * The connector space's change sequence only grows, across processes: the
 * sync planner reads "everything after its cursor", so a number handed out
 * again after a restart would hide a change from it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectorSpace } from '../../src/space/connector-space.ts';

const object = (guid: string, dn: string, kind: 'user' | 'group' = 'user') => ({ guid, dn, kind, scope: null, attributes: { cn: [dn.slice(3, dn.indexOf(','))] }, usnChanged: null });

test('sequence numbers handed out for writes that stored nothing are not handed out again after a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skybridge-space-'));
  try {
    let space = ConnectorSpace.open(dir);
    space.transaction(() => {
      space.put(object('g1', 'CN=Group,DC=x'), 1);
      space.put(object('u1', 'CN=One,DC=x'), 1);
      space.putMembers('g1', ['CN=One,DC=x'], 1);
    });
    // reading the same member list again changes nothing, yet takes numbers
    for (let run = 2; run < 6; run++) space.transaction(() => space.putMembers('g1', ['CN=One,DC=x'], run));
    const handedOut = space.currentSeq;
    space.close();

    space = ConnectorSpace.open(dir);
    assert.ok(space.currentSeq >= handedOut, `reopened at ${space.currentSeq}, numbers up to ${handedOut} were handed out`);
    space.transaction(() => space.put(object('u2', 'CN=Two,DC=x'), 6));
    assert.ok(space.get('u2')!.seq > handedOut, 'a change after the restart sorts after everything before it');
    space.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
