import { Link } from 'react-router';
import { api, type Page } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import { ErrorNotice, Notice, Progress } from '../components/feedback.tsx';
import { PageHeader, Section } from '../components/page.tsx';
import { useMe } from '../app/me.tsx';

interface Domain { name: string; isInitial: boolean; isVerified: boolean }
interface Subscription { skuId: string; consumed: number }
interface Alert { kind?: string; code?: string; message?: string; detail?: string }

interface SetupState {
  domain: Domain | null;
  agents: number;
  syncedUsers: boolean;
  licensed: boolean;
  alerts: Alert[];
}

/** Reads where the set-up stands, from what the tenant has (never from a stored wizard state). */
async function readProgress(signal: AbortSignal): Promise<SetupState> {
  const [domains, agents, synced, subscriptions, alerts] = await Promise.all([
    api.get<{ items: Domain[] }>('/domains', undefined, signal),
    api.get<{ items: unknown[] }>('/agents', undefined, signal).catch(() => ({ items: [] })),
    api.get<Page<unknown>>('/users', { filter: 'synced', limit: 1 }, signal),
    api.get<{ items: Subscription[] }>('/subscriptions', undefined, signal),
    api.get<{ items: Alert[] }>('/sync/alerts', undefined, signal),
  ]);
  const custom = domains.items.filter((d) => !d.isInitial);
  return {
    domain: custom.find((d) => d.isVerified) ?? custom[0] ?? null,
    agents: agents.items.length,
    syncedUsers: synced.items.length > 0,
    licensed: subscriptions.items.some((s) => s.consumed > 0),
    alerts: alerts.items,
  };
}

/**
 * Home: the set-up guide, in the order an administrator follows it, each
 * step marked done from what the tenant actually has, with the page that does it.
 */
export function HomePage() {
  const me = useMe();
  const progress = useApi(readProgress, []);
  const p = progress.data;
  const steps = p ? [
    { done: Boolean(p.domain?.isVerified), title: 'Add and verify your domain', text: p.domain ? `${p.domain.name} is ${p.domain.isVerified ? 'verified' : 'added but not verified yet'}.` : 'Prove you own your organisation\'s domain, so that users sign in with their own addresses.', to: p.domain ? `/domains/${encodeURIComponent(p.domain.name)}` : '/domains', link: 'Domains' },
    { done: p.agents > 0, title: 'Prepare Active Directory and install the agent', text: p.agents > 0 ? `${p.agents} agent${p.agents === 1 ? ' is' : 's are'} registered.` : 'Check the prerequisites, download Skybridge Connect and register it with a one-time token.', to: '/dirsync', link: 'Directory synchronization' },
    { done: p.syncedUsers, title: 'Synchronize your users', text: p.syncedUsers ? 'Users from Active Directory are here.' : 'The agent\'s first sync brings your users, groups and contacts.', to: '/users?filter=synced', link: 'Active users' },
    { done: p.licensed, title: 'Assign licences', text: p.licensed ? 'Licences are assigned.' : 'Give your users the services they need.', to: '/licences', link: 'Licences' },
    { done: false, title: 'Finish your domain\'s DNS records', text: 'Point your domain\'s mail and sign-in records at Skybridge; the domain page shows each record\'s live status.', to: p.domain ? `/domains/${encodeURIComponent(p.domain.name)}` : '/domains', link: 'DNS records' },
  ] : [];
  return (
    <>
      <PageHeader title={`Welcome, ${me.principal.displayName ?? 'administrator'}`} description={`Set up ${me.tenant.name}: bring your Active Directory users to the cloud and give them the services they need.`} />
      <ErrorNotice error={progress.error} title="The set-up status could not be read" />
      {progress.loading && !p ? <Progress label="Reading your organisation's set-up…" /> : null}
      {p && p.alerts.length > 0 ? (
        <Notice kind="warning" title="Directory synchronization needs you">
          <p>{p.alerts.length} alert{p.alerts.length === 1 ? '' : 's'}: <Link to="/dirsync">open Directory synchronization</Link>.</p>
        </Notice>
      ) : null}
      {p ? (
        <Section title="Set-up guide">
          <ol className="checklist">
            {steps.map((s) => (
              <li key={s.title}>
                <span className={`check-mark ${s.done ? 'check-done' : 'check-todo'}`} aria-hidden="true">{s.done ? '✓' : '!'}</span>
                <div>
                  <h3>{s.title} <span className="visually-hidden">({s.done ? 'done' : 'to do'})</span></h3>
                  <p>{s.text} <Link to={s.to}>{s.link}</Link></p>
                </div>
              </li>
            ))}
          </ol>
        </Section>
      ) : null}
    </>
  );
}
