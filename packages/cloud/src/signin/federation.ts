/**
 * Federated domains: the sign-in of a user whose domain is federated goes to
 * the domain's identity provider. OpenID Connect is built: authorization
 * code with PKCE, state and nonce, through openid-client (a certified
 * relying-party library), which checks the ID token's signature against the
 * provider's keys, its issuer, audience, expiry and nonce. The state is kept
 * server-side and works once, so an answer cannot be replayed. The user is
 * found by the immutable id the provider asserts (the sync source anchor),
 * as Entra ID does with federated domains. SAML 2.0 is not built yet: its
 * users get a sign-in page that says so.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { randomBytes } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import type Provider from 'oidc-provider';
import * as oidc from 'openid-client';
import type { CloudContext } from '../context.ts';
import { unseal } from '../auth/sealed.ts';
import type { DomainRow } from '../domains/domains.ts';
import { completeFederatedLogin, federationLog, refusedAnswer, savePending, takePending, type FederationContext } from './federated-login.ts';

const configs = new Map<string, { at: number; config: Promise<oidc.Configuration> }>();

/** fetch for openid-client through node:https, trusting the deployment's extra CA besides the system's */
function fetchFor(cloud: CloudContext) {
  return async (url: string, options: { method?: string; headers?: ConstructorParameters<typeof Headers>[0]; body?: unknown; signal?: AbortSignal }) => {
    const target = new URL(url);
    if (target.protocol !== 'https:') throw new Error(`identity providers are reached over https only, not ${target.origin}`);
    const headers = Object.fromEntries(new Headers(options.headers).entries());
    return new Promise<Response>((resolve, reject) => {
      const req = httpsRequest(target, { method: options.method ?? 'GET', headers, timeout: 10_000, ...(cloud.outboundCa ? { ca: [...rootCertificates, cloud.outboundCa] } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 1024 * 1024) req.destroy(new Error('the identity provider\'s answer is larger than 1 MiB'));
          else chunks.push(c);
        });
        res.on('end', () => {
          const out = new Headers();
          for (const [k, v] of Object.entries(res.headers)) for (const x of Array.isArray(v) ? v : v === undefined ? [] : [String(v)]) out.append(k, x);
          resolve(new Response([204, 304].includes(res.statusCode ?? 0) ? null : Buffer.concat(chunks), { status: res.statusCode ?? 502, headers: out }));
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${target.origin} did not answer within 10 s`)));
      req.on('error', reject);
      if (options.body != null) req.write(String(options.body));
      req.end();
    });
  };
}

type OidcFederation = Extract<NonNullable<DomainRow['federation']>, { protocol: 'oidc' }>;

function configFor(cloud: CloudContext, f: OidcFederation): Promise<oidc.Configuration> {
  const key = `${f.issuer}|${f.clientId}|${f.clientSecretSealed ?? ''}`;
  const cached = configs.get(key);
  if (cached && Date.now() - cached.at < 10 * 60_000) return cached.config;
  const auth = f.clientSecretSealed ? oidc.ClientSecretBasic(unseal(cloud.sealingKey, f.clientSecretSealed)) : oidc.None();
  const config = oidc.discovery(new URL(f.issuer), f.clientId, undefined, auth, { [oidc.customFetch]: fetchFor(cloud) as never, timeout: 10 });
  config.catch(() => configs.delete(key));
  configs.set(key, { at: Date.now(), config });
  return config;
}

const callbackOf = (cloud: CloudContext, tenantId: string) => `${cloud.oidc.issuer(tenantId)}/federation/callback`;

/** Sends the browser to the domain's identity provider; the interaction waits for its answer. */
export async function startFederatedSignIn(cloud: CloudContext, tenantId: string, uid: string, domain: DomainRow, username: string, res: ServerResponse): Promise<void> {
  const f = domain.federation;
  if (!f || f.protocol !== 'oidc') throw new Error(`${domain.name} is not federated over OpenID Connect`);
  const config = await configFor(cloud, f);
  const state = randomBytes(24).toString('base64url');
  const nonce = oidc.randomNonce();
  const verifier = oidc.randomPKCECodeVerifier();
  await savePending(cloud, tenantId, { state, uid, domain: domain.name, nonce, codeVerifier: verifier });
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: callbackOf(cloud, tenantId), scope: 'openid profile', state, nonce, login_hint: username,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  res.writeHead(303, { location: url.toString(), 'cache-control': 'no-store' });
  res.end();
}

/** The identity provider's answer: checked, the user found by immutable id, the waiting interaction finished. */
export async function handleFederationCallback(cloud: CloudContext, provider: Provider, tenantId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const f: FederationContext = { cloud, provider, tenantId, req, res };
  const url = new URL(req.url ?? '/', callbackOf(cloud, tenantId));
  const state = url.searchParams.get('state') ?? '';
  const pending = await takePending(f, state, 'oidc');
  if (!pending) return;
  const fed = pending.domain.federation as OidcFederation;
  let claims: Record<string, unknown>;
  try {
    const config = await configFor(cloud, fed);
    const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: pending.codeVerifier, expectedState: state, expectedNonce: pending.nonce, idTokenExpected: true });
    claims = (tokens.claims() ?? {}) as Record<string, unknown>;
  } catch (err) {
    const detail = (err as { error?: string; code?: string }).error ?? (err as { code?: string }).code ?? 'invalid_response';
    cloud.logger.info({ tenantId, domain: pending.domain.name, error: (err as Error).message }, 'federated sign-in answer refused');
    await federationLog(f, { clientId: pending.clientId, result: 'failure', errorCode: `federation_${detail}`.slice(0, 64) });
    return refusedAnswer(f);
  }
  await completeFederatedLogin(f, pending, claims[fed.immutableIdClaim ?? 'onprem_immutable_id']);
}
