import type { BadgeTone } from '../../components/feedback.tsx';
import type { Agent } from './types.ts';

/**
 * The cloud calls an agent silent after this long without a heartbeat and
 * without an open channel (packages/cloud/src/sync/alerts.ts, agent_silent).
 * An agent reports a heartbeat after each cycle, and runs a cycle at least
 * every pollIntervalSeconds (300 by default), so a shorter limit would call
 * healthy agents silent.
 */
export const silenceMinutes = 15;

export interface AgentState {
  label: string;
  tone: BadgeTone;
  /** what it means and what to do */
  detail: string;
}

/** An agent's health in one badge, from its heartbeat and its channel. */
export function agentState(a: Agent, now = Date.now()): AgentState {
  const since = Date.parse(a.lastHeartbeatDateTime ?? a.registeredDateTime);
  const quiet = now - since > silenceMinutes * 60_000;
  if (a.health?.passwordHashSync && !a.health.passwordHashSync.ok) {
    return { label: 'Password hash sync failing', tone: 'bad', detail: a.health.passwordHashSync.error ?? 'The last password hash run failed: run skybridge connect doctor on the agent.' };
  }
  if (!a.lastHeartbeatDateTime) {
    if (a.channel.connected) return { label: 'Connected, no cycle yet', tone: 'info', detail: 'The agent is connected but has not finished a sync cycle yet.' };
    return quiet
      ? { label: 'Silent', tone: 'bad', detail: `Registered, but it has never reported: start it (skybridge connect run, or its systemd service) and check that it reaches this cloud (skybridge connect doctor).` }
      : { label: 'Waiting for first heartbeat', tone: 'warn', detail: 'Registered: it reports once it finishes its first sync cycle (skybridge connect sync, then skybridge connect run).' };
  }
  if (quiet && !a.channel.connected) {
    return { label: 'Silent', tone: 'bad', detail: `No heartbeat for more than ${silenceMinutes} minutes and no open channel: check that its service runs and reaches this cloud (skybridge connect doctor), or remove it if it was retired.` };
  }
  if ((a.health?.lastCycle?.errors ?? 0) > 0) {
    const n = a.health!.lastCycle!.errors;
    return { label: `${n} object${n === 1 ? '' : 's'} with errors`, tone: 'warn', detail: 'Its last cycle could not synchronize some objects: see Sync errors below for each object and its fix.' };
  }
  return { label: 'Healthy', tone: 'good', detail: quiet ? 'Its channel is open; it reports after its next cycle.' : 'It reported recently.' };
}

/** Whether an agent's cycles show that the connector account can read the domain. */
export const hasFinishedCycle = (a: Agent) => Boolean(a.health?.lastCycle?.finishedAt);
