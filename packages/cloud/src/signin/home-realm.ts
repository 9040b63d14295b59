/**
 * Sign-in without knowing the tenant (`/common`): home-realm discovery from
 * the user's domain. `/common/v2.0/auth` sends the browser on to its
 * tenant's authorization endpoint with the same request, found from the
 * login_hint's verified domain, or from the application's registration, or
 * by asking for the user's address first. `/common/v2.0/realm?upn=` answers
 * as JSON which tenant a user belongs to and how the domain signs in.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CloudContext } from '../context.ts';
import { askAddressPage, messagePage, pageHeaders } from './pages.ts';

interface Realm { tenantId: string; domain: string; authentication: 'managed' | 'federated'; federation: { protocol: string; passiveSignInUri?: string; issuer?: string } | null }

async function realmOf(cloud: CloudContext, upn: string): Promise<Realm | null> {
  const domain = upn.slice(upn.lastIndexOf('@') + 1).trim().toLowerCase().replace(/\.$/, '');
  if (!domain || domain.length > 253) return null;
  const { rows } = await cloud.store.query<{ tenant_id: string; authentication: 'managed' | 'federated'; federation: Realm['federation'] }>(
    'SELECT tenant_id, authentication, federation FROM domains WHERE name = $1 AND verified', [domain]);
  const r = rows[0];
  return r ? { tenantId: r.tenant_id, domain, authentication: r.authentication, federation: r.federation } : null;
}

/** Serves `/common/…`; answers false for anything else. */
export async function handleCommon(cloud: CloudContext, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'https://placeholder');
  if (!url.pathname.startsWith('/common/')) return false;
  const html = (status: number, body: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...pageHeaders, ...extra });
    res.end(body);
    return true;
  };
  if (req.method !== 'GET') return html(405, messagePage('Not allowed', 'Use GET.'), { allow: 'GET' });
  if (url.pathname === '/common/v2.0/realm') {
    const upn = url.searchParams.get('upn') ?? '';
    const realm = upn.includes('@') ? await realmOf(cloud, upn) : null;
    res.writeHead(realm ? 200 : 404, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(realm
      ? { tenantId: realm.tenantId, domain: realm.domain, issuer: cloud.oidc.issuer(realm.tenantId), authenticationType: realm.authentication,
          ...(realm.federation ? { federation: { protocol: realm.federation.protocol, signInUrl: realm.federation.passiveSignInUri ?? realm.federation.issuer } } : {}) }
      : { code: 'not_found', detail: 'no tenant has verified the domain of this address' }));
    return true;
  }
  if (url.pathname !== '/common/v2.0/auth') return html(404, messagePage('Not found', 'There is nothing here: applications sign users in at /common/v2.0/auth or at their tenant\'s endpoint.'));
  const query = url.searchParams;
  const forward = (tenantId: string) => html(302, '', { location: `${cloud.oidc.issuer(tenantId)}/auth?${query.toString()}` });
  const hint = query.get('login_hint');
  if (hint) {
    const realm = await realmOf(cloud, hint);
    if (realm) return forward(realm.tenantId);
    return html(404, askAddressPage(query, `No organisation signs in here with addresses at ${hint.slice(hint.lastIndexOf('@') + 1)}. Check the address, or use the sign-in link your organisation gave you.`));
  }
  // an application registered in one tenant signs in that tenant's users
  const clientId = query.get('client_id');
  if (clientId) {
    const { rows } = await cloud.store.query<{ tenant_id: string }>(`SELECT tenant_id FROM oidc_clients WHERE client_id = $1 AND kind = 'app'`, [clientId]);
    if (rows[0]) return forward(rows[0].tenant_id);
  }
  return html(200, askAddressPage(query));
}
