import type { IncomingMessage, ServerResponse } from 'node:http';
import Provider, { errors as oidcErrors, type Configuration } from 'oidc-provider';
import { apiResource } from '@skybridge/protocol';
import type { Store } from '../store/store.ts';
import { TenantOidcAdapter } from './oidc-adapter.ts';
import { loadSigningKeys } from './signing-keys.ts';
import { verifySecret } from './secrets.ts';
import type { Logger } from '../logger.ts';

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
  readonly #providers = new Map<string, Promise<Provider>>();

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
    let provider = this.#providers.get(tenantId);
    if (!provider) {
      provider = this.#create(tenantId);
      provider.catch(() => this.#providers.delete(tenantId));
      this.#providers.set(tenantId, provider);
    }
    return provider;
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
      adapter: (name: string) => new TenantOidcAdapter(store, tenantId, name),
      jwks: { keys: keys as never },
      cookies: { keys: this.#options.cookieKeys },
      clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      enabledJWA: { clientAuthSigningAlgValues: ['ES256', 'RS256', 'PS256'] },
      scopes: ['openid', 'offline_access', 'api'],
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: false },
        revocation: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => audience,
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
      ttl: { ClientCredentials: accessTokenTtl },
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
    provider.on('grant.error', (_ctx, err) => logger.info({ tenantId, error: (err as Error).message }, 'token request refused'));
    return provider;
  }
}
