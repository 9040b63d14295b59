import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { sambaAvailable } from '../../../../scripts/test-dc/test-dc.ts';

/** What the demo's domain controller needs from Debian: the DC itself, Kerberos tools, LDAP tools, Samba's Python bindings. */
export const sambaPackages = ['samba-ad-dc', 'winbind', 'krb5-user', 'ldap-utils', 'python3-samba'] as const;
const installCommand = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${sambaPackages.join(' ')}`;

export class DemoError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Makes sure the Samba AD DC packages are there. Installs them with apt-get
 * when they are missing, the process runs as root and `install` allows it;
 * otherwise says which command to run. Debian starts Samba's own daemons on
 * install; they are stopped, since the demo runs its DC on a loopback address
 * of its own.
 */
export async function ensureSambaPackages(options: { install: boolean; log: (line: string) => void }): Promise<'present' | 'installed'> {
  if (sambaAvailable()) return 'present';
  const canInstall = options.install && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  if (!canInstall) {
    throw new DemoError('demo_samba_missing', `the demo runs a real Samba AD domain controller, and Samba is not installed: run (as root) ${installCommand}${options.install ? '' : ', or drop --no-install'}`);
  }
  options.log(`installing ${sambaPackages.join(', ')} with apt-get (once; about a minute)`);
  await run('apt-get', ['update', '-qq']);
  await run('apt-get', ['install', '-y', '-qq', ...sambaPackages], { DEBIAN_FRONTEND: 'noninteractive' });
  for (const svc of ['samba-ad-dc', 'smbd', 'nmbd', 'winbind']) {
    if (existsSync(`/etc/init.d/${svc}`)) await run(`/etc/init.d/${svc}`, ['stop']).catch(() => undefined);
  }
  if (!sambaAvailable()) throw new DemoError('demo_samba_missing', `apt-get finished but /usr/sbin/samba or /usr/bin/samba-tool is still missing: run ${installCommand} and read its errors`);
  return 'installed';
}

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new DemoError('demo_install_failed', `${command} ${args.join(' ')} exited with ${code}: ${stderr.trim()}`))));
  });
}
