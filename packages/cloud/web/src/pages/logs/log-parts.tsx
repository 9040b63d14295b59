import type { Page } from '../../api/client.ts';
import type { Loaded } from '../../api/use-api.ts';
import { DataTable, Pager, type Column } from '../../components/data-table.tsx';
import { ErrorNotice, Progress } from '../../components/feedback.tsx';
import { formatDateTime } from '../../components/format.ts';
import { Section } from '../../components/page.tsx';
import type { useCursorStack } from '../../components/cursor-stack.ts';

/** How many entries a log page reads at a time. */
export const logPageSize = 50;

/**
 * A date from an `<input type="date">` (YYYY-MM-DD) as the start of that day
 * in the admin's time zone, as the API's ISO date-time; `dayAfter` gives the
 * start of the next day (an inclusive "to" date). A value that is not a date
 * goes to the server as it is, which answers what is wrong with it.
 */
export function dateToIso(value: string, dayAfter = false): string | undefined {
  if (!value) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return value;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + (dayAfter ? 1 : 0));
  return Number.isNaN(d.getTime()) ? value : d.toISOString();
}

export function LogTime({ iso }: { iso: string }) {
  return <time dateTime={iso}>{formatDateTime(iso)}</time>;
}

/** A log's list: its section, the read's progress and error, the page of entries as a table, and the pager. */
export function LogResults<T>({ title, id, log, paging, errorTitle, progressLabel, caption, columns, rowKey, empty }: {
  title: string;
  /** the section's id; its heading is `${id}-heading` (useCursorStack focuses it) */
  id: string;
  log: Loaded<Page<T>>;
  paging: ReturnType<typeof useCursorStack>;
  errorTitle: string;
  progressLabel: string;
  caption: string;
  columns: Column<T>[];
  rowKey: (row: T) => string;
  empty: string;
}) {
  const items = log.data?.items ?? [];
  return (
    <Section title={title} id={id}>
      <ErrorNotice error={log.error} title={errorTitle} />
      {log.loading ? <Progress label={progressLabel} /> : null}
      {log.data ? (
        <>
          <div className="log-table">
            <DataTable caption={caption} columns={columns} rows={items} rowKey={rowKey} busy={log.loading} empty={empty} />
          </div>
          <Pager page={paging.page} hasNext={Boolean(log.data.nextCursor)} shown={items.length}
            onPrevious={paging.previous} onNext={() => paging.next(log.data?.nextCursor)} />
        </>
      ) : null}
    </Section>
  );
}
