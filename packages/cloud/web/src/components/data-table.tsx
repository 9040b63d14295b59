import type { ReactNode } from 'react';

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  /** the column a row is named by: a row header for screen readers */
  primary?: boolean;
  className?: string;
}

/**
 * A table with a caption (what it lists) and row headers. Below 640 px each
 * row becomes a card whose cells carry their column's name (data-label), so
 * nothing scrolls sideways on a phone.
 */
export function DataTable<T>({ caption, columns, rows, rowKey, empty, busy }: {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  empty: ReactNode;
  busy?: boolean;
}) {
  return (
    <div className="table-wrap">
      <table className="data-table" aria-busy={busy ? 'true' : undefined}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>{columns.map((c) => <th key={c.header} scope="col" className={c.className}>{c.header}</th>)}</tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr><td colSpan={columns.length} className="empty">{empty}</td></tr>
          ) : rows.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((c) => c.primary
                ? <th key={c.header} scope="row" data-label={c.header} className={c.className}>{c.cell(row)}</th>
                : <td key={c.header} data-label={c.header} className={c.className}>{c.cell(row)}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * Cursor paging: the API hands out the next page's cursor; the pager keeps the
 * cursors of the pages before, so "Previous" needs no offset arithmetic.
 */
export function Pager({ page, hasNext, onPrevious, onNext, shown }: { page: number; hasNext: boolean; onPrevious: () => void; onNext: () => void; shown: number }) {
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" className="button" onClick={onPrevious} disabled={page === 0}>Previous page</button>
      <span aria-live="polite">Page {page + 1}{shown ? ` · ${shown} shown` : ''}</span>
      <button type="button" className="button" onClick={onNext} disabled={!hasNext}>Next page</button>
    </nav>
  );
}
