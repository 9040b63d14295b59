/**
 * The tenant's hosted sign-in: the interactions oidc-provider hands over
 * (login, consent, the licence check) under `/{tenant}/v2.0/interaction/{uid}`.
 *
 * The sign-in method follows the user (home-realm discovery): a cloud user
 * signs in with the cloud password an administrator set (and changes a
 * one-time password first). Password hash synchronization, pass-through
 * authentication and federated domains arrive with their issues; until then
 * their users get a page that says so, and the attempt is logged.
 *
 * Every error a user sees is the same for a wrong password and an unknown
 * name; the sign-in log holds the precise reason. No credential is ever
 * logged or kept.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { CloudContext } from '../context.ts';
import { hashPassword, verifyPassword } from '../auth/secrets.ts';
import { applicationAccess } from '../routes/applications.ts';
import { userById, userByUpn, type SignInUser } from './account.ts';
import { lockoutState, passThroughLockoutThreshold, recordFailure, recordSuccess } from './lockout.ts';
import { recordSignIn, type SignInMethod } from './sign-in-log.ts';
import { changePasswordPage, messagePage, pageHeaders, signInPage } from './pages.ts';
import { readForm } from './form.ts';
import { checkNewPassword } from './password-policy.ts';
import { passThroughAuthenticate } from './pass-through.ts';
import { verifySyncedPassword } from './synced-password.ts';
import { startFederatedSignIn } from './federation.ts';
import { startSamlSignIn } from './saml-federation.ts';
import type { DomainRow } from '../domains/domains.ts';

/** Sign-in attempts one source address may make against a tenant per minute. */
export const attemptsPerMinute = 30;
// an scrypt hash of a random password: an unknown user costs the same time as a wrong password
const decoy = hashPassword(`decoy-${Math.random()}`);

interface Ctx {
  cloud: CloudContext;
  provider: Provider;
  tenantId: string;
  req: IncomingMessage;
  res: ServerResponse;
  uid: string;
}

const send = (res: ServerResponse, status: number, html: string, extra: Record<string, string> = {}) => {
  res.writeHead(status, { ...pageHeaders, ...extra });
  res.end(html);
};

/** Serves `/interaction/{uid}[/login|/password]`; answers false when the path is not an interaction. */
export async function handleInteraction(cloud: CloudContext, provider: Provider, tenantId: string, req: IncomingMessage, res: ServerResponse, rest: string): Promise<boolean> {
  const m = /^\/interaction\/([A-Za-z0-9_-]{1,64})(\/login|\/password)?$/.exec(rest);
  if (!m) return false;
  const ctx: Ctx = { cloud, provider, tenantId, req, res, uid: m[1]! };
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== ctx.uid) throw new Error('interaction mismatch');
    const step = m[2];
    if (req.method === 'POST') {
      const form = await readForm(req);
      if (!cloud.oidc.checkCsrf(ctx.uid, form.get('csrf'))) return send(res, 403, messagePage('Sign-in expired', 'This sign-in form is not valid any more. Go back to the application and sign in again.')), true;
      if (step === '/login' && details.prompt.name === 'login') await submitLogin(ctx, details, form);
      else if (step === '/password' && details.prompt.name === 'login') await submitPasswordChange(ctx, details, form);
      else send(res, 400, messagePage('Sign-in expired', 'This step of the sign-in is over. Go back to the application and sign in again.'));
      return true;
    }
    if (req.method !== 'GET') return send(res, 405, messagePage('Not allowed', 'Use the sign-in form.'), { allow: 'GET, POST' }), true;
    switch (details.prompt.name) {
      case 'login':
        await showSignIn(ctx, details, {});
        return true;
      case 'consent':
        await grantConsent(ctx, details);
        return true;
      case 'licence':
        await refuseForLicence(ctx, details);
        return true;
      default:
        send(res, 400, messagePage('Sign-in failed', 'The application asked for something this sign-in cannot do. Contact the application\'s administrator.'));
        return true;
    }
  } catch (err) {
    if ((err as { status?: number }).status === 413) return send(res, 413, messagePage('Sign-in failed', 'The form was too large.')), true;
    cloud.logger.info({ tenantId, error: (err as Error).message }, 'sign-in interaction refused');
    send(res, 400, messagePage('Sign-in expired', 'This sign-in page expired or was opened in another browser. Go back to the application and sign in again.'));
    return true;
  }
}

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

