import { createLocalJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { adminCenterClientId, isRole, type Role } from '@skybridge/protocol';
import type { Store } from '../store/store.ts';
import { SkybridgeError } from '../http/problem.ts';
import { loadSigningKeys, publicJwk } from './signing-keys.ts';
import type { Principal } from './principal.ts';
import type { OidcProviders } from './oidc.ts';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Verifies bearer access tokens (JWTs from a tenant's token endpoint) and
 * resolves the caller. The signature is checked against the tenant's keys,
 * the issuer and audience must be this cloud's, and the client must still
 * exist and be enabled: disabling a client or removing a role takes effect
 * at once, not when its token expires. A token of the admin center carries a
 * user: the user must still exist and be enabled, and the caller gets the
 * roles that user holds now.
 */
export class AccessTokens {
  readonly #store: Store;
  readonly #oidc: OidcProviders;
  readonly #jwks = new Map<string, { at: number; jwks: ReturnType<typeof createLocalJWKSet> }>();

  constructor(store: Store, oidc: OidcProviders) {
    this.#store = store;
    this.#oidc = oidc;
  }

  async verify(authorization: string | null | undefined): Promise<Principal> {
    const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(authorization ?? '');
    if (!match) throw new SkybridgeError('unauthenticated', 'send an access token: Authorization: Bearer <token> (get one from your tenant\'s token endpoint)');
    const token = match[1]!;
    let claims: JWTPayload;
    try {
      claims = decodeJwt(token);
    } catch {
      throw invalid('the access token is not a JWT');
    }
    const tenantId = typeof claims.tid === 'string' && uuid.test(claims.tid) ? claims.tid : null;
    if (!tenantId) throw invalid('the access token names no tenant');
    const jwks = await this.#jwksFor(tenantId);
    try {
      await jwtVerify(token, jwks, {
        issuer: this.#oidc.issuer(tenantId),
        audience: this.#oidc.audience,
        algorithms: ['ES256', 'RS256'],
        typ: 'at+jwt',
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw invalid(code === 'ERR_JWT_EXPIRED' ? 'the access token has expired: request a new one' : 'the access token is not valid for this cloud');
    }
    const clientId = typeof claims.client_id === 'string' ? claims.client_id : null;
    if (!clientId) throw invalid('the access token names no client');
    if (clientId === adminCenterClientId) return this.#user(tenantId, claims.sub);
    const { rows } = await this.#store.query<{ kind: string; agent_id: string | null; roles: string[] | null }>(
      `SELECT c.kind, a.id AS agent_id,
              (SELECT array_agg(role) FROM role_assignments r
                 WHERE r.tenant_id = c.tenant_id AND r.principal_type = 'client' AND r.principal_id = c.client_id) AS roles
         FROM oidc_clients c LEFT JOIN agents a ON a.client_id = c.client_id
        WHERE c.client_id = $1 AND c.tenant_id = $2 AND NOT c.disabled`,
      [clientId, tenantId],
    );
    const row = rows[0];
    if (!row || row.kind === 'app') throw invalid('the client of this access token is disabled or unknown');
    const roles = new Set<Role>((row.roles ?? []).filter(isRole));
    return { tenantId, kind: row.kind === 'agent' ? 'agent' : 'client', clientId, agentId: row.agent_id, userId: null, roles };
  }

  async #user(tenantId: string, sub: string | undefined): Promise<Principal> {
    if (!sub || !uuid.test(sub)) throw invalid('the access token names no user');
    const { rows } = await this.#store.query<{ roles: string[] | null }>(
      `SELECT (SELECT array_agg(role) FROM role_assignments r
                WHERE r.tenant_id = o.tenant_id AND r.principal_type = 'user' AND r.principal_id = o.id::text) AS roles
         FROM directory_objects o
        WHERE o.id = $1 AND o.tenant_id = $2 AND o.object_type = 'user' AND o.deleted_at IS NULL AND o.account_enabled`,
      [sub, tenantId],
    );
    if (!rows[0]) throw invalid('the signed-in user is deleted or blocked: sign in again with an enabled account');
    const roles = new Set<Role>((rows[0].roles ?? []).filter(isRole));
    return { tenantId, kind: 'user', clientId: adminCenterClientId, agentId: null, userId: sub, roles };
  }

  /** The tenant's keys changed (rotation): read them again at the next token. */
  forget(tenantId: string): void {
    this.#jwks.delete(tenantId);
  }

  async #jwksFor(tenantId: string): Promise<ReturnType<typeof createLocalJWKSet>> {
    const cached = this.#jwks.get(tenantId);
    if (cached && Date.now() - cached.at < 60_000) return cached.jwks;
    const keys = await loadSigningKeys(this.#store, tenantId);
    if (keys.length === 0) throw invalid('the access token names an unknown tenant');
    const jwks = createLocalJWKSet({ keys: keys.map(publicJwk) });
    this.#jwks.set(tenantId, { at: Date.now(), jwks });
    return jwks;
  }
}

const invalid = (detail: string) => new SkybridgeError('invalid_token', detail);
