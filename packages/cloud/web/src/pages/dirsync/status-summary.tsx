import type { ReactNode } from 'react';
import type { Page } from '../../api/client.ts';
import type { Loaded } from '../../api/use-api.ts';
import { Badge } from '../../components/feedback.tsx';
import { formatAgo, formatDateTime } from '../../components/format.ts';
import { Facts, Section } from '../../components/page.tsx';
import { agentState } from './agent-health.ts';
import type { Agent, SyncAlert, SyncCycle, Tenant } from './types.ts';

const onOff = (v: boolean | undefined) => (v === undefined ? '—' : v ? <Badge tone="good">On</Badge> : <Badge tone="neutral">Off</Badge>);

/** Directory synchronization at a glance: the switch, the last cycle, the agents' health, what needs attention. */
export function StatusSummary({ tenant, cycles, agents, alerts }: {
  tenant: Loaded<Tenant>;
  cycles: Loaded<Page<SyncCycle>>;
  agents: Agent[] | null;
  alerts: Loaded<{ items: SyncAlert[] }>;
}) {
  const t = tenant.data;
  const last = cycles.data?.items.find((c) => c.finishedDateTime) ?? null;
  const now = Date.now();
  const tones = agents?.map((a) => agentState(a, now).tone) ?? [];
  const toneWords: [string, string][] = [['good', 'healthy'], ['info', 'starting'], ['warn', 'need a look'], ['bad', 'silent or failing']];
  const counted = toneWords.map(([tone, words]) => [tones.filter((x) => x === tone).length, words] as const).filter(([n]) => n > 0).map(([n, words]) => `${n} ${words}`).join(', ');
  const alertCount = alerts.data?.items.length;
  const items: [string, ReactNode][] = [
    ['Directory synchronization', onOff(t?.directorySynchronizationEnabled)],
    ['Last finished cycle', cycles.data
      ? last
        ? <span key="c">{`${last.kind === 'full' ? 'Full' : 'Delta'}, ${formatAgo(last.finishedDateTime)}`}{last.agentHostname ? ` on ${last.agentHostname}` : ''} (<time dateTime={last.finishedDateTime!}>{formatDateTime(last.finishedDateTime)}</time>)</span>
        : 'None yet'
      : '—'],
    ...(agents ? [['Agents', agents.length ? `${agents.length} registered: ${counted}` : 'None registered'] as [string, ReactNode]] : []),
    ['Alerts', alertCount === undefined ? '—' : alertCount ? <Badge key="a" tone="warn">{`${alertCount} need${alertCount === 1 ? 's' : ''} you`}</Badge> : 'None'],
    ['Password hash sync', onOff(t?.passwordHashSync)],
    ['Pass-through authentication', onOff(t?.passThroughAuthentication)],
  ];
  return (
    <Section title="Status" id="status">
      <Facts items={items} />
    </Section>
  );
}