async function appAndTenant(ctx: Ctx, clientId: string): Promise<{ appName: string; tenantName: string }> {
  const { rows } = await ctx.cloud.store.query<{ app: string | null; tenant: string }>(
    'SELECT (SELECT display_name FROM oidc_clients WHERE client_id = $2 AND tenant_id = $1) AS app, name AS tenant FROM tenants WHERE id = $1',
    [ctx.tenantId, clientId],
  );
  return { appName: rows[0]?.app ?? 'the application', tenantName: rows[0]?.tenant ?? '' };
}

async function showSignIn(ctx: Ctx, details: Details, o: { username?: string; error?: string; status?: number }) {
  const names = await appAndTenant(ctx, String(details.params.client_id));
  const hint = typeof details.params.login_hint === 'string' ? details.params.login_hint : undefined;
  const username = o.username ?? hint;
  send(ctx.res, o.status ?? 200, signInPage({
    action: `${ctx.cloud.oidc.issuer(ctx.tenantId)}/interaction/${ctx.uid}/login`, csrf: ctx.cloud.oidc.csrfToken(ctx.uid),
    appName: names.appName, tenantName: names.tenantName, ...(username ? { username } : {}), ...(o.error ? { error: o.error } : {}),
  }));
}

const wrongCredentials = 'Your user name or password is incorrect. If you forgot your password, ask your administrator to reset it.';

