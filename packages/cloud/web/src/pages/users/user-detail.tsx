import { Link, useParams } from 'react-router';
import { api, type Page } from '../../api/client.ts';
import { useAction, useApi } from '../../api/use-api.ts';
import { DataTable } from '../../components/data-table.tsx';
import { Badge, ErrorNotice, Notice, Progress } from '../../components/feedback.tsx';
import { formatAgo, formatDateTime } from '../../components/format.ts';
import { Facts, PageHeader, Section } from '../../components/page.tsx';
import { hasRole, useMe } from '../../app/me.tsx';
import { AssignLicence } from '../licences/assign-licence.tsx';
import { SourceBadge } from './source-badge.tsx';
import type { User } from './user-types.ts';

interface UserLicences {
  usageLocation: string | null;
  licences: { skuId: string; displayName: string; servicePlans: string[]; assignedDirectly: boolean; viaGroups: string[] }[];
  errors: { skuId: string; groupId: string; code: string; message: string; since: string }[];
}
interface SignIn { id: string; createdDateTime: string; appDisplayName: string | null; appId: string | null; method: string; result: string; failureReason: string | null; ipAddress: string | null }

/**
 * One user: who they are, where they are managed (a synced user's directory
 * attributes are read-only here, and the page says why), their sync details,
 * licences, roles and recent sign-ins.
 */
