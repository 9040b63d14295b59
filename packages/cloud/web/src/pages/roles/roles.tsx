import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { ConfirmDialog } from '../../components/confirm-dialog.tsx';
import { Link, useSearchParams } from 'react-router';
import { api, type Page } from '../../api/client.ts';
import { useAction, useApi } from '../../api/use-api.ts';
import { hasRole, useMe } from '../../app/me.tsx';
import { DataTable, type Column } from '../../components/data-table.tsx';
import { Badge, ErrorNotice, Notice, Progress } from '../../components/feedback.tsx';
import { formatDateTime } from '../../components/format.ts';
import { PageHeader, Section } from '../../components/page.tsx';

/** GET /roles */
interface RoleInfo { id: string; displayName: string; description: string; memberCount: number }
/** GET /roles/:role/members (and the answer of POST) */
interface Member { principalType: 'user' | 'client'; principalId: string; displayName: string | null; assignedDateTime: string }
interface Members { role: string; items: Member[] }
/** GET /users (only the fields this page shows) */
interface UserHit { id: string; displayName?: string | null; userPrincipalName?: string | null; mail?: string | null; accountEnabled?: boolean; onPremisesSyncEnabled?: boolean }

const defaultRole = 'GlobalAdministrator';
const membersHeadingId = 'role-members-heading';

const memberKey = (m: Member) => `${m.principalType}/${m.principalId}`;
const memberName = (m: Member) => m.displayName ?? m.principalId;

/** Moves focus to a heading that is not focusable by itself (after the element that had focus went away). */
function focusHeading(id: string) {
  const heading = document.getElementById(id);
  if (!heading) return;
  heading.setAttribute('tabindex', '-1');
  heading.focus();
}

/**
 * Roles: the admin roles, who holds each, and (for a Global Administrator)
 * giving a role to a user or taking it away. The server decides what is
 * allowed (the last Global Administrator stays); the page shows its answer.
 */
export function RolesPage() {
  const me = useMe();
  const canChange = hasRole(me, 'GlobalAdministrator');
  const [params] = useSearchParams();
  const selected = params.get('role') ?? defaultRole;
  const roles = useApi((signal) => api.get<{ items: RoleInfo[] }>('/roles', undefined, signal), []);
  // choosing a role takes the admin to its members (on a phone they are far below the list)
  const jump = useRef(false);
  useEffect(() => {
    if (!jump.current) return;
    jump.current = false;
    focusHeading(membersHeadingId);
  }, [selected]);
  const role = roles.data?.items.find((r) => r.id === selected);
  const roleName = role?.displayName ?? selected;

  const columns: Column<RoleInfo>[] = [
    {
      header: 'Role', primary: true,
      cell: (r) => (
        <>
          <Link to={`?role=${encodeURIComponent(r.id)}`} className="role-link" aria-current={r.id === selected ? 'true' : undefined}
            onClick={() => { if (r.id === selected) focusHeading(membersHeadingId); else jump.current = true; }}>
            {r.displayName}
          </Link>
          {r.id === selected ? <> <Badge tone="info">Shown below</Badge></> : null}
        </>
      ),
    },
    { header: 'What it allows', cell: (r) => r.description },
    { header: 'Members', className: 'num', cell: (r) => r.memberCount },
  ];

  return (
    <>
      <PageHeader
        title="Roles"
        description="Admin roles decide what each administrator may do in this admin center and the admin API. Choose a role to see who holds it."
      />
      {canChange ? null : (
        <Notice title="You can look, not change">
          <p>Only a Global Administrator gives or takes roles. You can see who holds each role; to change one, ask a Global Administrator.</p>
        </Notice>
      )}
      <Section title="Admin roles" id="admin-roles">
        <ErrorNotice error={roles.error} title="The roles could not be read: reload the page to try again" />
        {roles.loading && !roles.data ? <Progress label="Reading the roles…" /> : null}
        {roles.data ? (
          <DataTable caption="Admin roles" columns={columns} rows={roles.data.items} rowKey={(r) => r.id} empty="There are no roles." busy={roles.loading} />
        ) : null}
      </Section>
      <RoleMembers key={selected} roleId={selected} roleName={roleName} canChange={canChange} onChanged={roles.reload} />
    </>
  );
}

