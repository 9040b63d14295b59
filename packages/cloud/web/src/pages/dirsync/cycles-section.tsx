import type { Page } from '../../api/client.ts';
import type { Loaded } from '../../api/use-api.ts';
import { DataTable, type Column } from '../../components/data-table.tsx';
import { Badge, ErrorNotice, Progress } from '../../components/feedback.tsx';
import { formatDateTime } from '../../components/format.ts';
import { Section } from '../../components/page.tsx';
import type { SyncCycle } from './types.ts';

export const cyclesShown = 10;

function duration(c: SyncCycle): string {
  if (!c.finishedDateTime) return '';
  const s = Math.max(0, Math.round((Date.parse(c.finishedDateTime) - Date.parse(c.startedDateTime)) / 1000));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** The last cycles the agents reported (GET /sync/cycles), newest first, with what each exported. */
export function CyclesSection({ cycles }: { cycles: Loaded<Page<SyncCycle>> }) {
  const columns: Column<SyncCycle>[] = [
    { header: 'Started', primary: true, className: 'dirsync-nowrap', cell: (c) => <time dateTime={c.startedDateTime}>{formatDateTime(c.startedDateTime)}</time> },
    { header: 'Kind', className: 'dirsync-nowrap', cell: (c) => (c.kind === 'full' ? 'Full' : c.kind === 'delta' ? 'Delta' : c.kind) },
    { header: 'Agent', cell: (c) => c.agentHostname ?? 'A removed agent' },
    { header: 'Finished', className: 'dirsync-nowrap', cell: (c) => (c.finishedDateTime ? `after ${duration(c)}` : <Badge tone="warn">Not finished</Badge>) },
    { header: 'Added', className: 'num dirsync-nowrap', cell: (c) => c.adds },
    { header: 'Updated', className: 'num dirsync-nowrap', cell: (c) => c.updates },
    { header: 'Deleted', className: 'num dirsync-nowrap', cell: (c) => c.deletes },
    { header: 'Errors', className: 'num dirsync-nowrap', cell: (c) => (c.errors ? <Badge tone="warn">{c.errors}</Badge> : 0) },
  ];
  return (
    <Section title="Recent sync cycles" id="cycles">
      <p>A full cycle reads the whole domain; a delta sends what changed since the last one. The counts are the objects each cycle added, updated and deleted
        in the cloud, and the objects it could not synchronize.</p>
      <ErrorNotice error={cycles.error} title="The sync cycles could not be read" />
      {cycles.loading && !cycles.data ? <Progress label="Loading sync cycles…" /> : null}
      {cycles.data ? (
        <DataTable
          caption={`The last ${cyclesShown} sync cycles, newest first`}
          columns={columns}
          rows={cycles.data.items}
          rowKey={(c) => `${c.agentId}-${c.startedDateTime}`}
          busy={cycles.loading}
          empty="No sync cycle reported yet: an agent reports each cycle once it runs."
        />
      ) : null}
    </Section>
  );
}
