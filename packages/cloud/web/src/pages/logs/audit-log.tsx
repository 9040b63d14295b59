import { useId, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, type Page } from '../../api/client.ts';
import { useApi } from '../../api/use-api.ts';
import type { Column } from '../../components/data-table.tsx';
import { Badge } from '../../components/feedback.tsx';
import { PageHeader, Section } from '../../components/page.tsx';
import { useCursorStack } from '../../components/cursor-stack.ts';
import { dateToIso, logPageSize, LogResults, LogTime } from './log-parts.tsx';

/** GET /audit-logs items */
interface AuditEntry {
  id: string;
  activityDateTime: string;
  action: string;
  initiatedBy: { type: string; id: string; displayName: string | null };
  target: { type: string; id: string | null; displayName: string | null };
  before: unknown;
  after: unknown;
}

/**
 * The actions the audit log records (packages/cloud/src/audit/audit-log.ts,
 * auditActions), each said for an administrator. The filter takes any text:
 * the server says when an action is not one it knows.
 */
const actionNames: Record<string, string> = {
  'tenant.update': 'Organisation settings changed',
  'user.create': 'User created',
  'user.update': 'User changed',
  'user.delete': 'User deleted',
  'group.create': 'Group created',
  'group.update': 'Group changed',
  'group.delete': 'Group deleted',
  'group.members.update': 'Group members changed',
  'contact.create': 'Contact created',
  'contact.update': 'Contact changed',
  'contact.delete': 'Contact deleted',
  'agent.registrationToken.create': 'Agent registration token created',
  'agent.remove': 'Agent removed',
  'sync.allowDeletes': 'Synchronization allowed to delete past the threshold',
  'domain.add': 'Domain added',
  'domain.verify': 'Domain verified',
  'domain.update': 'Domain changed',
  'domain.remove': 'Domain removed',
  'licence.assign': 'Licence assigned',
  'licence.remove': 'Licence removed',
  'groupLicence.assign': 'Group licence assigned',
  'groupLicence.remove': 'Group licence removed',
  'subscription.set': 'Subscription set',
  'role.assign': 'Role assigned',
  'role.remove': 'Role removed',
  'application.create': 'Application registered',
  'application.update': 'Application changed',
  'application.delete': 'Application deleted',
  'signingKeys.rotate': 'Signing keys rotated',
};
const actionName = (code: string) => actionNames[code] ?? code;

const actorTypes: Record<string, string> = { user: 'User', client: 'API client', agent: 'Agent', operator: 'Deployment operator' };

/** Where a target lives in the admin center, while it still exists. */
function targetLink(e: AuditEntry): string | null {
  const { type, id } = e.target;
  if (!id) return null;
  if (type === 'user' && e.action !== 'user.delete') return `/users/${encodeURIComponent(id)}`;
  if (type === 'domain' && e.action !== 'domain.remove') return `/domains/${encodeURIComponent(id)}`;
  if (type === 'role') return `/roles?role=${encodeURIComponent(id)}`;
  return null;
}

const asJson = (v: unknown) => JSON.stringify(v, null, 2);

interface Filters { action: string; targetId: string; actorId: string; since: string; until: string }
const filterNames = ['action', 'targetId', 'actorId', 'since', 'until'] as const;

/**
 * The audit log: who changed what, when, with the state before and after,
 * newest first, a page at a time. The filters live in the page's address
 * (`?action=role.assign`, `?targetId=`, `?actorId=`, `?since=` and
 * `?until=` as YYYY-MM-DD, both days included).
 */
export function AuditLogPage() {
  const [params, setParams] = useSearchParams();
  const filters: Filters = {
    action: params.get('action') ?? '', targetId: params.get('targetId') ?? '', actorId: params.get('actorId') ?? '',
    since: params.get('since') ?? '', until: params.get('until') ?? '',
  };
  const key = filterNames.map((n) => `${n}=${filters[n]}`).join('&');
  const filtered = filterNames.some((n) => filters[n]);
  const linkWith = (change: Partial<Filters>) => {
    const out = new URLSearchParams();
    const next = { ...filters, ...change };
    for (const n of filterNames) if (next[n]) out.set(n, next[n]);
    const q = out.toString();
    return q ? `?${q}` : '?';
  };
  const apply = (next: Filters) => {
    const out = new URLSearchParams();
    for (const n of filterNames) if (next[n]) out.set(n, next[n]);
    setParams(out);
  };
  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change administrators, API clients and agents made to your organisation, newest first: who did it, when, to what, and the state before and after."
      />
      <Section title="Filter the audit log" id="audit-filters">
        <AuditFilters key={key} initial={filters} onApply={apply} onClear={filtered ? () => setParams(new URLSearchParams()) : null} />
      </Section>
      <AuditResults key={key} filters={filters} filtered={filtered} linkWith={linkWith} />
    </>
  );
}

