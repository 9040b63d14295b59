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
import { completeFederatedLogin, federationLog, federationTtlSeconds, page, refusedAnswer, savePending, takePending, type FederationContext } from './federated-login.ts';
import { readForm } from './form.ts';

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
    requestIdExpirationPeriodMs: federationTtlSeconds * 1000,
    cacheProvider: oneRequest(requestId),
    ...(requestId ? { generateUniqueId: () => requestId } : {}),
  });
}

export async function startSamlSignIn(cloud: CloudContext, tenantId: string, uid: string, domain: DomainRow, res: ServerResponse): Promise<void> {
  const f = domain.federation;
  if (!f || f.protocol !== 'saml') throw new Error(`${domain.name} is not federated over SAML`);
  const requestId = `_${randomBytes(20).toString('hex')}`;
  await savePending(cloud, tenantId, { state: requestId, uid, domain: domain.name });
  const url = await samlFor(cloud, tenantId, f, requestId).getAuthorizeUrlAsync(requestId, undefined, {});
  res.writeHead(303, { location: url, 'cache-control': 'no-store' });
  res.end();
}

/** The identity provider's Response: checked, the user found by NameID, the waiting interaction finished. */
export async function handleSamlResponse(cloud: CloudContext, provider: Provider, tenantId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const f: FederationContext = { cloud, provider, tenantId, req, res };
  if (req.method !== 'POST') return page(res, 405, 'Not allowed', 'Your organisation\'s sign-in posts its answer here.');
  let form: URLSearchParams;
  try {
    form = await readForm(req, 512 * 1024);
  } catch {
    return page(res, 413, 'Sign-in failed', 'The answer of your organisation\'s sign-in was too large.');
  }
  const pending = await takePending(f, form.get('RelayState') ?? '', 'saml');
  if (!pending) return;
  let nameId: string;
  try {
    const { profile } = await samlFor(cloud, tenantId, pending.domain.federation as SamlFederation, pending.state).validatePostResponseAsync({ SAMLResponse: form.get('SAMLResponse') ?? '' });
    if (!profile?.nameID) throw new Error('the Response carries no NameID');
    nameId = profile.nameID;
  } catch (err) {
    cloud.logger.info({ tenantId, domain: pending.domain.name, error: (err as Error).message }, 'SAML response refused');
    await federationLog(f, { clientId: pending.clientId, result: 'failure', errorCode: 'federation_saml_invalid' });
    return refusedAnswer(f);
  }
  await completeFederatedLogin(f, pending, nameId);
}
