import { useState, type ReactNode } from 'react';
import { api, type Page } from '../../api/client.ts';
import { useApi } from '../../api/use-api.ts';
import { hasRole, useMe } from '../../app/me.tsx';
import { Notice, Progress } from '../../components/feedback.tsx';
import { PageHeader } from '../../components/page.tsx';
import { AgentsSection } from './agents-section.tsx';
import { AlertsSection } from './alerts-section.tsx';
import { CyclesSection, cyclesShown } from './cycles-section.tsx';
import { GetTheAgent } from './get-the-agent.tsx';
import { PreparationChecklist } from './preparation-checklist.tsx';
import { SignInSection } from './sign-in-section.tsx';
import { StatusSummary } from './status-summary.tsx';
import { SyncErrorsSection } from './sync-errors-section.tsx';
import { SyncSwitch } from './sync-switch.tsx';
import { syncAdminRoles, type Agent, type AgentPackage, type Domain, type SyncAlert, type SyncCycle, type Tenant } from './types.ts';

/**
 * More › Directory synchronization. Before any agent is registered it leads
 * with preparing Active Directory and getting the agent; once one is, it
 * leads with the sync status (alerts, agents, cycles, errors, sign-in modes,
 * the switch) and keeps the preparation below, linked from the top.
 * Everything shown comes from the admin API; the agents, the package and
 * every change need a role that manages sync.
 */
export function DirectorySyncPage() {
  const me = useMe();
  const isSyncAdmin = hasRole(me, ...syncAdminRoles);
  const [tick, setTick] = useState(0);
  const tenant = useApi((signal) => api.get<Tenant>('/tenant', undefined, signal), [tick]);
  const domains = useApi((signal) => api.get<{ items: Domain[] }>('/domains', undefined, signal), [tick]);
  const agents = useApi((signal) => (isSyncAdmin ? api.get<{ items: Agent[] }>('/agents', undefined, signal) : Promise.resolve(null)), [tick, isSyncAdmin]);
  const pkg = useApi((signal) => (isSyncAdmin ? api.get<AgentPackage>('/agents/package', undefined, signal) : Promise.resolve(null)), [isSyncAdmin]);
  const cycles = useApi((signal) => api.get<Page<SyncCycle>>('/sync/cycles', { limit: cyclesShown }, signal), [tick]);
  const alerts = useApi((signal) => api.get<{ items: SyncAlert[] }>('/sync/alerts', undefined, signal), [tick]);

  const agentList = isSyncAdmin ? agents.data?.items ?? null : null;
  // set up: an agent is registered; for those who may not list agents (or when the list failed), a cycle was reported or sync is on
  const setUp: boolean | null = agentList
    ? agentList.length > 0
    : isSyncAdmin && agents.loading
      ? null
      : cycles.data && tenant.data
        ? cycles.data.items.length > 0 || tenant.data.directorySynchronizationEnabled
        : cycles.error || tenant.error ? true : null;
  const refreshing = tenant.loading || domains.loading || agents.loading || cycles.loading || alerts.loading;

  const sections: { id: string; title: string; node: ReactNode }[] = [];
  const add = (id: string, title: string, node: ReactNode) => sections.push({ id, title, node });
  const status = () => add('status', 'Status', <StatusSummary tenant={tenant} cycles={cycles} agents={agentList} alerts={alerts} />);
  const alertsSection = () => add('alerts', 'Alerts', <AlertsSection alerts={alerts} agents={agentList} canAllow={isSyncAdmin} />);
  const agentsSection = () => { if (isSyncAdmin) add('agents', 'Agents', <AgentsSection agents={agents} />); };
  const cyclesSection = () => add('cycles', 'Recent sync cycles', <CyclesSection cycles={cycles} />);
  const errorsSection = () => add('sync-errors', 'Sync errors', <SyncErrorsSection reloadKey={tick} />);
  const signIn = () => add('sign-in', 'Sign-in mode by domain', <SignInSection domains={domains} tenant={tenant} />);
  const switchSection = () => add('switch', 'Directory synchronization switch',
    <SyncSwitch tenant={tenant} canChange={isSyncAdmin} onChanged={() => { tenant.reload(); alerts.reload(); }} />);
  const prepare = () => add('prepare', 'Prepare Active Directory', <PreparationChecklist me={me} domains={domains} agents={agentList} isSyncAdmin={isSyncAdmin} />);
  const getAgent = () => { if (isSyncAdmin) add('get-the-agent', 'Get the agent', <GetTheAgent pkg={pkg} />); };

  if (setUp) {
    status(); alertsSection(); agentsSection(); cyclesSection(); errorsSection(); signIn(); switchSection(); prepare(); getAgent();
  } else if (setUp === false) {
    prepare(); getAgent();
    if (alerts.data?.items.length) alertsSection();
    signIn(); switchSection();
  }

  return (
    <div className="dirsync-page">
      <PageHeader
        title="Directory synchronization"
        description="Synchronize your on-premises Active Directory into this organisation: prepare the domain, install the agent, and follow synchronization here."
        actions={<button type="button" className="button" aria-disabled={refreshing} onClick={() => { if (!refreshing) setTick((n) => n + 1); }}>Refresh status</button>}
      />
      {!isSyncAdmin ? (
        <Notice title="You can read the sync status">
          <p>Registering agents, allowing deletions and turning directory synchronization off or on need the Global Administrator or Hybrid Identity Administrator role.</p>
        </Notice>
      ) : null}
      {setUp === null ? <Progress label="Reading directory synchronization…" /> : null}
      {setUp === false ? (
        isSyncAdmin ? (
          <Notice title="No agent is registered yet">
            <p>Prepare Active Directory, then get the agent and register it: this page shows the sync status once it reports.</p>
          </Notice>
        ) : (
          <Notice title="Directory synchronization has not started">
            <p>No agent has reported a sync cycle, and directory synchronization is off. A Global Administrator or Hybrid Identity Administrator gets the agent and registers it;
              this page shows the sync status once it reports.</p>
          </Notice>
        )
      ) : null}
      {refreshing && setUp !== null ? <Progress label="Refreshing…" /> : null}
      {sections.length ? (
        <nav className="dirsync-toc" aria-label="On this page">
          <ul>{sections.map((s) => <li key={s.id}><a href={`#${s.id}-heading`}>{s.title}</a></li>)}</ul>
        </nav>
      ) : null}
      {sections.map((s) => <div key={s.id}>{s.node}</div>)}
    </div>
  );
}
