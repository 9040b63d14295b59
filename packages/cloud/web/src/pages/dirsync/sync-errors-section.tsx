import { useEffect, useId, useState } from 'react';
import { api, type Page } from '../../api/client.ts';
import { useApi } from '../../api/use-api.ts';
import { DataTable, Pager, type Column } from '../../components/data-table.tsx';
import { ErrorNotice, Progress } from '../../components/feedback.tsx';
import { formatAgo, formatDateTime } from '../../components/format.ts';
import { Section } from '../../components/page.tsx';
import { useCursorStack } from '../../components/cursor-stack.ts';
import type { SyncError } from './types.ts';

const pageSize = 50;

/** The categories the cloud files refused objects under (packages/protocol: syncBatchResponse), each with what fixes it. */
const categories: { value: string; label: string; fix: string }[] = [
  { value: 'duplicate_attribute', label: 'Duplicate attribute', fix: 'Another object already holds a value that must be unique (a username or a proxy address). Change the value on one of the two objects in Active Directory; a quarantined value comes back by itself once its holder lets it go.' },
  { value: 'data_validation', label: 'Data validation', fix: 'A value the cloud does not accept. Correct it in Active Directory, as the message says; the next cycle sends the object again.' },
  { value: 'large_object', label: 'Large object', fix: 'The object is larger than the cloud accepts (too many values or too long a value). Remove values from it in Active Directory.' },
  { value: 'quota', label: 'Quota', fix: 'The organisation holds as many objects as its quota allows. Delete objects, narrow what synchronizes, or ask the operator to raise the quota.' },
  { value: 'other', label: 'Other', fix: 'The message says what happened and what to do.' },
];
const labelOf = (c: string) => categories.find((x) => x.value === c)?.label ?? c;

const columns: Column<SyncError>[] = [
  {
    header: 'Object', primary: true, className: 'dirsync-wide',
    cell: (e) => (
      <>
        {e.onPremisesDistinguishedName ?? <>Immutable id <code>{e.immutableId}</code></>}
        <span className="dirsync-cell-note">{e.type}{e.onPremisesDistinguishedName ? <>, immutable id <code>{e.immutableId}</code></> : null}</span>
      </>
    ),
  },
  {
    header: 'Problem and fix',
    cell: (e) => (
      <>
        {e.message}
        <span className="dirsync-cell-note">Code <code>{e.code}</code>{e.attribute ? <>, attribute <code>{e.attribute}</code></> : null}</span>
      </>
    ),
  },
  { header: 'Since', className: 'dirsync-nowrap', cell: (e) => <time dateTime={e.firstSeenDateTime} title={formatDateTime(e.firstSeenDateTime)}>{formatAgo(e.firstSeenDateTime)}</time> },
  { header: 'Last seen', className: 'dirsync-nowrap', cell: (e) => <time dateTime={e.lastSeenDateTime} title={formatDateTime(e.lastSeenDateTime)}>{formatAgo(e.lastSeenDateTime)}</time> },
];

/**
 * The objects the cloud refused (GET /sync/errors), a page at a time, grouped
 * by category with the object's on-premises DN and the message that says the
 * fix; the category filter and its counts are the cloud's, over every error.
 * An object leaves the list once a later cycle applies it.
 */
export function SyncErrorsSection({ reloadKey }: { reloadKey: number }) {
  const paging = useCursorStack();
  const [category, setCategory] = useState('');
  const filterId = useId();
  const pageIndex = paging.page;
  const cursor = paging.cursor;
  const errors = useApi((signal) => api.get<Page<SyncError> & { counts?: Record<string, number> }>('/sync/errors', { limit: pageSize, cursor, category }, signal), [cursor, category, reloadKey]);
  // the counts come with a first page (of every category); kept while paging
  const [counts, setCounts] = useState<Record<string, number>>({});
  const answered = errors.data?.counts;
  useEffect(() => { if (answered && !category) setCounts(answered); }, [answered, category]);
  const items = errors.data?.items ?? [];
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const present = [...new Set(items.map((e) => e.category))];
  const groups = [...categories.map((c) => c.value), ...present.filter((c) => !categories.some((x) => x.value === c))]
    .map((c) => ({ category: c, rows: items.filter((e) => e.category === c) }))
    .filter((g) => g.rows.length > 0);
  const onlyPage = pageIndex === 0 && !errors.data?.nextCursor;

  return (
    <Section title="Sync errors" id="sync-errors">
      <p>Objects the cloud refused from synchronization, with the fix. Fix the object in Active Directory (or the cloud object it collides with); the next cycle sends
        it again, and it leaves this list once the cloud accepts it.</p>
      <ErrorNotice error={errors.error} title="The sync errors could not be read" />
      {errors.loading ? <Progress label="Loading sync errors…" /> : null}
      {errors.data && (total > 0 || pageIndex > 0) ? (
        <div className="toolbar">
          <div className="field field-narrow">
            <label htmlFor={filterId}>Category</label>
            <select id={filterId} value={category} onChange={(e) => { paging.reset(); setCategory(e.target.value); }} aria-describedby={`${filterId}-hint`}>
              <option value="">{`All categories (${total})`}</option>
              {categories.map((c) => <option key={c.value} value={c.value}>{`${c.label} (${counts[c.value] ?? 0})`}</option>)}
            </select>
          </div>
          <p id={`${filterId}-hint`} className="hint">{`${total} object${total === 1 ? '' : 's'} with errors in all; ${onlyPage ? 'all are shown' : `${pageSize} are shown a page at a time`}.`}</p>
        </div>
      ) : null}
      {errors.data && items.length === 0 && pageIndex === 0 && !category ? <p>No sync errors: every object the agents sent was accepted.</p> : null}
      {errors.data && items.length === 0 && category ? <p>No object has errors of this category.</p> : null}
      {groups.map((g) => {
        const c = categories.find((x) => x.value === g.category);
        return (
          <div key={g.category} className="dirsync-group">
            <h3>{`${labelOf(g.category)} (${g.rows.length})`}</h3>
            {c ? <p className="hint">{c.fix}</p> : null}
            <DataTable
              caption={`Sync errors: ${labelOf(g.category)}`}
              columns={columns}
              rows={g.rows}
              rowKey={(e) => e.immutableId}
              busy={errors.loading}
              empty="None."
            />
          </div>
        );
      })}
      {errors.data && (pageIndex > 0 || errors.data.nextCursor) ? (
        <Pager
          page={pageIndex}
          shown={items.length}
          hasNext={Boolean(errors.data.nextCursor)}
          onPrevious={paging.previous}
          onNext={() => paging.next(errors.data?.nextCursor)}
        />
      ) : null}
    </Section>
  );
}
