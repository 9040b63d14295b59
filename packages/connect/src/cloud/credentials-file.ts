/**
 * The agent's credentials on disk: written once by `skybridge connect
 * register`, mode 0600, replaced atomically; read at every cycle. They hold
 * the agent's private key, so a file other accounts can read is refused.
 */
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConnectError } from '../errors.ts';
import { readSecretFile } from '../config/secret-file.ts';
import { agentCredentials, type AgentCredentials } from './credentials.ts';

export function saveCredentials(path: string, credentials: AgentCredentials): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

export function loadCredentials(path: string): AgentCredentials {
  if (!existsSync(path)) {
    throw new ConnectError('sync_not_registered', `this agent is not registered: ${path} does not exist`, { subject: path, fix: 'get a registration token in the admin center (or POST /api/v1/agents/registration-tokens) and run skybridge connect register --token …' });
  }
  const text = readSecretFile(path, 'cloud.credentialsFile');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConnectError('config_invalid', `${path} is not the JSON that skybridge connect register writes`, { subject: path, fix: 'register the agent again' });
  }
  const checked = agentCredentials.safeParse(parsed);
  if (!checked.success) throw new ConnectError('config_invalid', `${path} is not valid agent credentials (${checked.error.issues[0]!.path.join('.')}: ${checked.error.issues[0]!.message})`, { subject: path, fix: 'register the agent again' });
  return checked.data;
}

export const readPem = (path: string): string => readFileSync(path, 'utf8');