export function UserDetailPage() {
  const { id = '' } = useParams();
  const me = useMe();
  const user = useApi((signal) => api.get<User>(`/users/${encodeURIComponent(id)}`, undefined, signal), [id]);
  const licences = useApi((signal) => api.get<UserLicences>(`/users/${encodeURIComponent(id)}/licenses`, undefined, signal), [id]);
  const roles = useApi((signal) => api.get<{ items: { id: string; displayName: string; assignedDateTime: string }[] }>(`/users/${encodeURIComponent(id)}/roles`, undefined, signal), [id]);
  const signIns = useApi((signal) => api.get<Page<SignIn>>('/sign-ins', { userId: id, limit: 5 }, signal), [id]);
  const remove = useAction(async (skuId: string) => {
    await api.send('DELETE', `/users/${encodeURIComponent(id)}/licenses/${encodeURIComponent(skuId)}`);
    licences.reload();
  });
  const canLicense = hasRole(me, 'GlobalAdministrator', 'UserAdministrator', 'LicenseAdministrator');

  const breadcrumb = <><Link to="/users">Active users</Link> <span aria-hidden="true">›</span> <span aria-current="page">{user.data?.displayName ?? 'User'}</span></>;
  if (user.error) {
    return (
      <>
        <PageHeader title="User" breadcrumb={breadcrumb} />
        <ErrorNotice error={user.error} title="This user could not be read" />
        <p><Link to="/users">Back to Active users</Link></p>
      </>
    );
  }
  const u = user.data;
  if (!u) return <><PageHeader title="User" breadcrumb={breadcrumb} /><Progress label="Loading the user…" /></>;
  const synced = u.onPremisesSyncEnabled;
  return (
    <>
      <PageHeader title={u.displayName || u.userPrincipalName || 'User'} breadcrumb={breadcrumb}
        description={<>{u.userPrincipalName} <SourceBadge synced={synced} /> {u.accountEnabled ? null : <Badge tone="bad">Sign-in blocked</Badge>}</>} />
      {synced ? (
        <Notice title="Managed in on-premises Active Directory">
          <p>This user is synchronized from your Active Directory, so its name, username, address and other directory attributes are read-only here:
            change them in Active Directory, and the next sync brings the change. Licences, usage location and roles are managed here.</p>
        </Notice>
      ) : null}
      <Section title="Profile">
        <Facts items={[
          ['Display name', u.displayName],
          ['Username', u.userPrincipalName],
          ['Email', u.mail],
          ['First name', u.givenName],
          ['Last name', u.surname],
          ['Job title', u.jobTitle],
          ['Department', u.department],
          ['Usage location', u.usageLocation],
          ['Created', formatDateTime(u.createdDateTime)],
        ]} />
      </Section>
      <Section title="Sync details">
        {synced ? (
          <Facts items={[
            ['Source', 'Windows Server Active Directory'],
            ['Immutable id', <code key="i">{u.onPremisesImmutableId}</code>],
            ['Last synced', <time key="t" dateTime={u.onPremisesLastSyncDateTime ?? undefined}>{formatDateTime(u.onPremisesLastSyncDateTime)} ({formatAgo(u.onPremisesLastSyncDateTime)})</time>],
            ['On-premises distinguished name', u.onPremisesDistinguishedName],
            ['On-premises account name', u.onPremisesSamAccountName],
            ['On-premises domain', u.onPremisesDomainName],
            ['On-premises security identifier', u.onPremisesSecurityIdentifier],
          ]} />
        ) : <p>This user was created in the cloud and is not synchronized from Active Directory.</p>}
      </Section>
      <Section title="Licences">
        <ErrorNotice error={licences.error} title="The licences could not be read" />
        <ErrorNotice error={remove.error} title="The licence was not removed" />
        {licences.loading && !licences.data ? <Progress label="Loading licences…" /> : null}
        {licences.data ? (
          <>
            <DataTable
              caption="Licences of this user"
              columns={[
                { header: 'Licence', primary: true, cell: (l) => l.displayName },
                { header: 'Assigned', cell: (l) => [l.assignedDirectly ? 'Directly' : null, l.viaGroups.length ? `Through ${l.viaGroups.length} group${l.viaGroups.length === 1 ? '' : 's'}` : null].filter(Boolean).join(', ') },
                { header: 'Services', cell: (l) => l.servicePlans.join(', ') },
                { header: 'Actions', cell: (l) => (l.assignedDirectly && canLicense
                  ? <button type="button" className="button" disabled={remove.running} onClick={() => void remove.run(l.skuId)} aria-label={`Remove licence ${l.displayName}`}>Remove</button>
                  : null) },
              ]}
              rows={licences.data.licences}
              rowKey={(l) => l.skuId}
              empty="This user holds no licence."
            />
            {licences.data.errors.map((e) => (
              <Notice key={`${e.skuId}-${e.groupId}`} kind="warning" title={`${e.skuId} could not be assigned through a group`}><p>{e.message}</p></Notice>
            ))}
            {canLicense ? <AssignLicence user={{ id: u.id, displayName: u.displayName ?? '', userPrincipalName: u.userPrincipalName ?? '', usageLocation: u.usageLocation }} onAssigned={() => { licences.reload(); user.reload(); }} /> : null}
          </>
        ) : null}
      </Section>
      <Section title="Roles">
        <ErrorNotice error={roles.error} title="The roles could not be read" />
        {roles.data ? (
          roles.data.items.length
            ? <ul>{roles.data.items.map((r) => <li key={r.id}>{r.displayName}</li>)}</ul>
            : <p>This user holds no admin role. <Link to="/roles">Manage roles</Link></p>
        ) : roles.loading ? <Progress label="Loading roles…" /> : null}
      </Section>
      <Section title="Recent sign-ins" actions={<Link to={`/sign-ins?userId=${encodeURIComponent(u.id)}`}>All sign-ins of this user</Link>}>
        <ErrorNotice error={signIns.error} title="The sign-ins could not be read" />
        {signIns.data ? (
          <DataTable
            caption="The user's five most recent sign-ins"
            columns={[
              { header: 'Time', primary: true, cell: (s) => <time dateTime={s.createdDateTime}>{formatDateTime(s.createdDateTime)}</time> },
              { header: 'Application', cell: (s) => s.appDisplayName ?? s.appId ?? '—' },
              { header: 'Method', cell: (s) => s.method.replace(/_/g, ' ') },
              { header: 'Result', cell: (s) => (s.result === 'success' ? <Badge tone="good">Success</Badge> : <Badge tone="bad">{`Failed${s.failureReason ? `: ${s.failureReason.replace(/_/g, ' ')}` : ''}`}</Badge>) },
            ]}
            rows={signIns.data.items}
            rowKey={(s) => s.id}
            empty="No sign-in yet."
          />
        ) : signIns.loading ? <Progress label="Loading sign-ins…" /> : null}
      </Section>
    </>
  );
}
