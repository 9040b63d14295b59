import { api } from '../../api/client.ts';
import { useAction } from '../../api/use-api.ts';
import { CopyField } from '../../components/copy-field.tsx';
import { ErrorNotice, Notice, Progress } from '../../components/feedback.tsx';
import { formatDateTime } from '../../components/format.ts';
import { registerCommand } from './commands.ts';
import type { RegistrationToken } from './types.ts';

const createToken = () => api.send<RegistrationToken>('POST', '/agents/registration-tokens');

/**
 * A one-time registration token (POST /agents/registration-tokens): shown
 * once, since the cloud keeps only its hash; it registers one agent within
 * the hour.
 */
export function RegistrationTokenStep() {
  const create = useAction(createToken);
  const token = create.result;
  return (
    <>
      <p>The agent registers with a one-time token: it works once, for one hour, and the cloud keeps only its hash, so it is shown here only once.
        Create one just before you run the set-up wizard or the register command.</p>
      <button type="button" className="button button-primary" aria-disabled={create.running} onClick={() => { if (!create.running) void create.run(); }}>Create registration token</button>
      {create.running ? <Progress label="Creating a registration token…" /> : null}
      <ErrorNotice error={create.error} title="No registration token was created" />
      {token ? (
        <>
          <Notice kind="success" title="Registration token created">
            <p>It registers one agent until <time dateTime={token.expiresAt}>{formatDateTime(token.expiresAt)}</time>. Copy it now: it is not shown again.
              If it expires unused, create another.</p>
          </Notice>
          <CopyField label="Registration token" value={token.registrationToken} />
          <CopyField label="Register the agent with this token" value={registerCommand(token.registrationToken, token.cloudCertificatePin)} />
          <p className="hint">The wizard (<code>skybridge connect setup</code>) asks for the token itself; the register command is for a configuration you wrote yourself.</p>
        </>
      ) : null}
    </>
  );
}
