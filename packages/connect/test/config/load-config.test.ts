/** The agent's configuration file: every mistake names the key and the fix. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.ts';
import { ConnectError } from '../../src/errors.ts';

function withConfig(text: string, name = 'connect.yaml', passwordMode = 0o600): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'skybridge-config-'));
  writeFileSync(join(dir, 'ad-password'), 'secret\n');
  chmodSync(join(dir, 'ad-password'), passwordMode);
  const path = join(dir, name);
  writeFileSync(path, text);
  return { path, dir };
}

const valid = `version: 1
stateDirectory: ./state
activeDirectory:
  servers: [ldaps://dc1.corp.example.com]
  bindAs: skybridge-connect@corp.example.com
  passwordFile: ./ad-password
`;

function failure(text: string, options: { name?: string; mode?: number } = {}): ConnectError {
  const { path, dir } = withConfig(text, options.name, options.mode);
  try {
    loadConfig(path);
  } catch (err) {
    assert.ok(err instanceof ConnectError);
    return err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.fail('the configuration should have been refused');
}

test('a valid file loads with defaults, relative paths resolved and the secret read', () => {
  const { path, dir } = withConfig(valid);
  const { config, secrets } = loadConfig(path);
  assert.equal(config.stateDirectory, join(dir, 'state'));
  assert.equal(config.activeDirectory.passwordFile, join(dir, 'ad-password'));
  assert.equal(config.activeDirectory.pageSize, 1000);
  assert.equal(config.activeDirectory.rangeStep, 1000);
  assert.equal(config.activeDirectory.changeTracking, 'auto');
  assert.equal(secrets.adPassword, 'secret');
  rmSync(dir, { recursive: true, force: true });
});

test('JSON works too', () => {
  const { path, dir } = withConfig(JSON.stringify({ version: 1, activeDirectory: { servers: ['ldap://dc1:389'], bindAs: 'CORP\\svc', passwordFile: 'ad-password' } }), 'connect.json');
  assert.equal(loadConfig(path).config.activeDirectory.servers[0], 'ldap://dc1:389');
  rmSync(dir, { recursive: true, force: true });
});

test('a missing file says where it looked', () => {
  assert.throws(() => loadConfig('/nonexistent/connect.yaml'), (err: ConnectError) => err.code === 'config_not_found' && /--config/.test(err.message));
});

test('a typo in a key is refused, naming the key', () => {
  const err = failure(valid.replace('bindAs', 'bindAS'));
  assert.equal(err.code, 'config_invalid');
  assert.match(err.message, /activeDirectory: unknown key bindAS/);
  assert.match(err.message, /activeDirectory\.bindAs: is required/);
});

test('a wrong version, URL or number names the key and what it must be', () => {
  assert.match(failure(valid.replace('version: 1', 'version: 2')).message, /version: must be 1/);
  const url = failure(valid.replace('ldaps://dc1.corp.example.com', 'https://dc1'));
  assert.equal(url.subject, 'activeDirectory.servers.0');
  assert.match(url.message, /ldaps:\/\/HOST\[:PORT\]/);
  assert.match(failure(`${valid}  pageSize: 0\n`).message, /activeDirectory\.pageSize/);
  assert.match(failure(`${valid}  containers: [Staff]\n`).message, /activeDirectory\.containers\.0: must be a distinguished name/);
  assert.match(failure(`${valid}  tls: { fingerprint: 12:34 }\n`).message, /activeDirectory\.tls\.fingerprint: must be the SHA-256 fingerprint/);
});

test('a YAML syntax error gives the line', () => {
  const err = failure(`${valid}  containers: [unclosed\n`);
  assert.match(err.message, /not valid YAML at line \d+/);
});

test('a password file other accounts can read is refused', () => {
  const err = failure(valid, { mode: 0o644 });
  assert.equal(err.code, 'secret_file_insecure');
  assert.equal(err.subject, 'activeDirectory.passwordFile');
  assert.match(err.message, /mode 0644/);
  assert.match(err.fix ?? '', /chmod 600/);
});

test('caFile and fingerprint together are refused', () => {
  const err = failure(`${valid}  tls: { caFile: ca.pem, fingerprint: "${'ab'.repeat(32)}" }\n`);
  assert.equal(err.subject, 'activeDirectory.tls');
});

test('custom rules and filters are checked when the file loads: expressions, attributes, precedence', () => {
  const withRules = (rules: string) => `${valid}sync:\n${rules}`;
  const badExpression = failure(withRules(`  rules:\n    - { name: Titles, objectType: user, precedence: 10, attributes: { jobTitle: 'UCase(title' } }\n`));
  assert.equal(badExpression.code, 'config_invalid');
  assert.match(badExpression.message, /sync\.rules\.0\.attributes\.jobTitle: Expected \) .*in "UCase\(title"/);
  const unknownFunction = failure(withRules(`  filter:\n    exclude: ['Upper(title) == "X"']\n`));
  assert.match(unknownFunction.message, /sync\.filter\.exclude\.0: there is no function Upper\(\)/);
  const unknownAttribute = failure(withRules(`  rules:\n    - { name: Office, objectType: contact, precedence: 10, attributes: { jobTitle: title } }\n`));
  assert.match(unknownAttribute.message, /rule "Office": a contact has no cloud attribute jobTitle that rules can set \(they can set: .*displayName/);
  const samePrecedence = failure(withRules(`  rules:\n    - { name: A, objectType: user, precedence: 10, attributes: { jobTitle: title } }\n    - { name: B, objectType: user, precedence: 10, attributes: { department: title } }\n`));
  assert.match(samePrecedence.message, /rule "B" has the same precedence \(10\) as rule "A"/);
  const { path, dir } = withConfig(withRules(`  rules:\n    - name: Titles\n      objectType: user\n      precedence: 10\n      scope: department == "Sales"\n      attributes: { jobTitle: UCase(title) }\n  filter:\n    groups: ['CN=Cloud Users,OU=Groups,DC=corp,DC=example,DC=com']\n    exclude: ['extensionAttribute15 == "NoSync"']\n`));
  try {
    const { config } = loadConfig(path);
    assert.equal(config.sync.rules[0]!.scope, 'department == "Sales"');
    assert.deepEqual(config.sync.filter.exclude, ['extensionAttribute15 == "NoSync"']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stamping mS-DS-ConsistencyGuid needs it as the source anchor', () => {
  const err = failure(`${valid}sync:\n  stampConsistencyGuid: true\n`);
  assert.match(err.message, /sync\.stampConsistencyGuid: stamps only with sourceAnchor: mS-DS-ConsistencyGuid/);
});
