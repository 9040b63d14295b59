/**
 * The commands the page shows, built from the agent package's layout
 * (scripts/build-agent-package.ts: skybridge-connect-<version>/skybridge, a
 * launcher that needs Node.js 24) unpacked where its systemd unit expects it
 * (packaging/systemd/skybridge-connect.service: /opt/skybridge), and the
 * `skybridge connect` commands of packages/cli/src/commands/connect.ts.
 */
export const installDirectory = '/opt/skybridge';
export const agentCommand = `sudo ${installDirectory}/skybridge connect`;

/** The cloud's URL as the agent reaches it: the public URL the package's download link carries, else this page's origin. */
export function cloudUrlOf(downloadUrl: string | null | undefined): string {
  const fromPackage = downloadUrl ? /^(https?:\/\/.+?)\/api\/v1\/agents\/package\/download$/.exec(downloadUrl)?.[1] : undefined;
  return fromPackage ?? window.location.origin;
}

export const verifyCommand = (fileName: string, sha256: string) => `echo "${sha256}  ${fileName}" | sha256sum --check`;

export const unpackCommand = (fileName: string) => [
  `sudo mkdir -p ${installDirectory}`,
  `sudo tar -xzf ${fileName} -C ${installDirectory} --strip-components=1`,
  `${installDirectory}/skybridge --version`,
].join('\n');

export const setupCommand = `${agentCommand} setup`;
/** With the pin of the cloud's certificate when it has one, so that an agent trusts a self-signed cloud without a CA file. */
export const registerCommand = (token: string, pin?: string | null) => `${agentCommand} register --token ${token}${pin ? ` --pin ${pin}` : ''}`;
export const prepareAdCommand = `${agentCommand} prepare-ad --admin ADMINISTRATOR --dry-run\n${agentCommand} prepare-ad --admin ADMINISTRATOR`;
export const doctorCommand = `${agentCommand} doctor`;
export const firstSyncCommand = `${agentCommand} sync\n${agentCommand} run`;
