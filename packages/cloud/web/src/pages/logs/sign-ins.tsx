import { useId, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, type Page } from '../../api/client.ts';
import { isApiError, useApi } from '../../api/use-api.ts';
import type { Column } from '../../components/data-table.tsx';
import { Badge, ErrorNotice, Notice } from '../../components/feedback.tsx';
import { PageHeader, Section } from '../../components/page.tsx';
import { useCursorStack } from '../../components/cursor-stack.ts';
import { dateToIso, logPageSize, LogResults, LogTime } from './log-parts.tsx';

/** GET /sign-ins items */
interface SignIn {
  id: string;
  createdDateTime: string;
  userId: string | null;
  userPrincipalName: string | null;
  appId: string | null;
  appDisplayName: string | null;
  method: string;
  result: 'success' | 'failure' | string;
  failureReason: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  agentId: string | null;
}

/** The methods the cloud records (packages/cloud/src/signin/sign-in-log.ts, SignInMethod). */
const methodNames: Record<string, string> = {
  cloud_password: 'Cloud password',
  password_hash_sync: 'Password hash sync',
  pass_through: 'Pass-through authentication',
  federated: 'Federated',
  single_sign_on: 'Single sign-on',
};

/** The failure codes the cloud records (packages/cloud/src/signin), said for an administrator. */
const failureReasons: Record<string, string> = {
  invalid_password: 'Wrong password',
  unknown_user: 'No user with this user name',
  account_disabled: 'The account is blocked',
  password_change_required: 'The password must be changed on-premises first',
  rate_limited: 'Too many attempts from this network',
  locked_out: 'Locked out for a while after too many failed sign-ins',
  method_unavailable: 'No password sign-in for this synced user yet (password hash sync or pass-through is off, or the password has not synchronized)',
  licence_required: 'The application needs a licence the user lacks',
  pta_no_agent: 'Pass-through: no agent is connected',
  pta_agents_failed: 'Pass-through: no agent answered',
  ad_account_locked: 'Active Directory: the account is locked',
  ad_password_expired: 'Active Directory: the password has expired',
  ad_must_change_password: 'Active Directory: the password must be changed',
  ad_account_disabled: 'Active Directory: the account is disabled',
  ad_account_expired: 'Active Directory: the account has expired',
  ad_refused: 'Active Directory refused the sign-in',
  federation_state_invalid: 'Federation: the answer came back too late or twice',
  federation_unknown_user: 'Federation: no user here matches the identity provider\'s user',
  federation_saml_invalid: 'Federation: the SAML answer was refused',
};

const signInMethodName = (code: string) => methodNames[code] ?? code;
function failureReasonText(code: string): string {
  const known = failureReasons[code];
  if (known) return known;
  if (code.startsWith('federation_')) return 'Federation: the identity provider\'s answer was refused';
  return code;
}

interface Filters { userId: string; clientId: string; result: string; since: string }
const filterNames = ['userId', 'clientId', 'result', 'since'] as const;

/**
 * The sign-in log: every sign-in to the organisation's applications, newest
 * first, a page at a time. The filters live in the page's address
 * (`?userId=` from a user's page, `?result=failure`, `?since=YYYY-MM-DD`).
 */
export function SignInsPage() {
  const [params, setParams] = useSearchParams();
  const filters: Filters = { userId: params.get('userId') ?? '', clientId: params.get('clientId') ?? '', result: params.get('result') ?? '', since: params.get('since') ?? '' };
  const key = filterNames.map((n) => `${n}=${filters[n]}`).join('&');
  const apply = (next: Filters) => {
    const out = new URLSearchParams();
    for (const n of filterNames) if (next[n]) out.set(n, next[n]);
    setParams(out);
  };
  const filtered = filterNames.some((n) => filters[n]);
  return (
    <>
      <PageHeader
        title="Sign-in logs"
        description="Every sign-in to your organisation's applications, newest first: who signed in, when, to which application, how, and why a sign-in failed."
      />
      {filters.userId ? <UserScope userId={filters.userId} onClear={() => apply({ ...filters, userId: '' })} /> : null}
      <Section title="Filter the sign-ins" id="sign-in-filters">
        <SignInFilters key={key} initial={filters} onApply={apply} onClear={filtered ? () => setParams(new URLSearchParams()) : null} />
      </Section>
      <SignInResults key={key} filters={filters} filtered={filtered} />
    </>
  );
}

