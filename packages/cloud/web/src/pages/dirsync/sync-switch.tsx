import { useState } from 'react';
import { api } from '../../api/client.ts';
import { useAction, type Loaded } from '../../api/use-api.ts';
import { Badge, ErrorNotice, Notice, Progress } from '../../components/feedback.tsx';
import { Section } from '../../components/page.tsx';
import { ConfirmDialog } from '../../components/confirm-dialog.tsx';
import type { Tenant } from './types.ts';

const setSync = (on: boolean) => api.send<Tenant>('PATCH', '/tenant', { directorySynchronizationEnabled: on });

/**
 * The directory synchronization switch (PATCH /tenant
 * directorySynchronizationEnabled). Off, after a confirmation: every
 * synchronized object becomes cloud-managed and stays, and no agent
 * synchronizes until it is on again; on: a full sync takes the objects back
 * by their immutable ids (packages/cloud/src/routes/tenant.ts).
 */
export function SyncSwitch({ tenant, canChange, onChanged }: { tenant: Loaded<Tenant>; canChange: boolean; onChanged: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const change = useAction(setSync);
  const [done, setDone] = useState<'off' | 'on' | null>(null);
  const t = tenant.data;
  const run = async (on: boolean) => {
    setDone(null);
    const r = await change.run(on);
    if (r) {
      setConfirming(false);
      setDone(on ? 'on' : 'off');
      onChanged();
    }
  };
  const on = t?.directorySynchronizationEnabled ?? false;
  const fullSync = <code>skybridge connect sync --full</code>;
  return (
    <Section title="Directory synchronization switch" id="switch">
      <ErrorNotice error={tenant.error} title="Whether directory synchronization is on could not be read" />
      {tenant.loading && !t ? <Progress label="Reading the switch…" /> : null}
      {t ? (
        <>
          <p>Directory synchronization is {on ? <Badge tone="good">On</Badge> : <Badge tone="neutral">Off</Badge>}</p>
          {on ? (
            <>
              <p>Turning it off:</p>
              <ul>
                <li>every synchronized user, group and contact becomes managed in the cloud and stays, with its immutable id: nothing is deleted;</li>
                <li>changes in Active Directory no longer reach the cloud: the active agent's lease ends and no agent synchronizes until it is turned on again;</li>
                <li>those users no longer sign in with their Active Directory password (password hash sync or pass-through): as cloud users they need a cloud password, which an administrator sets;
                  users of federated domains still sign in at their identity provider.</li>
              </ul>
              <p>Turning it on again later and running {fullSync} on the agent takes the objects back by their immutable ids
                {t.blockHardMatchTakeover ? ' (but this organisation blocks hard-match takeover, which refuses them: allow it first)' : ''}.</p>
            </>
          ) : (
            <>
              <p>It turns on by itself when an agent first synchronizes. If an administrator turned it off, agents are refused until it is turned on again; then run {fullSync} on the
                agent, which takes the objects back by their immutable ids{t.blockHardMatchTakeover ? ' (but this organisation blocks hard-match takeover, which refuses them: allow it first)' : ''}.</p>
            </>
          )}
          {done === 'off' ? (
            <Notice kind="success" title="Directory synchronization is off">
              <p>The synchronized objects are now managed in the cloud, and agents no longer synchronize.</p>
            </Notice>
          ) : null}
          {done === 'on' ? (
            <Notice kind="success" title="Directory synchronization is on">
              <p>Agents can synchronize again: run {fullSync} on the agent so that the cloud takes back the objects it manages since synchronization was off.</p>
            </Notice>
          ) : null}
          {!confirming ? <ErrorNotice error={change.error} title="The switch was not changed" /> : null}
          {canChange ? (
            <>
              {/* one button whose action follows the switch, so that focus comes back to it after the change */}
              <button type="button" className={`button${on ? ' button-danger' : ''}`} aria-disabled={change.running}
                onClick={() => { if (change.running) return; if (on) setConfirming(true); else void run(true); }}>
                {on ? 'Turn directory synchronization off' : 'Turn directory synchronization on'}
              </button>
              {!on && change.running ? <Progress label="Turning directory synchronization on…" /> : null}
            </>
          ) : <p>Only a Global Administrator or Hybrid Identity Administrator can change it.</p>}
          <ConfirmDialog
            open={confirming}
            title="Turn directory synchronization off?"
            confirmLabel="Turn off"
            progressLabel="Turning directory synchronization off: the synchronized objects become cloud-managed…"
            errorTitle="Directory synchronization is still on"
            running={change.running}
            error={change.error}
            onConfirm={() => void run(false)}
            onCancel={() => setConfirming(false)}
          >
            <p>Every synchronized object becomes managed in the cloud and stays; changes in Active Directory stop reaching the cloud, and synchronized users stop
              signing in with their Active Directory password until they get a cloud password. Turning it on again and a full sync take the objects back.</p>
          </ConfirmDialog>
        </>
      ) : null}
    </Section>
  );
}
