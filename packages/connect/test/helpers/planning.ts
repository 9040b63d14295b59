/** A connector space of its own for planner tests, and the export's effect on it without a cloud. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectorSpace } from '../../src/space/connector-space.ts';
import { ExportStore } from '../../src/sync/export-store.ts';
import { RuleSet } from '../../src/rules/rule-set.ts';
import type { PlanOptions } from '../../src/sync/planner.ts';

/** Runs `fn` on a new connector space in a temporary directory (the default rules, objectGUID as anchor), then removes it. */
export async function withSpace(fn: (space: ConnectorSpace, store: ExportStore, options: PlanOptions) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'skybridge-planning-'));
  const space = ConnectorSpace.open(dir);
  try {
    await fn(space, new ExportStore(space.db), { rules: new RuleSet({ domainDns: 'corp.example.com' }), anchor: 'objectGUID' });
  } finally {
    space.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Records every planned upsert as exported and empties the outbox, as a successful export does. */
export function exportAll(space: ConnectorSpace, store: ExportStore): void {
  space.transaction(() => {
    const items = store.next(1_000_000);
    for (const item of items) {
      const b = item.body;
      if (b.kind === 'upsert') store.putFromOutbox(item.id, { guid: item.guid, immutableId: b.immutableId, type: b.type, hash: b.hash, objectId: null });
      if (b.kind === 'delete') store.remove(item.guid);
    }
    for (const phase of new Set(items.map((i) => i.phase))) {
      const ids = items.filter((i) => i.phase === phase).map((i) => i.id);
      store.doneRange(phase, Math.min(...ids), Math.max(...ids));
    }
  });
}