function RoleMembers({ roleId, roleName, canChange, onChanged }: { roleId: string; roleName: string; canChange: boolean; onChanged: () => void }) {
  const members = useApi((signal) => api.get<Members>(`/roles/${encodeURIComponent(roleId)}/members`, undefined, signal), [roleId]);
  const [done, setDone] = useState<string | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);
  const removed = useRef(false);
  const remove = useAction(async (m: Member) => {
    await api.send('DELETE', `/roles/${encodeURIComponent(roleId)}/members/${m.principalType}/${encodeURIComponent(m.principalId)}`);
    return true;
  });

  const changed = (message: string) => {
    setDone(message);
    members.reload();
    onChanged();
  };
  const askRemove = (m: Member) => {
    removed.current = false;
    setDone(null);
    setRemoving(m);
  };
  const confirmRemove = async () => {
    if (!removing || !(await remove.run(removing))) return;
    removed.current = true;
    changed(`${memberName(removing)} no longer holds ${roleName}.`);
    setRemoving(null);
  };

  const columns: Column<Member>[] = [
    {
      header: 'Member', primary: true,
      cell: (m) => m.principalType === 'user'
        ? <Link to={`/users/${encodeURIComponent(m.principalId)}`}>{memberName(m)}</Link>
        : (
          <>
            {memberName(m)}
            {m.displayName ? <span className="log-secondary">Client ID <code>{m.principalId}</code></span> : null}
          </>
        ),
    },
    { header: 'Type', cell: (m) => (m.principalType === 'user' ? <Badge tone="info">User</Badge> : <Badge>API client</Badge>) },
    { header: 'Assigned', cell: (m) => <time dateTime={m.assignedDateTime}>{formatDateTime(m.assignedDateTime)}</time> },
  ];
  if (canChange) {
    columns.push({
      header: 'Actions',
      cell: (m) => (
        <button type="button" className="button" aria-label={`Remove ${memberName(m)} from ${roleName}`} onClick={() => askRemove(m)}>
          Remove
        </button>
      ),
    });
  }

  const items = members.data?.items ?? [];
  return (
    <>
      <Section title={`Members of ${roleName}`} id="role-members">
        {done ? <Notice kind="success"><p>{done}</p></Notice> : null}
        <ErrorNotice error={members.error} title={`The members of ${roleName} could not be read: choose a role in the list above, or reload the page`} />
        {members.loading ? <Progress label={`Reading the members of ${roleName}…`} /> : null}
        {members.data ? (
          <DataTable caption={`Members of ${roleName}`} columns={columns} rows={items} rowKey={memberKey}
            empty={`No one holds ${roleName}.`} busy={members.loading} />
        ) : null}
        {canChange && !members.error ? (
          <AssignUser roleId={roleId} roleName={roleName} members={items} onAssigned={(who) => changed(`${who} now holds ${roleName}.`)} />
        ) : null}
      </Section>
      <ConfirmDialog
        open={removing !== null}
        title={removing ? `Remove ${memberName(removing)} from ${roleName}?` : ''}
        confirmLabel="Remove"
        progressLabel={removing ? `Removing ${memberName(removing)} from ${roleName}…` : ''}
        errorTitle="The role was not removed"
        running={remove.running}
        error={remove.error}
        onConfirm={() => void confirmRemove()}
        onCancel={() => setRemoving(null)}
        // the row (and its Remove button) goes away once removed: focus the list's heading instead
        focusOnClose={() => {
          if (!removed.current) return false;
          focusHeading(membersHeadingId);
          return true;
        }}
      >
        {removing ? (
          <p>
            {removing.principalType === 'user' ? 'The user' : 'The API client'} <strong>{memberName(removing)}</strong> will no longer hold {roleName} and loses
            what it allows. A Global Administrator can give the role back at any time.
          </p>
        ) : null}
      </ConfirmDialog>
    </>
  );
}

