/**
 * Runs a test domain controller until interrupted, for trying the agent by hand.
 *
 *   node scripts/test-dc/main.ts [--seed small|empty] [--agent-dir DIR] [--ip 127.66.1.2]
 *
 * Prints the DC's address, realm, CA file and accounts, writes an agent
 * configuration for it (`DIR/connect.yaml` and `DIR/ad-password`, default
 * `./.skybridge/test-dc-agent`), and stops the DC (removing its copy) on
 * Ctrl-C or SIGTERM. The template is built on first use (about 5 s, plus
 * seeding) and reused afterwards.
 */
import { parseArgs } from 'node:util';
import { smallSeed } from './seed.ts';
import { sambaAvailable, startTestDc } from './test-dc.ts';
import { writeAgentFiles } from './agent-files.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: 'small' },
    'agent-dir': { type: 'string', default: '.skybridge/test-dc-agent' },
    ip: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: node scripts/test-dc/main.ts [--seed small|empty] [--agent-dir DIR] [--ip 127.x.y.z]');
  process.exit(0);
}
if (!['small', 'empty'].includes(values.seed)) {
  console.error(`test-dc: --seed must be small or empty, not ${values.seed}`);
  process.exit(2);
}
if (!sambaAvailable()) {
  console.error('test-dc: Samba AD DC is not installed; run: apt-get install samba-ad-dc winbind krb5-user ldap-utils python3-samba');
  process.exit(2);
}

process.stderr.write('test-dc: starting (the first start builds the template)\n');
const dc = await startTestDc({ ...(values.seed === 'small' ? { seed: smallSeed } : {}), ...(values.ip ? { ip: values.ip } : {}) });
const files = writeAgentFiles(dc, {}, { dir: values['agent-dir'] });
console.log(`domain controller  ${dc.hostName} on ${dc.ip} (realm ${dc.realm}, base ${dc.baseDn})
LDAPS              ${dc.ldapsUrl}   (LDAP with StartTLS: ${dc.ldapUrl})
CA certificate     ${dc.caFile}
administrator      ${dc.admin.userPrincipalName}  ${dc.admin.password}
connector account  ${dc.connector.userPrincipalName}  (Replicating Directory Changes only)
agent config       ${files.configPath}
  try: ./skybridge connect import --config ${files.configPath}
Ctrl-C stops the DC and removes its copy.`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  process.stderr.write('\ntest-dc: stopping\n');
  await dc.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
setInterval(() => {}, 1 << 30);
