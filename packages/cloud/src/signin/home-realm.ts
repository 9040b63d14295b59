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
import { messagePage, pageHeaders } from './pages.ts';

interface Realm { tenantId: string; domain: string; authentication: 'managed' | 'federated'; federation: { protocol: string; passiveSignInUri?: string; issuer?: string } | null }

async function realmOf(cloud: CloudContext, upn: string): Promise<Realm | null> {
  const domain = upn.slice(upn.lastIndexOf('@') + 1).trim().toLowerCase().replace(/\.$/, '');
  if (!domain || domain.length > 253) return null;
  const { rows } = await cloud.store.query<{ tenant_id: string; authentication: 'managed' | 'federated'; federation: Realm['federation'] }>(
    'SELECT tenant_id, authentication, federation FROM domains WHERE name = $1 AND verified', [domain]);
  const r = rows[0];
  return r ? { tenantId: r.tenant_id, domain, authentication: r.authentication, federation: r.federation } : null;
}

const askPage = (query: URLSearchParams, error?: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in · Skybridge</title>
<style>body{font-family:system-ui,sans-serif;background:#f3f4f6;margin:0}main{max-width:26rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:.5rem}
label{display:block;font-weight:600;margin-top:1rem}input[type=email]{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;margin-top:.3rem;border:1px solid #6b7280}
button{margin-top:1.5rem;width:100%;padding:.7rem;font-size:1rem;font-weight:600;color:#fff;background:#1d4ed8;border:0}.error{padding:.75rem;border-left:4px solid #b91c1c;background:#fef2f2}</style></head>
<body><main><h1>Sign in</h1>${error ? `<div class="error" role="alert">${error.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)}</div>` : ''}
<form method="get" action="/common/v2.0/auth">${[...query.entries()].filter(([k]) => k !== 'login_hint').map(([k, v]) => `<input type="hidden" name="${k.replace(/"/g, '')}" value="${v.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}">`).join('')}
<label for="login_hint">Your work email address</label><input id="login_hint" name="login_hint" type="email" autocomplete="username" required autofocus>
<button type="submit">Next</button></form></main></body></html>`;

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
    return html(404, askPage(query, `No organisation signs in here with addresses at ${hint.slice(hint.lastIndexOf('@') + 1)}. Check the address, or use the sign-in link your organisation gave you.`));
  }
  // an application registered in one tenant signs in that tenant's users
  const clientId = query.get('client_id');
  if (clientId) {
    const { rows } = await cloud.store.query<{ tenant_id: string }>(`SELECT tenant_id FROM oidc_clients WHERE client_id = $1 AND kind = 'app'`, [clientId]);
    if (rows[0]) return forward(rows[0].tenant_id);
  }
  return html(200, askPage(query));
}
