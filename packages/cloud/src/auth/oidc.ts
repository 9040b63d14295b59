import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import Provider, { errors as oidcErrors, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { adminCenterClientId, apiResource } from '@skybridge/protocol';
import type { Store } from '../store/store.ts';
import { TenantOidcAdapter } from './oidc-adapter.ts';
import { loadSigningKeys } from './signing-keys.ts';
import { verifySecret } from './secrets.ts';
import type { Logger } from '../logger.ts';
import { SyncThrottle } from '../sync/throttle.ts';
import { userById, userClaims } from '../signin/account.ts';
import { recordSignIn } from '../signin/sign-in-log.ts';
import { loggedOutPage, logoutPage } from '../signin/pages.ts';
import { applicationAccess } from '../routes/applications.ts';

export interface OidcOptions {
  store: Store;
  /** External base URL of the cloud, such as https://login.example.com */
  publicUrl: string;
  cookieKeys: string[];
  /** Trust X-Forwarded-* headers (behind a reverse proxy). */
  trustProxy: boolean;
  logger: Logger;
}

/** Lifetime of access tokens for the cloud's APIs, in seconds. */
export const accessTokenTtl = 3600;

/**
 * One OpenID Connect provider per tenant, each with the issuer
 * `{publicUrl}/{tenantId}/v2.0` (brief §8), built on demand from the tenant's
 * keys and clients and kept while the process runs.
 */
export class OidcProviders {
  readonly #options: OidcOptions;
  readonly #providers = new Map<string, { provider: Promise<Provider>; at: number }>();
  /** sign-in attempts per tenant and source address (the same token bucket as sync throttling) */
  readonly signInThrottle = new SyncThrottle();

  constructor(options: OidcOptions) {
    this.#options = options;
  }

  get audience(): string {
    return apiResource(this.#options.publicUrl);
  }

  issuer(tenantId: string): string {
    return `${this.#options.publicUrl}/${tenantId}/v2.0`;
  }

  get(tenantId: string): Promise<Provider> {
    const cached = this.#providers.get(tenantId);
    // rebuilt every five minutes, so that keys rotated by another cloud process are used here too
    if (cached && Date.now() - cached.at < 5 * 60_000) return cached.provider;
    const provider = this.#create(tenantId);
    provider.catch(() => this.#providers.delete(tenantId));
    this.#providers.set(tenantId, { provider, at: Date.now() });
    return provider;
  }

  /** A form's anti-forgery token, bound to its interaction. */
  csrfToken(uid: string): string {
    return createHmac('sha256', this.#options.cookieKeys[0]!).update(`csrf:${uid}`).digest('base64url');
  }

  checkCsrf(uid: string, token: string | null): boolean {
    const want = Buffer.from(this.csrfToken(uid));
    const got = Buffer.from(token ?? '');
    return want.length === got.length && timingSafeEqual(want, got);
  }

  /** The address a request comes from: the socket's, or the first X-Forwarded-For hop behind a trusted proxy. */
  clientAddress(req: IncomingMessage): string {
    const forwarded = this.#options.trustProxy ? String(req.headers['x-forwarded-for'] ?? '').split(',')[0]!.trim() : '';
    return (forwarded || req.socket.remoteAddress || 'unknown').replace(/^::ffff:/, '');
  }

  /** Forget a tenant's provider so that the next request rebuilds it (after key rotation). */
  invalidate(tenantId: string): void {
    this.#providers.delete(tenantId);
  }

  /** Serves a request under `/{tenantId}/v2.0`; `rest` is the path below it. */
  async handle(req: IncomingMessage, res: ServerResponse, tenantId: string, rest: string): Promise<void> {
    const provider = await this.get(tenantId);
    const original = req.url ?? '/';
    const query = original.includes('?') ? original.slice(original.indexOf('?')) : '';
    // Mount as Express would: the provider sees the path below its issuer and
    // derives its mount path from originalUrl.
    (req as IncomingMessage & { originalUrl?: string }).originalUrl = `/${tenantId}/v2.0${rest}${query}`;
    req.url = `${rest || '/'}${query}`;
    provider.callback()(req, res);
  }

  async #create(tenantId: string): Promise<Provider> {
    const { store, logger } = this.#options;
    const keys = await loadSigningKeys(store, tenantId);
    if (keys.length === 0) throw new Error(`tenant ${tenantId} has no signing keys`);
    const audience = this.audience;
    const configuration: Configuration = {
      adapter: (name: string) => new TenantOidcAdapter(store, tenantId, name, this.#options.publicUrl),
      jwks: { keys: keys as never },
      cookies: { keys: this.#options.cookieKeys },
      // 'none': the admin center, a public client (PKCE); every other client authenticates
      clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
      enabledJWA: { clientAuthSigningAlgValues: ['ES256', 'RS256', 'PS256'] },
      scopes: ['openid', 'profile', 'email', 'offline_access', 'api'],
      claims: { openid: ['sub', 'oid', 'tid'], profile: ['name', 'preferred_username', 'upn', 'onprem_immutable_id'], email: ['email'] },
      // the ID token carries the user's claims itself (object id, UPN, immutable id), as Entra ID's does
      conformIdTokenClaims: false,
      findAccount: async (_ctx, sub) => {
        const user = await userById(store, tenantId, sub);
        // a deleted or disabled user's session signs nobody in any more
        if (!user || !user.account_enabled) return undefined;
        return { accountId: user.id, claims: async () => userClaims(tenantId, user) as { sub: string } };
      },
      interactions: {
        url: (_ctx, interaction) => `${this.issuer(tenantId)}/interaction/${interaction.uid}`,
        policy: signInPolicy(store, tenantId),
      },
      // applications an administrator registered are consented for the tenant's users;
      // the admin center (first party) is consented to call the cloud's APIs as the user
      loadExistingGrant: async (ctx) => {
        const clientId = ctx.oidc.client!.clientId;
        const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session!.grantIdFor(clientId);
        if (grantId) return ctx.oidc.provider.Grant.find(grantId);
        const adminCenter = clientId === adminCenterClientId;
        if ((!clientId.startsWith('app-') && !adminCenter) || !ctx.oidc.session?.accountId) return undefined;
        const grant = new ctx.oidc.provider.Grant({ clientId, accountId: ctx.oidc.session.accountId });
        grant.addOIDCScope('openid profile email');
        if (adminCenter) grant.addResourceScope(audience, 'api');
        await grant.save();
        return grant;
      },
      pkce: { required: () => true },
      ttl: { ClientCredentials: accessTokenTtl, AccessToken: accessTokenTtl, AuthorizationCode: 60, IdToken: 3600, Interaction: 900, Session: 12 * 3600, Grant: 14 * 24 * 3600, RefreshToken: 14 * 24 * 3600 },
      features: {
        devInteractions: { enabled: false },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: async (ctx, form) => { ctx.body = logoutPage({ form, host: ctx.host }); },
          postLogoutSuccessSource: async (ctx) => { ctx.body = loggedOutPage(); },
        },
        clientCredentials: { enabled: true },
        introspection: { enabled: false },
        revocation: { enabled: true },
        resourceIndicators: {
          enabled: true,
          // API clients, agents and the admin center get tokens for the cloud's APIs; a user signing in to an app gets none (only its userinfo)
          defaultResource: (ctx) => (ctx.oidc.params?.grant_type === 'client_credentials' || ctx.oidc.client?.clientId === adminCenterClientId ? audience : undefined) as string,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, resource) => {
            if (resource !== audience) throw new oidcErrors.InvalidTarget(`unknown resource: use ${audience}`);
            return {
              scope: 'api',
              audience,
              accessTokenTTL: accessTokenTtl,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: 'ES256' } },
            };
          },
        },
      },
      extraTokenClaims: () => ({ tid: tenantId }),
      // client assertions (private_key_jwt) are single use: oidc-provider records their jti (ReplayDetection)
      clockTolerance: 5,
    };
    const provider = new Provider(this.issuer(tenantId), configuration);
    provider.proxy = this.#options.trustProxy;
    // Client secrets are stored as hashes: compare by hashing what was presented.
    const clientProto = provider.Client.prototype as unknown as { clientSecret: string; compareClientSecret(actual: string): boolean };
    clientProto.compareClientSecret = function compare(this: { clientSecret: string }, actual: string) {
      return verifySecret(this.clientSecret, actual);
    };
    provider.on('server_error', (_ctx, err) => logger.error({ err, tenantId }, 'oidc provider error'));
    // single sign-on: an authorization answered from the session, with no sign-in page, is logged too
    provider.on('authorization.success', (ctx: KoaContextWithOIDC) => {
      if (ctx.oidc.result?.login || !ctx.oidc.session?.accountId) return;
      void recordSignIn(store, tenantId, {
        userId: ctx.oidc.session.accountId, userPrincipalName: null, clientId: ctx.oidc.client?.clientId ?? null, method: 'single_sign_on', result: 'success',
        sourceIp: this.clientAddress(ctx.req), userAgent: ctx.get('user-agent') || null,
      }).catch((err: unknown) => logger.warn({ err, tenantId }, 'sign-in log write failed'));
    });
    provider.on('grant.error', (_ctx, err) => logger.info({ tenantId, error: (err as Error).message }, 'token request refused'));
    return provider;
  }
}

/**
 * oidc-provider's prompts (login, consent) and one of ours: an application
 * that requires a service plan admits only users whose licences include it.
 */
function signInPolicy(store: Store, tenantId: string) {
  const { Prompt, Check, base } = interactionPolicy;
  const policy = base();
  policy.add(new Prompt(
    { name: 'licence', requestable: false },
    new Check('licence_required', 'the application requires a licence the user does not hold', async (ctx) => {
      const accountId = ctx.oidc.session?.accountId;
      const clientId = ctx.oidc.client?.clientId ?? '';
      if (!accountId || !clientId.startsWith('app-')) return Check.NO_NEED_TO_PROMPT;
      const access = await applicationAccess(store, tenantId, clientId, accountId).catch(() => ({ allowed: false }));
      return access.allowed ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    }),
  ));
  return policy;
}
