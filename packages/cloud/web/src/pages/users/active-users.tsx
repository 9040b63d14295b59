import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, type Page } from '../../api/client.ts';
import { useApi } from '../../api/use-api.ts';
import { DataTable, Pager, type Column } from '../../components/data-table.tsx';
import { Badge, ErrorNotice, Progress } from '../../components/feedback.tsx';
import { formatAgo } from '../../components/format.ts';
import { Menu } from '../../components/menu.tsx';
import { useCursorStack } from '../../components/cursor-stack.ts';
import { PageHeader } from '../../components/page.tsx';
import { SourceBadge } from './source-badge.tsx';
import { userFilters, type User } from './user-types.ts';

const pageSize = 50;

/**
 * Users › Active users: the tenant's users by display name, a page of 50 at a
 * time, searched by the start of a name, username or address, filtered by
 * source, licence or sign-in state. The search and filter live in the page's
 * address, so Back and a reload keep them; nothing loads the whole directory.
 */
export function ActiveUsersPage() {
  const [params, setParams] = useSearchParams();
  const search = params.get('search') ?? '';
  const filter = params.get('filter') ?? '';
  const [typed, setTyped] = useState(search);
  const paging = useCursorStack();
  const pageIndex = paging.page;

  // a new search or filter starts again at the first page
  // eslint-disable-next-line react-hooks/exhaustive-deps
  useEffect(() => paging.reset(), [search, filter]);
  useEffect(() => setTyped(search), [search]);
  // search as the admin types, once they pause
  useEffect(() => {
    if (typed.trim() === search) return;
    const t = setTimeout(() => {
      const next = new URLSearchParams(params);
      if (typed.trim()) next.set('search', typed.trim()); else next.delete('search');
      setParams(next, { replace: true });
    }, 300);
    return () => clearTimeout(t);
  }, [typed, search, params, setParams]);

  const cursor = paging.cursor;
  const users = useApi(
    (signal) => api.get<Page<User>>('/users', { orderBy: 'displayName', limit: pageSize, search, filter, cursor }, signal),
    [search, filter, cursor],
  );

  const columns: Column<User>[] = [
    { header: 'Display name', primary: true, cell: (u) => <Link to={`/users/${u.id}`}>{u.displayName || u.userPrincipalName || u.id}</Link> },
    { header: 'Username', cell: (u) => u.userPrincipalName ?? '—' },
    { header: 'Source', cell: (u) => <SourceBadge synced={u.onPremisesSyncEnabled} /> },
    { header: 'Sign-in', cell: (u) => (u.accountEnabled ? <Badge tone="good">Allowed</Badge> : <Badge tone="bad">Blocked</Badge>) },
    { header: 'Last sync', cell: (u) => (u.onPremisesSyncEnabled ? formatAgo(u.onPremisesLastSyncDateTime) : 'Not synced') },
  ];
  const rows = users.data?.items ?? [];
  const filterLabel = userFilters.find((f) => f.value === filter)?.label ?? 'All users';

  return (
    <>
      <PageHeader
        title="Active users"
        description="Everyone who can sign in to your organisation. Users synced from on-premises Active Directory are managed there; cloud-only users are managed here."
        actions={<Menu label="More" items={[{ label: 'Directory synchronization', to: '/dirsync' }, { label: 'Sign-in logs', to: '/sign-ins' }, { label: 'Roles', to: '/roles' }]} />}
      />
      <form className="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="user-search">Search users</label>
          <input id="user-search" type="search" value={typed} onChange={(e) => setTyped(e.target.value)} aria-describedby="user-search-hint" autoComplete="off" />
          <p id="user-search-hint" className="hint">The start of a display name, username or email address.</p>
        </div>
        <div className="field field-narrow">
          <label htmlFor="user-filter">Show</label>
          <select id="user-filter" value={filter} onChange={(e) => {
            const next = new URLSearchParams(params);
            if (e.target.value) next.set('filter', e.target.value); else next.delete('filter');
            setParams(next, { replace: true });
          }}>
            {userFilters.map((f) => <option key={f.value} value={f.value}>{f.label}</option>)}
          </select>
        </div>
      </form>
      <ErrorNotice error={users.error} title="The users could not be listed" />
      {users.loading ? <Progress label="Loading users…" /> : null}
      <DataTable
        caption={`${filterLabel}${search ? ` whose name, username or address starts with "${search}"` : ''}, page ${pageIndex + 1}`}
        columns={columns}
        rows={rows}
        rowKey={(u) => u.id}
        busy={users.loading}
        empty={users.loading ? 'Loading…' : search || filter ? 'No user matches this search and filter.' : 'There are no users yet: synchronize your directory or add users.'}
      />
      <Pager
        page={pageIndex}
        shown={rows.length}
        hasNext={Boolean(users.data?.nextCursor)}
        onPrevious={paging.previous}
        onNext={() => paging.next(users.data?.nextCursor)}
      />
    </>
  );
}
