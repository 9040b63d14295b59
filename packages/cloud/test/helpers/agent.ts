import type { CreatedTenant } from '@skybridge/cloud';
import { CloudClient, registerAgent } from '@skybridge/connect';
import type { TestCloud } from './cloud.ts';

/** Registers a real agent (key pair, one-time token, private-key JWT) and returns its client. */
export async function registerTestAgent(t: TestCloud, tenant: CreatedTenant, adminToken: string, hostname = 'dc-sync-01'): Promise<CloudClient> {
  const res = await t.call('POST', '/api/v1/agents/registration-tokens', { token: adminToken });
  if (res.status !== 201) throw new Error(`registration token: ${res.status} ${JSON.stringify(res.body)}`);
  const credentials = await registerAgent({ cloudUrl: t.url, registrationToken: res.body.registrationToken, hostname, version: '0.1.0', trust: { ca: t.trust.ca } });
  return new CloudClient(credentials);
}
