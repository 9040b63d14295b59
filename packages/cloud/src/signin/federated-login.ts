/**
 * What both federation protocols do once an identity provider answered: the
 * waiting sign-in is found from server-side state that works once, the user
 * is found by the immutable id the provider asserts (on the federated
 * domain), the attempt is logged, and the interaction finishes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { CloudContext } from '../context.ts';
import type { DomainRow } from '../domains/domains.ts';
import { recordSignIn } from './sign-in-log.ts';
import { messagePage, pageHeaders } from './pages.ts';
import { userById } from './account.ts';

export interface FederationContext {
  cloud: CloudContext;
  provider: Provider;
  tenantId: string;
  req: IncomingMessage;
  res: ServerResponse;
}

export function page(res: ServerResponse, status: number, title: string, message: string): void {
  res.writeHead(status, pageHeaders);
  res.end(messagePage(title, message));
}

export function federationLog(f: FederationContext, e: { userId?: string | null; upn?: string | null; clientId?: string | null; result: 'success' | 'failure'; errorCode?: string }) {
  return recordSignIn(f.cloud.store, f.tenantId, {
    userId: e.userId ?? null, userPrincipalName: e.upn ?? null, clientId: e.clientId ?? null, method: 'federated', result: e.result, errorCode: e.errorCode ?? null,
    sourceIp: f.cloud.oidc.clientAddress(f.req), userAgent: f.req.headers['user-agent'] ?? null,
  });
}

/** How long a sign-in waits for its identity provider's answer. */
export const federationTtlSeconds = 600;

/** Records a sign-in handed to an identity provider, under the state (or SAML request id) its answer must carry. */
export async function savePending(cloud: CloudContext, tenantId: string, p: { state: string; uid: string; domain: string; nonce?: string; codeVerifier?: string }): Promise<void> {
  await cloud.store.query(
    `INSERT INTO federation_states (state, tenant_id, interaction_uid, domain, nonce, code_verifier, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))`,
    [p.state, tenantId, p.uid, p.domain, p.nonce ?? '', p.codeVerifier ?? '', federationTtlSeconds],
  );
}

export interface Pending {
  state: string;
  interaction: InstanceType<Provider['Interaction']>;
  clientId: string;
  domain: DomainRow;
  nonce: string;
  codeVerifier: string;
}

/** Takes the state of a waiting sign-in (it goes whatever happens next); answers the browser and returns null when it cannot be used. */
export async function takePending(f: FederationContext, state: string, protocol: 'oidc' | 'saml'): Promise<Pending | null> {
  const { rows } = await f.cloud.store.query<{ interaction_uid: string; domain: string; nonce: string; code_verifier: string }>(
    'DELETE FROM federation_states WHERE state = $1 AND tenant_id = $2 AND expires_at > now() RETURNING interaction_uid, domain, nonce, code_verifier',
    [state, f.tenantId],
  );
  const row = rows[0];
  if (!row) {
    await federationLog(f, { result: 'failure', errorCode: 'federation_state_invalid' });
    page(f.res, 400, 'Sign-in expired', 'This answer from your organisation\'s sign-in was already used or came too late. Go back to the application and sign in again.');
    return null;
  }
  const interaction = await f.provider.Interaction.find(row.interaction_uid);
  if (!interaction) {
    page(f.res, 400, 'Sign-in expired', 'This sign-in expired. Go back to the application and sign in again.');
    return null;
  }
  const { rows: domains } = await f.cloud.store.query<DomainRow>(
    `SELECT * FROM domains WHERE tenant_id = $1 AND name = $2 AND verified AND authentication = 'federated'`, [f.tenantId, row.domain]);
  if (domains[0]?.federation?.protocol !== protocol) {
    page(f.res, 400, 'Sign-in not available', 'This domain is not federated this way any more. Go back to the application and sign in again.');
    return null;
  }
  return { state, interaction, clientId: String(interaction.params.client_id), domain: domains[0], nonce: row.nonce, codeVerifier: row.code_verifier };
}

/** The provider vouched for `immutableId`: sign that user in, if it is one of the domain's and enabled. */
export async function completeFederatedLogin(f: FederationContext, pending: Pending, immutableId: unknown): Promise<void> {
  const { rows } = typeof immutableId === 'string'
    ? await f.cloud.store.query<{ id: string }>(
      `SELECT id FROM directory_objects WHERE tenant_id = $1 AND object_type = 'user' AND immutable_id = $2 AND deleted_at IS NULL`, [f.tenantId, immutableId])
    : { rows: [] };
  const user = rows[0] ? await userById(f.cloud.store, f.tenantId, rows[0].id) : undefined;
  if (!user || !user.upn.toLowerCase().endsWith(`@${pending.domain.name}`)) {
    await federationLog(f, { clientId: pending.clientId, result: 'failure', errorCode: 'federation_unknown_user' });
    return page(f.res, 403, 'Sign-in failed', 'Your organisation signed you in, but there is no account for you here. Contact your administrator.');
  }
  if (!user.account_enabled) {
    await federationLog(f, { clientId: pending.clientId, result: 'failure', errorCode: 'account_disabled', userId: user.id, upn: user.upn });
    return page(f.res, 403, 'Sign-in failed', 'Your account is disabled. Contact your administrator.');
  }
  await federationLog(f, { clientId: pending.clientId, result: 'success', userId: user.id, upn: user.upn });
  pending.interaction.result = { login: { accountId: user.id, amr: ['fed'] } };
  await pending.interaction.save(pending.interaction.exp - Math.floor(Date.now() / 1000));
  f.res.writeHead(303, { location: pending.interaction.returnTo, 'cache-control': 'no-store' });
  f.res.end();
}

export const refusedAnswer = (f: FederationContext) => page(f.res, 400, 'Sign-in failed', 'Your organisation\'s sign-in answered something this service cannot accept. Try again; if it goes on, tell your administrator.');