async function submitLogin(ctx: Ctx, details: Details, form: URLSearchParams) {
  const { cloud, tenantId, req } = ctx;
  const username = (form.get('username') ?? '').trim().slice(0, 320);
  const password = form.get('password') ?? '';
  const clientId = String(details.params.client_id);
  const source = cloud.oidc.clientAddress(req);
  const log = (e: { userId: string | null; method: SignInMethod; result: 'success' | 'failure'; errorCode?: string }) =>
    recordSignIn(cloud.store, tenantId, { ...e, userPrincipalName: username || null, clientId, sourceIp: source, userAgent: req.headers['user-agent'] ?? null });

  const wait = cloud.oidc.signInThrottle.take(`${tenantId}|${source}`, 1, attemptsPerMinute, Date.now(), 60);
  if (wait > 0) {
    await log({ userId: null, method: 'cloud_password', result: 'failure', errorCode: 'rate_limited' });
    return send(ctx.res, 429, messagePage('Too many attempts', `Too many sign-in attempts from your network. Wait ${wait} seconds and try again.`), { 'retry-after': String(wait) });
  }
  // a federated domain signs in at its own identity provider: the password typed here goes nowhere
  const federated = username.includes('@') ? await federatedDomain(ctx, username) : undefined;
  if (federated?.federation?.protocol === 'oidc') return startFederatedSignIn(cloud, tenantId, ctx.uid, federated, username, ctx.res);
  if (federated?.federation?.protocol === 'saml') return startSamlSignIn(cloud, tenantId, ctx.uid, federated, ctx.res);
  if (!username || !password) return showSignIn(ctx, details, { username, error: 'Enter your user name and your password.', status: 400 });
  const userKey = username.toLowerCase();
  const locked = await lockoutState(cloud.store, tenantId, userKey, source);
  if (locked.locked) {
    await log({ userId: null, method: 'cloud_password', result: 'failure', errorCode: 'locked_out' });
    return showSignIn(ctx, details, { username, error: `Your account is locked for now to protect it: there were too many failed sign-ins from here. Try again in ${locked.retryAfterSeconds} seconds.`, status: 429 });
  }
  const user = await userByUpn(cloud.store, tenantId, username);
  const method = await methodFor(ctx, user);
  if (method.kind === 'unavailable') {
    await log({ userId: user?.id ?? null, method: method.method, result: 'failure', errorCode: 'method_unavailable' });
    return showSignIn(ctx, details, { username, error: method.message, status: 400 });
  }
  if (method.kind === 'pass_through') return passThroughLogin(ctx, details, user!, username, password, source);
  const synced = method.kind === 'password_hash_sync';
  const used: SignInMethod = synced ? 'password_hash_sync' : 'cloud_password';
  const ok = synced
    ? await verifySyncedPassword(cloud.sealingKey, user!.synced_password_hash!, password)
    : user?.password_hash ? await verifyPassword(user.password_hash, password) : (await verifyPassword(await decoy, password), false);
  if (!user || !ok) {
    const state = await recordFailure(cloud.store, tenantId, userKey, source);
    await log({ userId: user?.id ?? null, method: used, result: 'failure', errorCode: user ? 'invalid_password' : 'unknown_user' });
    const error = state.locked ? `Your account is locked for now to protect it: there were too many failed sign-ins from here. Try again in ${state.retryAfterSeconds} seconds.` : wrongCredentials;
    return showSignIn(ctx, details, { username, error, status: 401 });
  }
  await recordSuccess(cloud.store, tenantId, userKey, source);
  if (!user.account_enabled) {
    await log({ userId: user.id, method: used, result: 'failure', errorCode: 'account_disabled' });
    return showSignIn(ctx, details, { username, error: 'Your account is disabled. Contact your administrator.', status: 403 });
  }
  if (synced && user.synced_password_must_change && await forcesPasswordChange(ctx)) {
    await log({ userId: user.id, method: used, result: 'failure', errorCode: 'password_change_required' });
    return showSignIn(ctx, details, { username, error: 'Your organisation requires you to change your password before you sign in. Change it on your organisation\'s network (for example Ctrl+Alt+Del, then "Change a password"), then sign in here with the new one.', status: 403 });
  }
  // a synchronized user's password belongs to Active Directory: the cloud never asks to change it here
  if (!synced && user.password_must_change) {
    return send(ctx.res, 200, changePasswordPage({ action: `${cloud.oidc.issuer(tenantId)}/interaction/${ctx.uid}/password`, csrf: cloud.oidc.csrfToken(ctx.uid), username: user.upn }));
  }
  await finishLogin(ctx, details, user, used);
}

/** Whether the tenant honours on-premises "must change password at next logon" for synchronized passwords. */
async function forcesPasswordChange(ctx: Ctx): Promise<boolean> {
  const { rows } = await ctx.cloud.store.query<{ force_password_change_on_logon: boolean }>('SELECT force_password_change_on_logon FROM tenants WHERE id = $1', [ctx.tenantId]);
  return rows[0]?.force_password_change_on_logon ?? false;
}

/** The verified, federated domain of a user name, if it is one. */
async function federatedDomain(ctx: Ctx, username: string): Promise<DomainRow | undefined> {
  const { rows } = await ctx.cloud.store.query<DomainRow>(
    `SELECT * FROM domains WHERE tenant_id = $1 AND name = $2 AND verified AND authentication = 'federated'`,
    [ctx.tenantId, username.slice(username.lastIndexOf('@') + 1).toLowerCase()],
  );
  return rows[0];
}

