import { readFileSync, statSync } from 'node:fs';
import { ConnectError } from '../errors.ts';

/**
 * Reads a secret kept in a file of its own. The file must be readable by its
 * owner only (mode 0600 or 0400): a secret that other accounts can read is
 * refused, never used. One trailing newline is removed.
 */
export function readSecretFile(path: string, key: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw new ConnectError('secret_file_unreadable', `${key}: cannot read the secret file ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, {
      subject: key,
      fix: `create ${path} holding only the secret, owned by the account that runs the agent, with mode 0600 (chmod 600 ${path})`,
    });
  }
  if ((mode & 0o077) !== 0) {
    throw new ConnectError('secret_file_insecure', `${key}: the secret file ${path} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}, so other accounts can read it`, {
      subject: key,
      fix: `chmod 600 ${path}`,
    });
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConnectError('secret_file_unreadable', `${key}: cannot read the secret file ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, {
      subject: key,
      fix: `make ${path} readable by the account that runs the agent (chown it to that account, mode 0600)`,
    });
  }
  const secret = text.replace(/\r?\n$/, '');
  if (!secret) throw new ConnectError('config_invalid', `${key}: the secret file ${path} is empty`, { subject: key, fix: `write the secret into ${path}` });
  return secret;
}
