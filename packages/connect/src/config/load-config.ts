import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ConnectError } from '../errors.ts';
import { agentConfigSchema, defaultConfigPath, type AgentConfig } from './agent-config.ts';
import { readSecretFile } from './secret-file.ts';

/** A loaded configuration: paths made absolute (relative to the file), secrets read. */
export interface LoadedConfig {
  path: string;
  config: AgentConfig;
  secrets: { adPassword: string };
}

/** The file to read: --config, else $SKYBRIDGE_CONNECT_CONFIG, else /etc/skybridge/connect.yaml. */
export const configPathFrom = (given?: string): string => resolve(given ?? process.env.SKYBRIDGE_CONNECT_CONFIG ?? defaultConfigPath);

/** `withoutSecrets`: the configuration alone, before its password file exists (prepare-ad writes it). */
export function loadConfig(path: string, options: { withoutSecrets?: boolean } = {}): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConnectError(code === 'ENOENT' ? 'config_not_found' : 'config_invalid', `cannot read the configuration file ${path} (${code ?? (err as Error).message})`, {
      subject: path,
      fix: code === 'ENOENT' ? `create it (see docs/connect-config.md), or pass --config FILE` : `make ${path} readable by the account that runs the agent`,
    });
  }
  return parseConfig(text, path, options);
}

export function parseConfig(text: string, path: string, options: { withoutSecrets?: boolean } = {}): LoadedConfig {
  let raw: unknown;
  try {
    raw = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
    throw new ConnectError('config_invalid', `${path}: not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}${where}: ${(err as Error).message.split('\n')[0]}`, {
      subject: path,
      fix: 'correct the syntax at that place',
    });
  }
  const parsed = agentConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) throw configError(path, parsed.error);
  const config = parsed.data;
  const base = dirname(path);
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  config.stateDirectory = abs(config.stateDirectory);
  config.activeDirectory.passwordFile = abs(config.activeDirectory.passwordFile);
  if (config.activeDirectory.tls.caFile) config.activeDirectory.tls.caFile = abs(config.activeDirectory.tls.caFile);
  if (config.cloud) {
    config.cloud.credentialsFile = abs(config.cloud.credentialsFile ?? join(config.stateDirectory, 'agent-credentials.json'));
    if (config.cloud.caFile) config.cloud.caFile = abs(config.cloud.caFile);
  }
  if (config.activeDirectory.tls.caFile && config.activeDirectory.tls.fingerprint) {
    throw new ConnectError('config_invalid', `${path}: activeDirectory.tls: give caFile or fingerprint, not both`, {
      subject: 'activeDirectory.tls', fix: 'keep the one you mean: caFile trusts a CA, fingerprint trusts exactly one certificate',
    });
  }
  const adPassword = options.withoutSecrets ? '' : readSecretFile(config.activeDirectory.passwordFile, 'activeDirectory.passwordFile');
  return { path, config, secrets: { adPassword } };
}

function configError(path: string, error: z.ZodError): ConnectError {
  const issues = error.issues.map((issue) => {
    const key = issue.path.join('.') || '(top level)';
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} (check the spelling; see docs/connect-config.md)`;
    if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) message = 'is required';
    return { key, message };
  });
  const first = issues[0]!;
  const text = issues.map((i) => `${i.key}: ${i.message}`).join('; ');
  return new ConnectError('config_invalid', `${path}: ${text}`, { subject: first.key, fix: `set ${first.key} as described` });
}
