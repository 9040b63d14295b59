import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { Section } from '../../components/page.tsx';
import { ErrorNotice, Progress } from '../../components/feedback.tsx';
import { CopyField } from '../../components/copy-field.tsx';
import type { Me } from '../../app/me.tsx';
import type { Loaded } from '../../api/use-api.ts';
import { doctorCommand, prepareAdCommand } from './commands.ts';
import { hasFinishedCycle } from './agent-health.ts';
import { syncAdminRoles, type Agent, type Domain } from './types.ts';

type State = 'done' | 'todo' | 'unknown';

function Item({ state, title, children }: { state: State; title: string; children: ReactNode }) {
  return (
    <li>
      <span className={`check-mark ${state === 'done' ? 'check-done' : 'check-todo'}`} aria-hidden="true">{state === 'done' ? '✓' : state === 'todo' ? '!' : '?'}</span>
      <div>
        <h3 className="dirsync-check-title">
          <span className="visually-hidden">{state === 'done' ? 'Done: ' : state === 'todo' ? 'To do: ' : 'To check: '}</span>{title}
        </h3>
        {children}
      </div>
    </li>
  );
}

/**
 * Preparing Active Directory, item by item: what the cloud can tell (a
 * verified domain, the admin's role, agents that registered and reported)
 * is marked from the API; what only the on-premises machine can tell is
 * what skybridge connect doctor checks there.
 */
export function PreparationChecklist({ me, domains, agents, isSyncAdmin }: {
  me: Me;
  domains: Loaded<{ items: Domain[] }>;
  /** null: the admin may not read the agents */
  agents: Agent[] | null;
  isSyncAdmin: boolean;
}) {
  const custom = domains.data?.items.filter((d) => !d.isInitial) ?? [];
  const verified = custom.filter((d) => d.isVerified);
  const unverified = custom.filter((d) => !d.isVerified);
  const initial = domains.data?.items.find((d) => d.isInitial)?.name ?? me.tenant.initialDomain;
  const cycled = agents?.filter(hasFinishedCycle) ?? [];
  const hashesOk = agents?.filter((a) => a.health?.passwordHashSync?.ok) ?? [];
  const hashesFailing = agents?.filter((a) => a.health?.passwordHashSync && !a.health.passwordHashSync.ok) ?? [];
  const roleNames = me.roles.filter((r) => (syncAdminRoles as readonly string[]).includes(r.id)).map((r) => r.displayName);

  const rightsState: State = agents === null ? 'unknown' : hashesFailing.length ? 'todo' : hashesOk.length || cycled.length ? 'done' : 'todo';

  return (
    <Section title="Prepare Active Directory" id="prepare">
      <p>Before the agent synchronizes your on-premises Active Directory into this organisation, check each item.
        Items the cloud can see are marked for you; the machine-side items are checked by <code>skybridge connect doctor</code> on the agent's machine.</p>
      <ErrorNotice error={domains.error} title="The domains could not be read, so the first item is unknown" />
      {domains.loading && !domains.data ? <Progress label="Checking your domains…" /> : null}
      <ol className="checklist">
        <Item state={domains.data ? (verified.length ? 'done' : 'todo') : 'unknown'} title="A custom domain is verified">
          {verified.length ? (
            <p>Verified: {verified.map((d) => d.name).join(', ')}. Users whose username (UPN) suffix is one of these keep it in the cloud.</p>
          ) : (
            <p>No domain of your own is verified yet{unverified.length ? ` (${unverified.map((d) => d.name).join(', ')} ${unverified.length === 1 ? 'waits' : 'wait'} for verification)` : ''}.
              Add your Active Directory's UPN suffix and verify it with a DNS record: until then, synchronized users get a username on {initial}.</p>
          )}
          <p><Link to="/domains">Manage domains</Link></p>
        </Item>
        <Item state={isSyncAdmin ? 'done' : 'todo'} title="You hold an admin role that manages sync">
          {isSyncAdmin
            ? <p>You are {roleNames.join(' and ')}: you can register agents, allow deletions and turn synchronization off.</p>
            : <p>Registering agents, allowing deletions and the directory synchronization switch need the Global Administrator or Hybrid Identity Administrator role. You can read the sync status; ask a Global Administrator for the role (<Link to="/roles">Roles</Link>).</p>}
        </Item>
        <Item state={cycled.length ? 'done' : 'unknown'} title="On-premises prerequisites">
          <ul className="dirsync-plain-list">
            <li>A Linux machine with Node.js 24 or newer (the agent's launcher refuses older versions).</li>
            <li>LDAPS (TCP 636) to a domain controller, or LDAP with StartTLS (TCP 389); with password hash synchronization also TCP 135 and the dynamic RPC ports of that domain controller.</li>
            <li>Outbound HTTPS to this cloud, and a clock within 300 seconds of the cloud's.</li>
          </ul>
          {cycled.length
            ? <p>Met on {cycled.map((a) => a.hostname).join(', ')}: {cycled.length === 1 ? 'its agent has' : 'their agents have'} read the domain and reported to this cloud.</p>
            : <p>Once the agent is unpacked and configured, the doctor checks each of these live and prints the fix for each failure:</p>}
          {cycled.length ? null : <CopyField label="Check the prerequisites" value={doctorCommand} />}
        </Item>
        <Item state={rightsState} title="Connector account rights">
          <p>The agent reads Active Directory as a connector account: a normal domain user, not an administrator, with <em>Replicating Directory Changes</em> on the domain
            (to follow changes), <em>Replicating Directory Changes All</em> (only for password hash synchronization), and <em>List Contents</em> and <em>Read Property</em> on
            Deleted Objects. <code>skybridge connect prepare-ad</code> creates the account if it is missing and grants exactly these, with a domain administrator's
            credentials used once and never stored. It reads the account's name (<code>bindAs</code>) and password file from the agent's configuration,
            /etc/skybridge/connect.yaml; <code>--dry-run</code> shows what it would change. Replace ADMINISTRATOR with a domain administrator (name@domain or DOMAIN\name).</p>
          {hashesFailing.length ? (
            <p>Password hash synchronization failed on {hashesFailing.map((a) => `${a.hostname} (${a.health?.passwordHashSync?.error ?? 'no reason given'})`).join('; ')}: grant the missing right with prepare-ad, then run the doctor.</p>
          ) : hashesOk.length ? (
            <p>Confirmed: {hashesOk.map((a) => a.hostname).join(', ')} read password hashes from the domain, which needs the replication rights; the doctor checks the rest.</p>
          ) : cycled.length ? (
            <p>Confirmed for synchronization: {cycled.map((a) => a.hostname).join(', ')} finished a sync cycle. No agent has reported password hash synchronization yet; if you use it, the doctor checks its right.</p>
          ) : agents === null ? (
            <p>{isSyncAdmin ? 'The agents could not be read, so this is not confirmed.' : 'Only the roles that manage sync can see the agents\' reports.'}</p>
          ) : (
            <p>Marked done once an agent reports a finished sync cycle, or a successful password hash synchronization.</p>
          )}
          <CopyField label="Create the connector account and grant its rights" value={prepareAdCommand} multiline />
        </Item>
      </ol>
    </Section>
  );
}
