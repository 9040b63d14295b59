import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Queryable } from '../store/store.ts';

export interface PrivateJwk extends JWK {
  kid: string;
  alg: string;
}

/**
 * A tenant's token-signing keys: ES256 for access tokens and RS256 (the OIDC
 * default for ID tokens). Generated at tenant creation; rotation adds keys and
 * retires old ones without breaking tokens already issued.
 */
export async function createSigningKeys(tx: Queryable, tenantId: string): Promise<void> {
  for (const alg of ['ES256', 'RS256'] as const) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
    const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg, use: 'sig' };
    await tx.query('INSERT INTO signing_keys (kid, tenant_id, private_jwk) VALUES ($1, $2, $3)', [jwk.kid, tenantId, jwk]);
  }
}

export async function loadSigningKeys(q: Queryable, tenantId: string): Promise<PrivateJwk[]> {
  const { rows } = await q.query<{ private_jwk: PrivateJwk }>(
    'SELECT private_jwk FROM signing_keys WHERE tenant_id = $1 AND retired_at IS NULL ORDER BY created_at, kid',
    [tenantId],
  );
  return rows.map((r) => r.private_jwk);
}

/** The public half of a private JWK. */
export function publicJwk(jwk: PrivateJwk): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
  return pub;
}