/** How a user of a managed domain signs in, from the user (home-realm discovery; federated domains are sent away before). */
async function methodFor(ctx: Ctx, user: SignInUser | undefined): Promise<{ kind: 'password' } | { kind: 'pass_through' } | { kind: 'password_hash_sync' } | { kind: 'unavailable'; method: SignInMethod; message: string }> {
  if (user?.source === 'onprem') {
    const { rows: t } = await ctx.cloud.store.query<{ pass_through_auth: boolean; password_hash_sync: boolean }>('SELECT pass_through_auth, password_hash_sync FROM tenants WHERE id = $1', [ctx.tenantId]);
    // pass-through takes precedence; with both on, password hash sync is the fallback an administrator switches to
    if (t[0]?.pass_through_auth) return { kind: 'pass_through' };
    if (t[0]?.password_hash_sync) {
      if (user.synced_password_hash) return { kind: 'password_hash_sync' };
      return { kind: 'unavailable', method: 'password_hash_sync', message: 'Your password has not reached the cloud from your organisation\'s Active Directory yet. Try again in a few minutes; if it goes on, contact your administrator.' };
    }
    return { kind: 'unavailable', method: 'password_hash_sync', message: 'Your account comes from your organisation\'s Active Directory, and signing in here with that password is not turned on (password hash synchronization or pass-through authentication). Contact your administrator.' };
  }
  return { kind: 'password' };
}

async function submitPasswordChange(ctx: Ctx, details: Details, form: URLSearchParams) {
  const { cloud, tenantId } = ctx;
  const username = form.get('username') ?? '';
  const user = await userByUpn(cloud.store, tenantId, username);
  const page = (error: string, status: number) => send(ctx.res, status, changePasswordPage({ action: `${cloud.oidc.issuer(tenantId)}/interaction/${ctx.uid}/password`, csrf: cloud.oidc.csrfToken(ctx.uid), username, error }));
  const source = cloud.oidc.clientAddress(ctx.req);
  if (!user || user.source !== 'cloud' || !user.password_hash || !(await verifyPassword(user.password_hash, form.get('current') ?? ''))) {
    await recordFailure(cloud.store, tenantId, username.toLowerCase(), source);
    return page('The current password is not right.', 401);
  }
  const next = form.get('new') ?? '';
  if (next !== (form.get('confirm') ?? '')) return page('The two new passwords differ: type the same one twice.', 400);
  const problem = checkNewPassword(next, { current: form.get('current') ?? '', upn: user.upn, displayName: user.display_name });
  if (problem) return page(problem, 400);
  await cloud.store.query('UPDATE directory_objects SET password_hash = $3, password_must_change = false, updated_at = now() WHERE tenant_id = $1 AND id = $2', [tenantId, user.id, await hashPassword(next)]);
  const fresh = (await userById(cloud.store, tenantId, user.id))!;
  await finishLogin(ctx, details, fresh, 'cloud_password');
}

async function finishLogin(ctx: Ctx, details: Details, user: SignInUser, method: SignInMethod, agentId: string | null = null) {
  await recordSignIn(ctx.cloud.store, ctx.tenantId, {
    userId: user.id, userPrincipalName: user.upn, clientId: String(details.params.client_id), method, result: 'success',
    sourceIp: ctx.cloud.oidc.clientAddress(ctx.req), userAgent: ctx.req.headers['user-agent'] ?? null, agentId,
  });
  await ctx.provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: user.id, amr: ['pwd'] } }, { mergeWithLastSubmission: false });
}

/** Applications an administrator registered are consented for the tenant's users: the grant is made without asking. */
async function grantConsent(ctx: Ctx, details: Details) {
  const { provider } = ctx;
  const accountId = details.session?.accountId;
  const clientId = String(details.params.client_id);
  let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  grant ??= new provider.Grant({ accountId: accountId!, clientId });
  const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  const grantId = await grant.save();
  await provider.interactionFinished(ctx.req, ctx.res, { consent: details.grantId ? {} : { grantId } }, { mergeWithLastSubmission: true });
}

