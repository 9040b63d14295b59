/**
 * Federated domains over SAML 2.0: the user is sent to the domain's identity
 * provider with an AuthnRequest (HTTP-Redirect binding); its Response comes
 * back by HTTP-POST to `/{tenant}/v2.0/federation/saml`. node-saml (the
 * library behind passport-saml) checks the assertion's signature against the
 * provider's certificate, the issuer, the audience (this tenant), the
 * conditions' validity window and that the Response answers the request this
 * sign-in sent (InResponseTo). The request id is kept server-side and works
 * once, so a Response cannot be replayed. The NameID is the user's immutable
 * id, as Entra ID expects of federated domains.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type Provider from 'oidc-provider';
import { SAML, ValidateInResponseTo, type CacheProvider } from '@node-saml/node-saml';
import type { CloudContext } from '../context.ts';
import type { DomainRow } from '../domains/domains.ts';
import { recordSignIn } from './sign-in-log.ts';
import { messagePage, pageHeaders } from './pages.ts';
import { userById } from './account.ts';

const requestTtlSeconds = 600;
type SamlFederation = Extract<NonNullable<DomainRow['federation']>, { protocol: 'saml' }>;

/** This tenant as a SAML service provider: its entity id and where Responses are posted. */
export const samlServiceProvider = (cloud: CloudContext, tenantId: string) => ({ entityId: cloud.oidc.issuer(tenantId), acs: `${cloud.oidc.issuer(tenantId)}/federation/saml` });

/** A cache holding the one request id this Response may answer (already checked and spent in the store). */
function oneRequest(id: string | null): CacheProvider {
  let pending = id;
  return {
    saveAsync: async (key, value) => ({ value, createdAt: Date.now(), key }) as never,
    getAsync: async (key) => (key === pending ? new Date().toISOString() : null),
    removeAsync: async (key) => {
      if (key !== pending) return null;
      pending = null;
      return key;
    },
  };
}

function samlFor(cloud: CloudContext, tenantId: string, f: SamlFederation, requestId: string | null): SAML {
  const sp = samlServiceProvider(cloud, tenantId);
  return new SAML({
    issuer: sp.entityId,
    callbackUrl: sp.acs,
    entryPoint: f.passiveSignInUri,
    idpCert: f.signingCertificate.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, ''),
    idpIssuer: f.issuerUri,
    audience: sp.entityId,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    identifierFormat: null,
    acceptedClockSkewMs: 60_000,
    validateInResponseTo: ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: requestTtlSeconds * 1000,
    cacheProvider: oneRequest(requestId),
    ...(requestId ? { generateUniqueId: () => requestId } : {}),
  });
}

export async function startSamlSignIn(cloud: CloudContext, tenantId: string, uid: string, domain: DomainRow, res: ServerResponse): Promise<void> {
  const f = domain.federation;
  if (!f || f.protocol !== 'saml') throw new Error(`${domain.name} is not federated over SAML`);
  const requestId = `_${randomBytes(20).toString('hex')}`;
  await cloud.store.query(
    `INSERT INTO federation_states (state, tenant_id, interaction_uid, domain, nonce, code_verifier, expires_at)
     VALUES ($1, $2, $3, $4, '', '', now() + make_interval(secs => $5))`,
    [requestId, tenantId, uid, domain.name, requestTtlSeconds],
  );
  const url = await samlFor(cloud, tenantId, f, requestId).getAuthorizeUrlAsync(requestId, undefined, {});
  res.writeHead(303, { location: url, 'cache-control': 'no-store' });
  res.end();
}

