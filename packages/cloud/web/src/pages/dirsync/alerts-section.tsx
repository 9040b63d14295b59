import { useState } from 'react';
import { api } from '../../api/client.ts';
import { useAction, type Loaded } from '../../api/use-api.ts';
import { DataTable } from '../../components/data-table.tsx';
import { ErrorNotice, Notice, Progress } from '../../components/feedback.tsx';
import { formatAgo, formatDateTime } from '../../components/format.ts';
import { Facts, Section } from '../../components/page.tsx';
import { ConfirmDialog } from '../../components/confirm-dialog.tsx';
import type { Agent, SyncAlert } from './types.ts';

const titles: Record<string, string> = {
  agent_silent: 'An agent is silent',
  sync_stopped: 'Synchronization has stopped',
  password_hash_sync_failing: 'Password hash synchronization is failing',
  password_hash_sync_stale: 'Password hash synchronization has not run',
  lockout_threshold: 'Pass-through sign-ins follow the domain\'s lockout',
};

const allowDeletes = () => api.send<{ allowed: number; pending: number }>('POST', '/sync/allow-deletes', {});

/** The delete threshold stopped an export: what waits, a sample, and (for sync admins) letting it through. */
function DeleteThreshold({ alert, agents, canAllow, onAllowed }: { alert: SyncAlert; agents: Agent[] | null; canAllow: boolean; onAllowed: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const allow = useAction(allowDeletes);
  const pending = alert.pendingDeletions ?? 0;
  const agent = agents?.find((a) => a.id === alert.agentId)?.hostname;
  const allowedAll = alert.allowedDeletions > 0 && alert.allowedDeletions >= pending;
  const confirm = async () => {
    const r = await allow.run();
    if (r) {
      setConfirming(false);
      onAllowed();
    }
  };
  return (
    <div className="notice notice-warning">
      <h3 className="notice-title">Deletions are waiting for you</h3>
      <p>{alert.message}</p>
      <Facts items={[
        ['Deletions waiting', pending.toLocaleString()],
        ['Delete threshold', alert.deleteThreshold?.toLocaleString() ?? '—'],
        ['Stopped by', agent ?? (alert.agentId ? 'an agent since removed' : '—')],
        ['Reported', alert.updatedDateTime ? <time key="t" dateTime={alert.updatedDateTime}>{formatDateTime(alert.updatedDateTime)}</time> : '—'],
        ['Allowed', alert.allowedDeletions > 0 && alert.allowedDateTime
          ? <span key="a">{`${alert.allowedDeletions.toLocaleString()}, ${formatAgo(alert.allowedDateTime)}: the agent deletes them at its next cycle`}</span>
          : 'Not yet'],
      ]} />
      {alert.sample.length ? (
        <>
          <h4 className="dirsync-subheading">{`Some of the objects it would delete (${alert.sample.length} of ${pending.toLocaleString()})`}</h4>
          <DataTable
            caption="A sample of the objects the stopped export would delete"
            columns={[
              { header: 'Object', primary: true, cell: (s) => s.dn },
              { header: 'Type', cell: (s) => s.type },
              { header: 'Immutable id', cell: (s) => <code>{s.immutableId}</code> },
            ]}
            rows={alert.sample}
            rowKey={(s) => s.immutableId}
            empty="No sample."
          />
        </>
      ) : null}
      <p>Check why they left the scope of synchronization first (a moved or deleted OU, a changed filter, a restored domain controller). If that was a mistake, fix it in
        Active Directory: the objects come back in scope, the deletions are cancelled and this alert ends. If the deletions are right, allow them.</p>
      {allow.result ? (
        <Notice kind="success" title="Deletions allowed">
          <p>{`${allow.result.allowed.toLocaleString()} of ${allow.result.pending.toLocaleString()} deletions are allowed: the agent makes them at its next cycle, then this alert ends.`}</p>
        </Notice>
      ) : null}
      {canAllow ? (
        allowedAll && !allow.result ? null : (
          <button type="button" className="button button-danger" aria-disabled={allow.running} onClick={() => { if (!allow.running) setConfirming(true); }}>Allow deletes</button>
        )
      ) : <p>Only a Global Administrator or Hybrid Identity Administrator can allow them.</p>}
      <ConfirmDialog
        open={confirming}
        title={`Allow ${pending.toLocaleString()} deletions?`}
        confirmLabel={`Allow ${pending.toLocaleString()} deletions`}
        progressLabel="Allowing the deletions…"
        errorTitle="The deletions were not allowed"
        running={allow.running}
        error={allow.error}
        onConfirm={() => void confirm()}
        onCancel={() => setConfirming(false)}
      >
        <p>{`At its next cycle the agent deletes these ${pending.toLocaleString()} objects from the cloud.`}</p>
        <p>If more deletions are pending by then than you allow now, the agent stops again and asks anew.</p>
      </ConfirmDialog>
    </div>
  );
}

/** What needs an administrator (GET /sync/alerts): the delete threshold, silent agents, stopped sync, password hash sync, lockout. */
export function AlertsSection({ alerts, agents, canAllow }: { alerts: Loaded<{ items: SyncAlert[] }>; agents: Agent[] | null; canAllow: boolean }) {
  const items = alerts.data?.items ?? [];
  return (
    <Section title="Alerts" id="alerts">
      <ErrorNotice error={alerts.error} title="The sync alerts could not be read" />
      {alerts.loading && !alerts.data ? <Progress label="Loading alerts…" /> : null}
      {alerts.data && items.length === 0 ? <p>Nothing needs you: no deletions are waiting, every agent reports, and synchronization runs.</p> : null}
      {items.map((a, i) => (a.code === 'delete_threshold'
        ? <DeleteThreshold key={`${a.code}-${i}`} alert={a} agents={agents} canAllow={canAllow} onAllowed={alerts.reload} />
        : (
          <div key={`${a.code}-${a.agentId ?? ''}-${i}`} className={`notice ${a.code === 'lockout_threshold' ? '' : 'notice-warning'}`}>
            <h3 className="notice-title">{titles[a.code] ?? a.code}</h3>
            <p>{a.message}</p>
            {a.raisedDateTime ? <p className="notice-code">Since <time dateTime={a.raisedDateTime}>{formatDateTime(a.raisedDateTime)}</time></p> : null}
          </div>
        )))}
    </Section>
  );
}
