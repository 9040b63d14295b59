import type { Adapter, AdapterPayload } from 'oidc-provider';
import { adminCenterClientId, paths } from '@skybridge/protocol';
import type { Store } from '../store/store.ts';

/**
 * The admin center's client, the same in every tenant: public (PKCE, no
 * secret), redirecting only to the admin center of this cloud.
 */
export function adminCenterClient(publicUrl: string): AdapterPayload {
  const home = `${publicUrl.replace(/\/$/, '')}${paths.adminCenter}/`;
  return {
    client_id: adminCenterClientId,
    client_name: 'Skybridge admin center',
    application_type: 'web',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [home],
    post_logout_redirect_uris: [home],
  };
}

/**
 * oidc-provider's storage contract, on the cloud store, scoped to one tenant.
 * Clients are read from `oidc_clients` (managed by the cloud, never by the
 * provider); every other model is a short-lived payload row.
 */
export class TenantOidcAdapter implements Adapter {
  readonly #store: Store;
  readonly #tenantId: string;
  readonly #model: string;
  readonly #publicUrl: string;

  constructor(store: Store, tenantId: string, model: string, publicUrl: string) {
    this.#store = store;
    this.#tenantId = tenantId;
    this.#model = model;
    this.#publicUrl = publicUrl;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    if (this.#model === 'Client') throw new Error('clients are managed through the admin API');
    const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
    await this.#store.query(
      `INSERT INTO oidc_payloads (tenant_id, model, id, payload, grant_id, user_code, uid, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (tenant_id, model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
         user_code = EXCLUDED.user_code, uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at`,
      [this.#tenantId, this.#model, id, payload as Record<string, unknown>, payload.grantId ?? null, payload.userCode ?? null, payload.uid ?? null, expiresAt],
    );
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (this.#model === 'Client') {
      if (id === adminCenterClientId) return adminCenterClient(this.#publicUrl);
      const { rows } = await this.#store.query<{ metadata: AdapterPayload }>(
        'SELECT metadata FROM oidc_clients WHERE client_id = $1 AND tenant_id = $2 AND NOT disabled',
        [id, this.#tenantId],
      );
      return rows[0]?.metadata;
    }
    return this.#findBy('id', id);
  }

  findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.#findBy('user_code', userCode);
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.#findBy('uid', uid);
  }

  async consume(id: string): Promise<void> {
    await this.#store.query(
      `UPDATE oidc_payloads SET consumed_at = now(), payload = jsonb_set(payload, '{consumed}', to_jsonb(extract(epoch from now())::bigint))
       WHERE tenant_id = $1 AND model = $2 AND id = $3`,
      [this.#tenantId, this.#model, id],
    );
  }

  async destroy(id: string): Promise<void> {
    await this.#store.query('DELETE FROM oidc_payloads WHERE tenant_id = $1 AND model = $2 AND id = $3', [this.#tenantId, this.#model, id]);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#store.query('DELETE FROM oidc_payloads WHERE tenant_id = $1 AND grant_id = $2', [this.#tenantId, grantId]);
  }

  async #findBy(column: 'id' | 'user_code' | 'uid', value: string): Promise<AdapterPayload | undefined> {
    const { rows } = await this.#store.query<{ payload: AdapterPayload }>(
      `SELECT payload FROM oidc_payloads WHERE tenant_id = $1 AND model = $2 AND ${column} = $3
       AND (expires_at IS NULL OR expires_at > now())`,
      [this.#tenantId, this.#model, value],
    );
    return rows[0]?.payload;
  }
}

/** Deletes expired provider artifacts; run periodically. */
export async function purgeExpiredOidcPayloads(store: Store): Promise<number> {
  const res = await store.query('DELETE FROM oidc_payloads WHERE expires_at < now()');
  return res.rowCount;
}
