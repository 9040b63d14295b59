import { api } from '../../api/client.ts';
import { isApiError, useAction, type Loaded } from '../../api/use-api.ts';
import { CopyField } from '../../components/copy-field.tsx';
import { ErrorNotice, Notice, Progress } from '../../components/feedback.tsx';
import { formatBytes } from '../../components/format.ts';
import { Facts, Section } from '../../components/page.tsx';
import { cloudUrlOf, firstSyncCommand, installDirectory, setupCommand, unpackCommand, verifyCommand } from './commands.ts';
import { RegistrationTokenStep } from './registration-token.tsx';
import type { AgentPackage } from './types.ts';

/**
 * Getting the agent: the package this cloud serves (GET /agents/package,
 * with its SHA-256), how to check and unpack it, a registration token, and
 * the commands that set it up, register it and start it.
 */
export function GetTheAgent({ pkg }: { pkg: Loaded<AgentPackage | null> }) {
  const p = pkg.data;
  const download = useAction(async (name: string) => api.download('/agents/package/download', name));
  const noPackage = isApiError(pkg.error, 'not_found');
  const got = download.result;
  const cloudUrl = cloudUrlOf(p?.downloadUrl);
  return (
    <Section title="Get the agent" id="get-the-agent">
      <p>Skybridge Connect, the agent, runs on a Linux machine of your network: it reads Active Directory and sends the changes here.</p>
      <ol className="steps">
        <li>
          <h3>Download the agent package</h3>
          {pkg.loading && !p ? <Progress label="Reading the agent package's details…" /> : null}
          {noPackage ? (
            <Notice kind="warning" title="This cloud hands out no agent package">
              <p>Ask the operator of this cloud to build the package (<code>npm run build:agent</code> in a Skybridge checkout) and to start the cloud with <code>--agent-package FILE</code>;
                this section then offers it for download with its SHA-256.
                Until then the agent runs from a Skybridge checkout: use <code>./skybridge connect …</code> in its folder wherever the commands below say <code>{installDirectory}/skybridge connect …</code>.</p>
            </Notice>
          ) : <ErrorNotice error={pkg.error} title="The agent package's details could not be read" />}
          {p ? (
            <>
              <Facts items={[
                ['File', p.fileName],
                ['Version', p.version],
                ['Size', formatBytes(p.size)],
                ['SHA-256', <code key="sha">{p.sha256}</code>],
              ]} />
              <p>
                <button type="button" className="button button-primary" aria-disabled={download.running} onClick={() => { if (!download.running) void download.run(p.fileName); }}>Download the agent package</button>
              </p>
              {download.running ? <Progress label={`Downloading ${p.fileName}…`} /> : null}
              <ErrorNotice error={download.error} title="The download failed" />
              {got ? (
                got.checksum && got.checksum !== p.sha256 ? (
                  <Notice kind="warning" title="The package changed since this page opened">
                    <p>The cloud served {got.name} with the SHA-256 <code>{got.checksum}</code>, not the one shown above: reload this page to see the package it serves now, then download it again.</p>
                  </Notice>
                ) : (
                  <Notice kind="success" title="Downloaded">
                    <p>Your browser saved {got.name} ({formatBytes(got.size)}). Before you unpack it on the agent's machine, compare its SHA-256 with the one above.</p>
                  </Notice>
                )
              ) : null}
              <CopyField label="Check the download's SHA-256" value={verifyCommand(p.fileName, p.sha256)} />
              <p className="hint">It prints "OK" when the file is the one this cloud serves; anything else means a damaged or different file: download it again.</p>
            </>
          ) : null}
        </li>
        {p ? (
          <li>
            <h3>Unpack it</h3>
            <p>It needs only Node.js 24 on the machine. {installDirectory} is where the package's systemd unit expects it.</p>
            <CopyField label="Unpack the agent" value={unpackCommand(p.fileName)} multiline />
          </li>
        ) : null}
        <li>
          <h3>Create a registration token</h3>
          <RegistrationTokenStep />
        </li>
        <li>
          <h3>Set up and register</h3>
          <p>The set-up wizard asks for this cloud's URL, a domain controller, the connector account and its password, and the registration token.
            It checks each answer live, writes /etc/skybridge/connect.yaml and the password file, registers the agent and ends with the doctor's checks.</p>
          <CopyField label="Skybridge Cloud URL" value={cloudUrl} />
          <CopyField label="Run the set-up wizard" value={setupCommand} />
          <p className="hint">The wizard signs in to Active Directory as the connector account, so the account must exist. If it does not yet, write /etc/skybridge/connect.yaml
            yourself ({installDirectory}/docs/connect-config.md), create the account with prepare-ad (Prepare Active Directory, on this page), then register with the command the token step shows.</p>
        </li>
        <li>
          <h3>Start synchronizing</h3>
          <p>The first cycle reads the whole domain and sends it here; then the agent follows each change. It appears under Agents on this page once it reports.
            To run it as a service, follow {installDirectory}/docs/connect-service.md.</p>
          <CopyField label="First sync, then keep running" value={firstSyncCommand} multiline />
        </li>
      </ol>
    </Section>
  );
}
