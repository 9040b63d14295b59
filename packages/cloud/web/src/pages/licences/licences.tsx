import { useEffect, useId, useState } from 'react';
import { Link } from 'react-router';
import { api, SignedOut, type Page } from '../../api/client.ts';
import { useApi } from '../../api/use-api.ts';
import { hasRole, useMe } from '../../app/me.tsx';
import { withAdvice } from '../../components/advice.ts';
import { DataTable, Pager } from '../../components/data-table.tsx';
import { Badge, ErrorNotice, Notice, Progress } from '../../components/feedback.tsx';
import { ModalDialog } from '../../components/modal-dialog.tsx';
import { useCursorStack } from '../../components/cursor-stack.ts';
import { PageHeader, Section } from '../../components/page.tsx';
import { AssignGroupLicence, AssignLicence, Choice } from './assign-licence.tsx';
import {
  assignmentProblem, licenceAdminNote, licenceAdminRoles, type Assignment, type DirectoryGroup, type DirectoryUser, type Subscription,
} from './licence-types.ts';

const holdersPageSize = 50;

/** The licence report: subscriptions and their seats, who holds each licence and how, and assigning licences to users and groups. */
export function LicencesPage() {
  const me = useMe();
  const canAssign = hasRole(me, ...licenceAdminRoles);
  const subscriptions = useApi((signal) => api.get<{ items: Subscription[] }>('/subscriptions', undefined, signal), []);
  const [selected, setSelected] = useState<string | null>(null);
  const [assigning, setAssigning] = useState<{ skuId?: string } | null>(null);
  const [refresh, setRefresh] = useState(0);
  const items = subscriptions.data?.items ?? [];
  const shown = items.find((s) => s.skuId === selected) ?? items[0] ?? null;
  const onAssigned = () => {
    subscriptions.reload();
    setRefresh((n) => n + 1);
  };

  return (
    <>
      <PageHeader
        title="Licences"
        description="Your organisation's subscriptions, their seats, who holds each licence (directly or through a group), and assigning licences. A user needs a usage location before a licence can be assigned."
        actions={canAssign && items.length ? (
          <button type="button" className="button button-primary" onClick={() => setAssigning({})}>Assign a licence</button>
        ) : null}
      />
      {canAssign ? null : <Notice title="Read-only"><p>You can see the licences. {licenceAdminNote}</p></Notice>}

      <Section title="Subscriptions">
        <ErrorNotice error={withAdvice(subscriptions.error, 'Reload the page to try again.')} title="The subscriptions could not be read" />
        {subscriptions.loading && !subscriptions.data ? <Progress label="Loading the subscriptions…" /> : null}
        {subscriptions.data ? (
          <DataTable
            caption="Subscriptions and their seats"
            busy={subscriptions.loading}
            columns={[
              {
                header: 'Product',
                primary: true,
                cell: (s) => (
                  <>
                    {s.displayName}
                    <span className="dl-note">SKU <code>{s.skuId}</code></span>
                  </>
                ),
              },
              { header: 'Total seats', className: 'num', cell: (s) => s.seats },
              {
                header: 'Assigned',
                className: 'num',
                cell: (s) => (
                  <>
                    {s.consumed}
                    <span className="dl-note">{s.assignedDirectly} directly, {s.assignedThroughGroups} through groups</span>
                  </>
                ),
              },
              {
                header: 'Available',
                className: 'num',
                cell: (s) => (
                  <>
                    {s.available}
                    {s.available === 0 ? <span className="dl-note"><Badge tone="warn">No free seat</Badge></span> : null}
                    {s.errors ? <span className="dl-note"><Badge tone="bad">{`${s.errors} waiting`}</Badge></span> : null}
                  </>
                ),
              },
              {
                header: 'Service plans',
                cell: (s) => (s.servicePlans.length ? <span className="dl-plans">{s.servicePlans.join(', ')}</span> : '—'),
              },
              {
                header: 'Actions',
                cell: (s) => (
                  <span className="dl-button-row">
                    <button type="button" className="button" aria-pressed={shown?.skuId === s.skuId} onClick={() => setSelected(s.skuId)}>
                      Holders<span className="visually-hidden"> of {s.displayName}</span>
                    </button>
                    {canAssign ? (
                      <button type="button" className="button" onClick={() => setAssigning({ skuId: s.skuId })}>
                        Assign<span className="visually-hidden"> {s.displayName}</span>
                      </button>
                    ) : null}
                  </span>
                ),
              },
            ]}
            rows={items}
            rowKey={(s) => s.skuId}
            empty="This organisation has no subscription yet: your Skybridge deployment's operator adds them."
          />
        ) : null}
      </Section>

      {shown ? <Holders key={shown.skuId} subscription={shown} refresh={refresh} /> : null}

      <ModalDialog open={assigning !== null} title="Assign a licence" className="dl-dialog-wide" onClose={() => setAssigning(null)}>
        <AssignTo initialSkuId={assigning?.skuId} onAssigned={onAssigned} onClose={() => setAssigning(null)} />
      </ModalDialog>
    </>
  );
}