function AuditFilters({ initial, onApply, onClear }: { initial: Filters; onApply: (f: Filters) => void; onClear: (() => void) | null }) {
  const id = useId();
  const [f, setF] = useState(initial);
  const set = (name: keyof Filters) => (e: { target: { value: string } }) => setF((old) => ({ ...old, [name]: e.target.value }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply({ action: f.action.trim(), targetId: f.targetId.trim(), actorId: f.actorId.trim(), since: f.since, until: f.until });
  };
  return (
    <form className="toolbar log-filters" onSubmit={submit} aria-label="Audit log filters">
      <div className="field">
        <label htmlFor={`${id}-action`}>Action</label>
        <input id={`${id}-action`} type="text" list={`${id}-actions`} value={f.action} onChange={set('action')}
          autoComplete="off" aria-describedby={`${id}-action-hint`} />
        <datalist id={`${id}-actions`}>
          {Object.entries(actionNames).map(([code, name]) => <option key={code} value={code}>{name}</option>)}
        </datalist>
      </div>
      <div className="field field-narrow">
        <label htmlFor={`${id}-since`}>From</label>
        <input id={`${id}-since`} type="date" value={f.since} onChange={set('since')} />
      </div>
      <div className="field field-narrow">
        <label htmlFor={`${id}-until`}>To (included)</label>
        <input id={`${id}-until`} type="date" value={f.until} onChange={set('until')} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-target`}>Target ID</label>
        <input id={`${id}-target`} type="text" value={f.targetId} onChange={set('targetId')} autoComplete="off" maxLength={200} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-actor`}>Actor ID</label>
        <input id={`${id}-actor`} type="text" value={f.actorId} onChange={set('actorId')} autoComplete="off" maxLength={200} />
      </div>
      <div className="page-actions">
        <button type="submit" className="button button-primary">Apply filters</button>
        {onClear ? <button type="button" className="button" onClick={onClear}>Clear filters</button> : null}
      </div>
      <p className="hint log-filters-hint" id={`${id}-action-hint`}>
        Action: a code such as <code>role.assign</code> (the field offers the known ones). Dates are in your time zone; Target ID and Actor ID
        take the ID a change shows (its Details have links that fill them in).
      </p>
    </form>
  );
}

function AuditResults({ filters, filtered, linkWith }: { filters: Filters; filtered: boolean; linkWith: (change: Partial<Filters>) => string }) {
  const headingId = 'audit-results-heading';
  const paging = useCursorStack(headingId);
  const log = useApi(
    (signal) => api.get<Page<AuditEntry>>('/audit-logs', {
      action: filters.action, targetId: filters.targetId, actorId: filters.actorId,
      since: dateToIso(filters.since), until: dateToIso(filters.until, true), limit: logPageSize, cursor: paging.cursor,
    }, signal),
    [paging.cursor],
  );
  const columns: Column<AuditEntry>[] = [
    { header: 'Time', primary: true, className: 'log-keep', cell: (e) => <LogTime iso={e.activityDateTime} /> },
    {
      header: 'Actor', className: 'log-keep',
      cell: (e) => (
        <>
          {e.initiatedBy.type === 'user'
            ? <Link to={`/users/${encodeURIComponent(e.initiatedBy.id)}`}>{e.initiatedBy.displayName ?? e.initiatedBy.id}</Link>
            : e.initiatedBy.displayName ?? e.initiatedBy.id}
          <span className="log-secondary"><Badge>{actorTypes[e.initiatedBy.type] ?? e.initiatedBy.type}</Badge></span>
        </>
      ),
    },
    {
      header: 'Action', className: 'log-keep',
      cell: (e) => <>{actionName(e.action)}<span className="log-secondary"><code>{e.action}</code></span></>,
    },
    {
      header: 'Target', className: 'log-keep',
      cell: (e) => {
        const name = e.target.displayName ?? e.target.id;
        const to = targetLink(e);
        return (
          <>
            {name ? (to ? <Link to={to}>{name}</Link> : name) : '—'}
            <span className="log-secondary">{e.target.type}</span>
          </>
        );
      },
    },
    {
      header: 'Details', className: 'log-details-cell',
      cell: (e) => (
        <details className="log-details">
          <summary>Details<span className="visually-hidden"> of {actionName(e.action)}, {new Date(e.activityDateTime).toLocaleString()}</span></summary>
          {e.before === null || e.before === undefined ? null : (
            <>
              <p className="log-json-label">Before</p>
              <pre className="log-json"><code>{asJson(e.before)}</code></pre>
            </>
          )}
          {e.after === null || e.after === undefined ? null : (
            <>
              <p className="log-json-label">After</p>
              <pre className="log-json"><code>{asJson(e.after)}</code></pre>
            </>
          )}
          {(e.before === null || e.before === undefined) && (e.after === null || e.after === undefined) ? <p>No state was recorded for this action.</p> : null}
          <p className="log-links">
            <Link to={linkWith({ actorId: e.initiatedBy.id })}>Only this actor's changes</Link>
            {e.target.id ? <Link to={linkWith({ targetId: e.target.id })}>Only changes to this target</Link> : null}
          </p>
        </details>
      ),
    },
  ];
  return (
    <LogResults title="Changes" id="audit-results" log={log} paging={paging} columns={columns} rowKey={(e) => e.id}
      errorTitle="The audit log could not be read: check the filters (an action from the list, dates), or reload the page" progressLabel="Reading the audit log…"
      caption="Audit log entries, newest first" empty={filtered ? 'No change matches these filters.' : 'No change has been recorded yet.'} />
  );
}