function AssignUser({ roleId, roleName, members, onAssigned }: { roleId: string; roleName: string; members: Member[]; onAssigned: (who: string) => void }) {
  const id = useId();
  const [text, setText] = useState('');
  const [query, setQuery] = useState<string | null>(null);
  const found = useApi(
    (signal) => (query === null
      ? Promise.resolve(null)
      : api.get<Page<UserHit>>('/users', { search: query, orderBy: 'displayName', limit: 10 }, signal)),
    [query],
  );
  const [assigning, setAssigning] = useState<string | null>(null);
  const assign = useAction(async (user: UserHit) => {
    await api.send('POST', `/roles/${encodeURIComponent(roleId)}/members`, { principalType: 'user', principalId: user.id });
    return true;
  });
  const search = (e: FormEvent) => {
    e.preventDefault();
    setQuery(text.trim());
  };
  const give = async (user: UserHit) => {
    setAssigning(user.userPrincipalName ?? user.displayName ?? user.id);
    if (await assign.run(user)) onAssigned(user.userPrincipalName ?? user.displayName ?? user.id);
  };
  const holders = new Set(members.filter((m) => m.principalType === 'user').map((m) => m.principalId.toLowerCase()));
  const hits = found.data?.items ?? [];

  return (
    <div className="role-assign">
      <h3 id={`${id}-heading`}>Give {roleName} to a user</h3>
      <form className="toolbar" role="search" aria-labelledby={`${id}-heading`} onSubmit={search}>
        <div className="field">
          <label htmlFor={`${id}-search`}>Find a user</label>
          <input id={`${id}-search`} type="search" value={text} onChange={(e) => setText(e.target.value)}
            aria-describedby={`${id}-hint`} autoComplete="off" maxLength={256} />
        </div>
        <button type="submit" className="button">Search users</button>
      </form>
      <p className="hint" id={`${id}-hint`}>Type the start of a name, user name or email address, then search.</p>
      <ErrorNotice error={found.error} title="The users could not be searched: change the search and try again" />
      <ErrorNotice error={assign.error} title={`${assigning ?? 'The user'} did not get ${roleName}`} />
      {found.loading && query !== null ? <Progress label="Searching users…" /> : null}
      {assign.running ? <Progress label={`Giving ${roleName} to ${assigning ?? 'the user'}…`} /> : null}
      {found.data ? (
        hits.length === 0 ? (
          <p role="status">No user matches “{query}”. Check the spelling, or search with fewer letters.</p>
        ) : (
          <>
            <p role="status" className="hint">
              {hits.length} user{hits.length === 1 ? '' : 's'} found{found.data.nextCursor ? ', the first 10 by name: type more of the name to narrow the search' : ''}.
            </p>
            <ul className="role-results" aria-label="Users found">
              {hits.map((u) => {
                const name = u.userPrincipalName ?? u.displayName ?? u.id;
                const holds = holders.has(u.id.toLowerCase());
                return (
                  <li key={u.id}>
                    <span className="role-result-name">
                      <strong>{u.displayName ?? name}</strong>
                      {u.userPrincipalName && u.userPrincipalName !== u.displayName ? <span className="log-secondary">{u.userPrincipalName}</span> : null}
                    </span>
                    <span className="role-result-badges">
                      {u.onPremisesSyncEnabled ? <Badge tone="info">Synced</Badge> : <Badge>Cloud</Badge>}
                      {u.accountEnabled === false ? <Badge tone="bad">Blocked</Badge> : null}
                      {holds ? <Badge tone="good">Holds {roleName}</Badge> : null}
                    </span>
                    <button type="button" className="button button-primary" aria-label={`Assign ${roleName} to ${name}`}
                      onClick={() => give(u)} disabled={assign.running}>
                      Assign
                    </button>
                  </li>
                );
              })}
            </ul>
          </>
        )
      ) : null}
    </div>
  );
}