/** Who holds one licence and how, and who is waiting for it through a group and why; a page at a time. */
function Holders({ subscription: s, refresh }: { subscription: Subscription; refresh: number }) {
  const paging = useCursorStack();
  const page = paging.page;
  const cursor = paging.cursor;
  const holders = useApi(async (signal) => {
    const answer = await api.get<{ skuId: string; items: Assignment[]; nextCursor: string | null }>(
      `/subscriptions/${encodeURIComponent(s.skuId)}/assignments`, { limit: holdersPageSize, cursor }, signal,
    );
    // the groups named on this page, by name (a group deleted meanwhile keeps its id)
    const groupIds = [...new Set(answer.items.flatMap((a) => [...a.viaGroups, ...a.errors.map((e) => e.groupId)]))];
    const names = new Map<string, string>();
    await Promise.all(groupIds.map(async (gid) => {
      try {
        const g = await api.get<DirectoryGroup>(`/groups/${encodeURIComponent(gid)}`, undefined, signal);
        if (g.displayName) names.set(gid, g.displayName);
      } catch (e) {
        if (e instanceof SignedOut) throw e;
      }
    }));
    return { ...answer, groupNames: names };
  }, [s.skuId, cursor, refresh]);
  const data = holders.data;
  const groupName = (gid: string) => data?.groupNames.get(gid) ?? `group ${gid}`;

  return (
    <Section title={`Holders of ${s.displayName}`} id="holders">
      <p>
        {s.consumed} of {s.seats} seats are taken: {s.assignedDirectly} assigned directly, {s.assignedThroughGroups} through groups (a user holding it both ways takes one seat).
      </p>
      {s.errors ? (
        <Notice kind="warning" title={`${s.errors} group assignment${s.errors === 1 ? '' : 's'} could not reach ${s.errors === 1 ? 'a user' : 'users'}`}>
          <p>The Problems column says why: set the user's usage location on their page, or free a seat; the licence then follows.</p>
        </Notice>
      ) : null}
      <ErrorNotice error={withAdvice(holders.error, 'Reload the page to try again.')} title="The holders could not be read" />
      {holders.loading ? <Progress label={`Loading the holders of ${s.displayName}…`} /> : null}
      {data ? (
        <>
          <DataTable
            caption={`Users holding or waiting for ${s.displayName}`}
            busy={holders.loading}
            columns={[
              { header: 'User', primary: true, cell: (a) => <Link to={`/users/${encodeURIComponent(a.userId)}`}>{a.userPrincipalName ?? a.userId}</Link> },
              {
                header: 'Assigned',
                cell: (a) => {
                  const ways = [a.assignedDirectly ? 'Directly' : null, ...a.viaGroups.map((g) => `Through ${groupName(g)}`)].filter(Boolean);
                  return ways.length ? ways.join('; ') : <Badge tone="warn">Not yet</Badge>;
                },
              },
              {
                header: 'Problems',
                cell: (a) => (a.errors.length
                  ? <ul className="dl-list">{a.errors.map((e) => <li key={e.groupId}>{`Through ${groupName(e.groupId)}: ${assignmentProblem(e.code, e.message)}`}</li>)}</ul>
                  : '—'),
              },
            ]}
            rows={data.items}
            rowKey={(a) => a.userId}
            empty={page === 0 ? `Nobody holds ${s.displayName} yet.` : 'No more holders.'}
          />
          {page > 0 || data.nextCursor ? (
            <Pager
              page={page}
              hasNext={Boolean(data.nextCursor)}
              shown={data.items.length}
              onPrevious={paging.previous}
              onNext={() => paging.next(data.nextCursor)}
            />
          ) : null}
        </>
      ) : null}
    </Section>
  );
}

