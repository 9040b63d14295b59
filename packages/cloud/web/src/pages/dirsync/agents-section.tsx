import type { Loaded } from '../../api/use-api.ts';
import { Badge, ErrorNotice, Progress } from '../../components/feedback.tsx';
import { formatAgo, formatDateTime } from '../../components/format.ts';
import { Facts, Section } from '../../components/page.tsx';
import { agentState, silenceMinutes } from './agent-health.ts';
import type { Agent } from './types.ts';

const roleLabels: Record<string, string> = { active: 'Active', standby: 'Standby', staging: 'Staging (exports nothing)' };

function When({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <>never</>;
  return <time dateTime={iso} title={formatDateTime(iso)}>{formatAgo(iso)}</time>;
}

/** One agent: its health in badges, then what its heartbeat says. */
function AgentCard({ a, now }: { a: Agent; now: number }) {
  const s = agentState(a, now);
  const c = a.health?.lastCycle;
  const h = a.health?.passwordHashSync;
  return (
    <li className="card dirsync-agent">
      <h3>{a.hostname}</h3>
      <p className="dirsync-badges">
        <Badge tone={s.tone}>{s.label}</Badge>
        {a.channel.connected ? <Badge tone="info">Channel open</Badge> : <Badge tone="neutral">Channel closed</Badge>}
        {a.outdated ? <Badge tone="warn">{`Update to ${a.currentVersion}`}</Badge> : null}
      </p>
      <p>{s.detail}</p>
      <Facts items={[
        ['Last heartbeat', <When key="h" iso={a.lastHeartbeatDateTime} />],
        ['Role', a.health ? roleLabels[a.health.role] ?? a.health.role : 'Not reported yet'],
        ['Version', a.outdated ? `${a.version} (this cloud ships ${a.currentVersion})` : a.version],
        ['Last cycle', c
          ? <span key="c">{c.kind === 'full' ? 'Full' : 'Delta'}, {c.finishedAt ? <>finished <When iso={c.finishedAt} /></> : <>started <When iso={c.startedAt} />, not finished</>}
            <span className="dirsync-cell-note">{`${c.adds} added, ${c.updates} updated, ${c.deletes} deleted, ${c.errors} with errors`}</span></span>
          : 'None reported'],
        ['Password hash sync', h
          ? <span key="p">{h.ok ? <Badge tone="good">OK</Badge> : <Badge tone="bad">Failed</Badge>} <When iso={h.lastRunAt} />
            <span className="dirsync-cell-note">{`${h.synced} users synchronized, ${h.errors} with errors`}{h.error ? `: ${h.error}` : ''}</span></span>
          : 'Not reported (off on this agent, or not run yet)'],
        ['Registered', <time key="r" dateTime={a.registeredDateTime}>{formatDateTime(a.registeredDateTime)}</time>],
      ]} />
    </li>
  );
}

/** The registered agents and their health, from their heartbeats (GET /agents). */
export function AgentsSection({ agents }: { agents: Loaded<{ items: Agent[] } | null> }) {
  const now = Date.now();
  const items = agents.data?.items ?? [];
  return (
    <Section title="Agents" id="agents">
      <p>Each agent reports a heartbeat after every sync cycle (at least every five minutes by default). Only one agent at a time exports (it holds the sync lease); another takes over when it stops.
        The cloud calls an agent silent after {silenceMinutes} minutes without a heartbeat or an open channel. Pass-through sign-ins go through open channels.</p>
      <ErrorNotice error={agents.error} title="The agents could not be listed" />
      {agents.loading && !agents.data ? <Progress label="Loading agents…" /> : null}
      {agents.data ? (
        items.length
          ? <ul className="dirsync-agent-list" aria-busy={agents.loading ? 'true' : undefined}>{items.map((a) => <AgentCard key={a.id} a={a} now={now} />)}</ul>
          : <p>No agent is registered: see Get the agent.</p>
      ) : null}
    </Section>
  );
}
