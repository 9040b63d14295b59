import { Link } from 'react-router';
import type { Loaded } from '../../api/use-api.ts';
import { DataTable } from '../../components/data-table.tsx';
import { Badge, ErrorNotice, Progress } from '../../components/feedback.tsx';
import { Section } from '../../components/page.tsx';
import type { Domain, Tenant } from './types.ts';

interface Mode { label: string; tone: 'good' | 'warn' | 'neutral' | 'info'; detail: string }

/**
 * How a domain's users sign in, as the cloud decides it
 * (packages/cloud/src/signin/interactions.ts): a verified federated domain
 * sends everyone to its identity provider; on a managed domain cloud users
 * use their cloud password, and synchronized users pass-through
 * authentication when it is on, else password hash synchronization when it
 * is on, else nothing.
 */
export function signInModeOf(d: Domain, t: Tenant): Mode {
  if (d.authenticationType === 'federated' && d.isVerified) {
    const protocol = d.federation?.protocol === 'saml' ? 'SAML 2.0' : d.federation?.protocol === 'oidc' ? 'OpenID Connect' : 'its identity provider';
    return { label: 'Federated', tone: 'info', detail: `Every user of this domain signs in at the domain's identity provider (${protocol}); no password is checked here.` };
  }
  if (!d.isVerified) return { label: 'Not in use', tone: 'neutral', detail: 'Not verified yet: nobody signs in with this domain until it is.' };
  if (t.passThroughAuthentication) {
    return {
      label: 'Pass-through authentication', tone: 'good',
      detail: `Synchronized users sign in with their Active Directory password, which an agent checks with a domain controller at each sign-in.${t.passwordHashSync ? ' Password hash synchronization is on as well, as the fallback: turning pass-through off switches these users to it.' : ''}`,
    };
  }
  if (t.passwordHashSync) return { label: 'Password hash sync', tone: 'good', detail: 'Synchronized users sign in with their Active Directory password, checked here against the hash the agent synchronized.' };
  return { label: 'None for synchronized users', tone: 'warn', detail: 'Neither password hash synchronization nor pass-through authentication is on, so synchronized users cannot sign in with their Active Directory password.' };
}

/** Each domain's sign-in mode, from the domains (GET /domains) and the tenant's switches (GET /tenant). */
export function SignInSection({ domains, tenant }: { domains: Loaded<{ items: Domain[] }>; tenant: Loaded<Tenant> }) {
  const t = tenant.data;
  return (
    <Section title="Sign-in mode by domain" id="sign-in">
      <p>Users created in the cloud always sign in with their cloud password; users synchronized from Active Directory sign in as their domain's mode says.</p>
      <ErrorNotice error={domains.error} title="The domains could not be read" />
      <ErrorNotice error={tenant.error} title="The organisation's sign-in switches could not be read" />
      {(domains.loading && !domains.data) || (tenant.loading && !t) ? <Progress label="Loading domains…" /> : null}
      {domains.data && t ? (
        <DataTable
          caption="Domains and how their users sign in"
          columns={[
            { header: 'Domain', primary: true, className: 'dirsync-name', cell: (d) => <Link to={`/domains/${encodeURIComponent(d.name)}`}>{d.name}</Link> },
            { header: 'Status', className: 'dirsync-nowrap', cell: (d) => (d.isVerified ? <Badge tone="good">Verified</Badge> : <Badge tone="warn">Not verified</Badge>) },
            { header: 'Authentication', className: 'dirsync-nowrap', cell: (d) => (d.authenticationType === 'federated' ? 'Federated' : 'Managed') },
            {
              header: 'Synchronized users sign in with',
              cell: (d) => {
                const m = signInModeOf(d, t);
                return <><Badge tone={m.tone}>{m.label}</Badge><span className="dirsync-cell-note">{m.detail}</span></>;
              },
            },
          ]}
          rows={domains.data.items}
          rowKey={(d) => d.name}
          empty="This organisation has no domain."
        />
      ) : null}
    </Section>
  );
}