type Kind = 'user' | 'group';
type Picked = { kind: 'user'; user: DirectoryUser } | { kind: 'group'; group: DirectoryGroup };

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/** The assign dialog's body: find a user or a group (prefix search), pick one, choose the licence. */
function AssignTo({ initialSkuId, onAssigned, onClose }: { initialSkuId: string | undefined; onAssigned: () => void; onClose: () => void }) {
  const id = useId();
  const [kind, setKind] = useState<Kind>('user');
  const [query, setQuery] = useState('');
  const search = useDebounced(query.trim(), 300);
  const [picked, setPicked] = useState<Picked | null>(null);
  const results = useApi(async (signal) => {
    const answer = await api.get<Page<DirectoryUser & DirectoryGroup>>(kind === 'user' ? '/users' : '/groups', { search, orderBy: 'displayName', limit: 10 }, signal);
    return { kind, search, ...answer };
  }, [kind, search]);
  const data = results.data && results.data.kind === kind ? results.data : null;
  const pickedId = picked?.kind === 'user' ? picked.user.id : picked?.group.id;
  const choose = (k: Kind) => {
    setKind(k);
    setQuery('');
    setPicked(null);
  };
  const nameOf = (o: { displayName?: string; userPrincipalName?: string; mail?: string; id: string }) => o.displayName || o.userPrincipalName || o.mail || o.id;

  return (
    <div>
      <p>Find the user or the group, choose it, then choose the licence.</p>
      <fieldset>
        <legend>Assign to</legend>
        <Choice name={`${id}-kind`} value="user" checked={kind === 'user'} onChange={() => choose('user')} label="A user" autoFocus={kind === 'user'} />
        <Choice name={`${id}-kind`} value="group" checked={kind === 'group'} onChange={() => choose('group')} label="A group" autoFocus={kind === 'group'} />
      </fieldset>
      <label htmlFor={`${id}-search`}>{kind === 'user' ? 'Find a user' : 'Find a group'}</label>
      <input
        id={`${id}-search`}
        type="search"
        autoComplete="off"
        spellCheck={false}
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        aria-describedby={`${id}-search-hint`}
      />
      <p id={`${id}-search-hint`} className="hint">
        {kind === 'user' ? 'Type the start of a name, user name or email address.' : 'Type the start of the group\'s name or email address.'} The first 10 matches by name are listed.
      </p>
      <ErrorNotice error={withAdvice(results.error, 'Change the search, or close the dialog and reload the page.')} title="The search failed" />
      {results.loading ? <Progress label={search ? `Searching for “${search}”…` : 'Loading…'} /> : null}
      {data ? (
        data.items.length ? (
          <fieldset aria-busy={results.loading || undefined}>
            <legend>{kind === 'user' ? 'Matching users' : 'Matching groups'}</legend>
            {data.items.map((o) => (
              <Choice
                key={o.id}
                name={`${id}-pick`}
                value={o.id}
                checked={pickedId === o.id}
                onChange={() => setPicked(kind === 'user' ? { kind: 'user', user: o } : { kind: 'group', group: o })}
                label={nameOf(o)}
                detail={kind === 'user'
                  ? [o.userPrincipalName, o.usageLocation ? `usage location ${o.usageLocation}` : 'no usage location yet', o.accountEnabled === false ? 'sign-in blocked' : null].filter(Boolean).join(' · ')
                  : [o.mail, o.description, o.onPremisesSyncEnabled ? 'synchronized from on-premises' : 'cloud group'].filter(Boolean).join(' · ')}
              />
            ))}
            {data.nextCursor ? <p className="hint">More {kind}s match: type more of the name to narrow the list.</p> : null}
          </fieldset>
        ) : (
          <p>{data.search ? `No ${kind} has a name${kind === 'user' ? ', user name' : ''} or email address starting with “${data.search}”. Check the spelling, or type less.` : `This organisation has no ${kind} yet.`}</p>
        )
      ) : null}
      {picked?.kind === 'user' ? (
        <AssignLicence
          key={picked.user.id}
          user={{ id: picked.user.id, displayName: nameOf(picked.user), userPrincipalName: picked.user.userPrincipalName ?? '', usageLocation: picked.user.usageLocation }}
          onAssigned={onAssigned}
          initialSkuId={initialSkuId}
          heading={`Licence for ${nameOf(picked.user)}`}
        />
      ) : null}
      {picked?.kind === 'group' ? (
        <AssignGroupLicence key={picked.group.id} group={{ id: picked.group.id, displayName: nameOf(picked.group) }} onAssigned={onAssigned} initialSkuId={initialSkuId} />
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>Close</button>
      </div>
    </div>
  );
}