/** The application requires a service plan the user's licences lack: the application gets access_denied, the user a page saying why. */
async function refuseForLicence(ctx: Ctx, details: Details) {
  const userId = details.session?.accountId ?? '';
  const clientId = String(details.params.client_id);
  const access = await applicationAccess(ctx.cloud.store, ctx.tenantId, clientId, userId);
  const user = await userById(ctx.cloud.store, ctx.tenantId, userId);
  await recordSignIn(ctx.cloud.store, ctx.tenantId, {
    userId, userPrincipalName: user?.upn ?? null, clientId, method: 'single_sign_on', result: 'failure', errorCode: 'licence_required',
    sourceIp: ctx.cloud.oidc.clientAddress(ctx.req), userAgent: ctx.req.headers['user-agent'] ?? null,
  });
  await ctx.provider.interactionFinished(ctx.req, ctx.res, { error: 'access_denied', error_description: access.message }, { mergeWithLastSubmission: false });
}

/** What a user sees for each answer of Active Directory, and the sign-in log's code for it. */
const adRefusals: Record<string, { code: string; message: string; status: number }> = {
  account_locked: { code: 'ad_account_locked', status: 403, message: 'Your account is locked in your organisation\'s directory after too many failed sign-ins. Wait, or ask your administrator to unlock it.' },
  password_expired: { code: 'ad_password_expired', status: 403, message: 'Your password has expired. Change it on your organisation\'s network, then sign in again.' },
  must_change_password: { code: 'ad_must_change_password', status: 403, message: 'You must change your password on your organisation\'s network before you can sign in here.' },
  account_disabled: { code: 'ad_account_disabled', status: 403, message: 'Your account is disabled. Contact your administrator.' },
  account_expired: { code: 'ad_account_expired', status: 403, message: 'Your account has expired. Contact your administrator.' },
  other: { code: 'ad_refused', status: 403, message: 'Your organisation\'s directory refused this sign-in. Contact your administrator.' },
};

/** A synchronized user of a tenant with pass-through authentication: one of its agents binds to AD as the user. */
async function passThroughLogin(ctx: Ctx, details: Details, user: SignInUser, username: string, password: string, source: string) {
  const { cloud, tenantId, req } = ctx;
  const clientId = String(details.params.client_id);
  const result = await passThroughAuthenticate(cloud, tenantId, user.upn, password);
  const log = (outcome: 'success' | 'failure', errorCode?: string) => recordSignIn(cloud.store, tenantId, {
    userId: user.id, userPrincipalName: username, clientId, method: 'pass_through', result: outcome, ...(errorCode ? { errorCode } : {}),
    sourceIp: source, userAgent: req.headers['user-agent'] ?? null, agentId: result.agentId,
  });
  if (result.outcome === 'no_agent' || result.outcome === 'agents_failed') {
    cloud.logger.warn({ tenantId, detail: 'detail' in result ? result.detail : undefined }, 'pass-through authentication found no agent to answer');
    await log('failure', result.outcome === 'no_agent' ? 'pta_no_agent' : 'pta_agents_failed');
    return showSignIn(ctx, details, { username, error: 'We cannot check your password right now: your organisation\'s sign-in agents do not answer. Try again in a few minutes, and tell your administrator if it goes on.', status: 503 });
  }
  if (result.outcome === 'success') {
    await recordSuccess(cloud.store, tenantId, username.toLowerCase(), source);
    if (!user.account_enabled) {
      await log('failure', 'account_disabled');
      return showSignIn(ctx, details, { username, error: 'Your account is disabled. Contact your administrator.', status: 403 });
    }
    return finishLogin(ctx, details, user, 'pass_through', result.agentId);
  }
  if (result.outcome === 'invalid_credentials') {
    const { threshold } = await passThroughLockoutThreshold(cloud.store, tenantId);
    const state = await recordFailure(cloud.store, tenantId, username.toLowerCase(), source, threshold);
    await log('failure', 'invalid_password');
    return showSignIn(ctx, details, { username, error: state.locked ? `Your account is locked for now to protect it: there were too many failed sign-ins from here. Try again in ${state.retryAfterSeconds} seconds.` : wrongCredentials, status: 401 });
  }
  const refusal = adRefusals[result.outcome] ?? adRefusals.other!;
  await log('failure', refusal.code);
  return showSignIn(ctx, details, { username, error: refusal.message, status: refusal.status });
}