/** The user the log is narrowed to (from `?userId=`), by name when the user still exists. */
function UserScope({ userId, onClear }: { userId: string; onClear: () => void }) {
  const user = useApi((signal) => api.get<{ id: string; displayName?: string | null; userPrincipalName?: string | null }>(`/users/${encodeURIComponent(userId)}`, undefined, signal), [userId]);
  const gone = isApiError(user.error, 'not_found');
  const name = user.data?.userPrincipalName ?? user.data?.displayName ?? userId;
  return (
    <>
      {gone ? null : <ErrorNotice error={user.error} title="The user could not be read: the sign-ins below are still theirs" />}
      <Notice title="One user's sign-ins">
        <p>
          Showing only the sign-ins of {gone || user.error ? <code>{userId}</code> : <Link to={`/users/${encodeURIComponent(userId)}`}>{name}</Link>}
          {gone ? ' (a user that no longer exists)' : ''}.{' '}
          <button type="button" className="button" onClick={onClear}>Show everyone's sign-ins</button>
        </p>
      </Notice>
    </>
  );
}

function SignInFilters({ initial, onApply, onClear }: { initial: Filters; onApply: (f: Filters) => void; onClear: (() => void) | null }) {
  const id = useId();
  const [result, setResult] = useState(initial.result);
  const [since, setSince] = useState(initial.since);
  const [clientId, setClientId] = useState(initial.clientId);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply({ userId: initial.userId, clientId: clientId.trim(), result, since });
  };
  return (
    <form className="toolbar log-filters" onSubmit={submit} aria-label="Sign-in filters">
      <div className="field field-narrow">
        <label htmlFor={`${id}-result`}>Result</label>
        <select id={`${id}-result`} value={result} onChange={(e) => setResult(e.target.value)}>
          <option value="">Any result</option>
          <option value="success">Succeeded</option>
          <option value="failure">Failed</option>
        </select>
      </div>
      <div className="field field-narrow">
        <label htmlFor={`${id}-since`}>Since</label>
        <input id={`${id}-since`} type="date" value={since} onChange={(e) => setSince(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-client`}>Application (client ID)</label>
        <input id={`${id}-client`} type="text" value={clientId} onChange={(e) => setClientId(e.target.value)} autoComplete="off" maxLength={200} />
      </div>
      <div className="page-actions">
        <button type="submit" className="button button-primary">Apply filters</button>
        {onClear ? <button type="button" className="button" onClick={onClear}>Clear filters</button> : null}
      </div>
    </form>
  );
}

function SignInResults({ filters, filtered }: { filters: Filters; filtered: boolean }) {
  const headingId = 'sign-in-results-heading';
  const paging = useCursorStack(headingId);
  const log = useApi(
    (signal) => api.get<Page<SignIn>>('/sign-ins', {
      userId: filters.userId, clientId: filters.clientId, result: filters.result, since: dateToIso(filters.since), limit: logPageSize, cursor: paging.cursor,
    }, signal),
    [paging.cursor],
  );
  const columns: Column<SignIn>[] = [
    { header: 'Time', primary: true, className: 'log-keep', cell: (s) => <LogTime iso={s.createdDateTime} /> },
    {
      header: 'User', className: 'log-keep',
      cell: (s) => (s.userId
        ? <Link to={`/users/${encodeURIComponent(s.userId)}`}>{s.userPrincipalName ?? s.userId}</Link>
        : s.userPrincipalName ? <>{s.userPrincipalName}<span className="log-secondary">Not a user here</span></> : 'Unknown'),
    },
    {
      header: 'Application', className: 'log-keep',
      cell: (s) => s.appDisplayName ?? (s.appId ? <code>{s.appId}</code> : '—'),
    },
    { header: 'Method', className: 'log-keep', cell: (s) => signInMethodName(s.method) },
    {
      header: 'Result',
      cell: (s) => (s.result === 'success'
        ? <Badge tone="good">Success</Badge>
        : (
          <>
            <Badge tone="bad">{s.result === 'failure' ? 'Failure' : s.result}</Badge>
            {s.failureReason ? <span className="log-secondary">{failureReasonText(s.failureReason)} (<code>{s.failureReason}</code>)</span> : null}
          </>
        )),
    },
    {
      header: 'IP address', className: 'log-keep',
      cell: (s) => (
        <>
          {s.ipAddress ?? '—'}
          {s.userAgent ? <span className="log-secondary"><span className="visually-hidden">Browser: </span>{s.userAgent}</span> : null}
        </>
      ),
    },
    { header: 'Agent', className: 'log-keep', cell: (s) => (s.agentId ? <code className="log-id">{s.agentId}</code> : '—') },
  ];
  return (
    <LogResults title="Sign-ins" id="sign-in-results" log={log} paging={paging} columns={columns} rowKey={(s) => s.id}
      errorTitle="The sign-in log could not be read: check the filters, or reload the page" progressLabel="Reading the sign-in log…"
      caption="Sign-ins, newest first" empty={filtered ? 'No sign-in matches these filters.' : 'No one has signed in yet.'} />
  );
}