async function readForm(req: IncomingMessage, limit = 512 * 1024): Promise<URLSearchParams> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('the SAML response is larger than 512 KiB');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** The identity provider's Response: checked, the user found by NameID, the waiting interaction finished. */
export async function handleSamlResponse(cloud: CloudContext, provider: Provider, tenantId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const page = (status: number, title: string, message: string) => {
    res.writeHead(status, pageHeaders);
    res.end(messagePage(title, message));
  };
  if (req.method !== 'POST') return page(405, 'Not allowed', 'Your organisation\'s sign-in posts its answer here.');
  const source = cloud.oidc.clientAddress(req);
  const log = (e: { userId?: string | null; upn?: string | null; clientId?: string | null; result: 'success' | 'failure'; errorCode?: string }) =>
    recordSignIn(cloud.store, tenantId, { userId: e.userId ?? null, userPrincipalName: e.upn ?? null, clientId: e.clientId ?? null, method: 'federated', result: e.result, errorCode: e.errorCode ?? null, sourceIp: source, userAgent: req.headers['user-agent'] ?? null });
  let form: URLSearchParams;
  try {
    form = await readForm(req);
  } catch {
    return page(413, 'Sign-in failed', 'The answer of your organisation\'s sign-in was too large.');
  }
  // single use: the request this Response answers is spent whatever happens next
  const { rows } = await cloud.store.query<{ state: string; interaction_uid: string; domain: string }>(
    'DELETE FROM federation_states WHERE state = $1 AND tenant_id = $2 AND expires_at > now() RETURNING state, interaction_uid, domain',
    [form.get('RelayState') ?? '', tenantId],
  );
  const pending = rows[0];
  if (!pending) {
    await log({ result: 'failure', errorCode: 'federation_state_invalid' });
    return page(400, 'Sign-in expired', 'This answer from your organisation\'s sign-in was already used or came too late. Go back to the application and sign in again.');
  }
  const interaction = await provider.Interaction.find(pending.interaction_uid);
  if (!interaction) return page(400, 'Sign-in expired', 'This sign-in expired. Go back to the application and sign in again.');
  const clientId = String(interaction.params.client_id);
  const { rows: domains } = await cloud.store.query<DomainRow>(`SELECT * FROM domains WHERE tenant_id = $1 AND name = $2 AND verified AND authentication = 'federated'`, [tenantId, pending.domain]);
  const f = domains[0]?.federation;
  if (!f || f.protocol !== 'saml') return page(400, 'Sign-in not available', 'This domain is not federated over SAML any more. Go back to the application and sign in again.');
  let nameId: string;
  try {
    const { profile } = await samlFor(cloud, tenantId, f, pending.state).validatePostResponseAsync({ SAMLResponse: form.get('SAMLResponse') ?? '' });
    if (!profile?.nameID) throw new Error('the Response carries no NameID');
    nameId = profile.nameID;
  } catch (err) {
    cloud.logger.info({ tenantId, domain: pending.domain, error: (err as Error).message }, 'SAML response refused');
    await log({ clientId, result: 'failure', errorCode: 'federation_saml_invalid' });
    return page(400, 'Sign-in failed', 'Your organisation\'s sign-in answered something this service cannot accept. Try again; if it goes on, tell your administrator.');
  }
  const { rows: users } = await cloud.store.query<{ id: string }>(
    `SELECT id FROM directory_objects WHERE tenant_id = $1 AND object_type = 'user' AND immutable_id = $2 AND deleted_at IS NULL`, [tenantId, nameId]);
  const user = users[0] ? await userById(cloud.store, tenantId, users[0].id) : undefined;
  if (!user || !user.upn.toLowerCase().endsWith(`@${pending.domain}`)) {
    await log({ clientId, result: 'failure', errorCode: 'federation_unknown_user' });
    return page(403, 'Sign-in failed', 'Your organisation signed you in, but there is no account for you here. Contact your administrator.');
  }
  if (!user.account_enabled) {
    await log({ clientId, result: 'failure', errorCode: 'account_disabled', userId: user.id, upn: user.upn });
    return page(403, 'Sign-in failed', 'Your account is disabled. Contact your administrator.');
  }
  await log({ clientId, result: 'success', userId: user.id, upn: user.upn });
  interaction.result = { login: { accountId: user.id, amr: ['fed'] } };
  await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
  res.writeHead(303, { location: interaction.returnTo, 'cache-control': 'no-store' });
  res.end();
}
