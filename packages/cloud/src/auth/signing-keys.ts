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
export async function createSigningKeys(tx: Queryable, tenantId: string): Promise<string[]> {
  const kids: string[] = [];
  for (const alg of ['ES256', 'RS256'] as const) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
    const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg, use: 'sig' };
    await tx.query('INSERT INTO signing_keys (kid, tenant_id, private_jwk) VALUES ($1, $2, $3)', [jwk.kid, tenantId, jwk]);
    kids.push(jwk.kid);
  }
  return kids;
}

/**
 * Rotation: a new key pair signs from now on; the pair it replaces stays
 * published (tokens it signed keep verifying until they expire); the pair
 * before that is retired and leaves the JWKS. Rotating twice within a
 * token's lifetime therefore ends it: rotate at most once an hour.
 */
export async function rotateSigningKeys(tx: Queryable, tenantId: string): Promise<{ active: string[]; previous: string[]; retired: string[] }> {
  const { rows } = await tx.query<{ kid: string }>(
    'SELECT kid FROM signing_keys WHERE tenant_id = $1 AND retired_at IS NULL ORDER BY created_at DESC, kid FOR UPDATE',
    [tenantId],
  );
  const previous = rows.slice(0, 2).map((r) => r.kid);
  const retired = rows.slice(2).map((r) => r.kid);
  if (retired.length) await tx.query('UPDATE signing_keys SET retired_at = now() WHERE tenant_id = $1 AND kid = ANY($2::text[])', [tenantId, retired]);
  const active = await createSigningKeys(tx, tenantId);
  return { active, previous, retired };
}

export async function loadSigningKeys(q: Queryable, tenantId: string): Promise<PrivateJwk[]> {
  const { rows } = await q.query<{ private_jwk: PrivateJwk }>(
    // newest first: the provider signs with the first key of each algorithm
    'SELECT private_jwk FROM signing_keys WHERE tenant_id = $1 AND retired_at IS NULL ORDER BY created_at DESC, kid',
    [tenantId],
  );
  return rows.map((r) => r.private_jwk);
}

/** The public half of a private JWK. */
export function publicJwk(jwk: PrivateJwk): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
  return pub;
}
