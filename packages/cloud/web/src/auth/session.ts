/**
 * The admin center's sign-in: OpenID Connect authorization code with PKCE
 * against the admin's own tenant. The browser goes to `/common/v2.0/auth`
 * (home-realm discovery from the address the admin types), the tenant signs
 * the admin in, and the answer names its issuer (RFC 9207 `iss`), whose token
 * endpoint turns the code into an access token for the cloud's admin API.
 * The token lives in this tab's sessionStorage only, and is dropped when it
 * expires or the admin signs out.
 */
export const clientId = 'skybridge-admin-center';
const storageKey = 'skybridge.admin.session';
const pendingKey = 'skybridge.admin.pending';

export interface Session {
  accessToken: string;
  idToken: string;
  issuer: string;
  /** epoch milliseconds */
  expiresAt: number;
}

interface Pending {
  state: string;
  nonce: string;
  verifier: string;
  /** the admin center page to return to after sign-in */
  returnTo: string;
}

const redirectUri = () => `${location.origin}/admin/`;
const issuerPattern = () => new RegExp(`^${location.origin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/[0-9a-f-]{36}/v2\\.0$`);

function randomString(bytes = 32): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return base64url(b);
}

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const byte of bytes) s += String.fromCharCode(byte);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

export function currentSession(): Session | null {
  const raw = sessionStorage.getItem(storageKey);
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Session;
    if (typeof s.accessToken === 'string' && s.expiresAt > Date.now() + 30_000) return s;
  } catch {
    // a damaged entry is no session
  }
  sessionStorage.removeItem(storageKey);
  return null;
}

/** Sends the browser to sign in; `loginHint` skips the address question. */
export async function signIn(returnTo: string, loginHint?: string): Promise<void> {
  const pending: Pending = { state: randomString(), nonce: randomString(), verifier: randomString(48), returnTo };
  sessionStorage.setItem(pendingKey, JSON.stringify(pending));
  const params = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri(),
    response_type: 'code',
    scope: 'openid profile',
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await challengeOf(pending.verifier),
    code_challenge_method: 'S256',
  });
  if (loginHint) params.set('login_hint', loginHint);
  location.assign(`/common/v2.0/auth?${params}`);
}

export class SignInError extends Error {}

/**
 * Finishes a sign-in when the page is the redirect back from the tenant:
 * answers the page to show next, or null when this is not a sign-in answer.
 */
export async function completeSignIn(url: URL): Promise<string | null> {
  const code = url.searchParams.get('code');
  const error = url.searchParams.get('error');
  if (!code && !error) return null;
  const pendingRaw = sessionStorage.getItem(pendingKey);
  sessionStorage.removeItem(pendingKey);
  history.replaceState(null, '', url.pathname);
  if (error) throw new SignInError(`Sign-in did not finish: ${url.searchParams.get('error_description') ?? error}. Try again.`);
  const pending = pendingRaw ? (JSON.parse(pendingRaw) as Pending) : null;
  if (!pending || url.searchParams.get('state') !== pending.state) {
    throw new SignInError('This sign-in answer does not belong to a sign-in started in this tab (it may be old or forged). Sign in again.');
  }
  const issuer = url.searchParams.get('iss') ?? '';
  if (!issuerPattern().test(issuer)) throw new SignInError('The sign-in answer names no tenant of this cloud. Sign in again.');
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: code!, redirect_uri: redirectUri(), client_id: clientId, code_verifier: pending.verifier }),
  });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; id_token?: string; expires_in?: number; error_description?: string; error?: string };
  if (!res.ok || !body.access_token || !body.id_token) {
    throw new SignInError(`The tenant refused the sign-in: ${body.error_description ?? body.error ?? `HTTP ${res.status}`}. Sign in again.`);
  }
  const claims = JSON.parse(atob(body.id_token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { nonce?: string; iss?: string };
  if (claims.nonce !== pending.nonce || claims.iss !== issuer) throw new SignInError('The sign-in answer does not match this sign-in. Sign in again.');
  const session: Session = { accessToken: body.access_token, idToken: body.id_token, issuer, expiresAt: Date.now() + (body.expires_in ?? 3600) * 1000 };
  sessionStorage.setItem(storageKey, JSON.stringify(session));
  return pending.returnTo;
}

/** Ends the admin center session and the tenant's single sign-on session. */
export function signOut(): void {
  const s = currentSession();
  sessionStorage.removeItem(storageKey);
  if (!s) {
    location.assign('/admin/');
    return;
  }
  const params = new URLSearchParams({ id_token_hint: s.idToken, post_logout_redirect_uri: redirectUri(), client_id: clientId });
  location.assign(`${s.issuer}/session/end?${params}`);
}
