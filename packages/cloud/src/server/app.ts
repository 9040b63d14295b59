import { Hono, type Context } from 'hono';
import { SkybridgeError } from '../http/problem.ts';
import { makeBodyReader, type Reply, type RouteDef } from '../http/route.ts';
import { hasAnyRole, type Principal } from '../auth/principal.ts';
import { hashSecret } from '../auth/secrets.ts';
import type { CloudContext } from '../context.ts';
import { roleDisplayNames } from '@skybridge/protocol';
import { scimErrorResponse, toScimError, ScimError } from '../scim/errors.ts';

const isScim = (path: string) => path === '/scim/v2' || path.startsWith('/scim/v2/');

const problemHeaders = { 'content-type': 'application/problem+json', 'cache-control': 'no-store' };

export function problemResponse(err: SkybridgeError, instance?: string): Response {
  const headers: Record<string, string> = { ...problemHeaders };
  if (typeof err.extensions.retryAfter === 'number') headers['retry-after'] = String(err.extensions.retryAfter);
  if (err.status === 401) headers['www-authenticate'] = `Bearer error="${err.code === 'invalid_token' ? 'invalid_token' : 'invalid_request'}"`;
  return new Response(JSON.stringify(err.toProblem(instance)), { status: err.status, headers });
}

function toResponse(reply: Reply): Response {
  const status = reply.status ?? 200;
  if (reply.body === undefined || status === 204) return new Response(null, { status, headers: reply.headers ?? {} });
  if (reply.body instanceof Uint8Array) return new Response(reply.body, { status, headers: { 'content-type': 'application/octet-stream', ...(reply.headers ?? {}) } });
  return new Response(JSON.stringify(reply.body), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...(reply.headers ?? {}) },
  });
}

async function authenticate(cloud: CloudContext, route: RouteDef, req: Request): Promise<Principal | null> {
  if (route.access === 'public') return null;
  if (route.access === 'operator') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get('authorization') ?? '');
    if (match) {
      const { rows } = await cloud.store.query('SELECT 1 FROM operator_tokens WHERE token_hash = $1', [hashSecret(match[1]!)]);
      if (rows.length > 0) return null;
    }
    throw new SkybridgeError('unauthenticated', 'this operation needs the deployment operator token (the file operator-token in the cloud\'s data directory)');
  }
  const principal = await cloud.tokens.verify(req.headers.get('authorization'));
  if (!hasAnyRole(principal, route.access.roles)) {
    throw new SkybridgeError('forbidden', `this operation needs one of the roles ${route.access.roles.map((r) => roleDisplayNames[r]).join(', ')}; the caller has ${principal.roles.size ? [...principal.roles].map((r) => roleDisplayNames[r]).join(', ') : 'none'}`);
  }
  return principal;
}

const pathPattern = (path: string) => new RegExp(`^${path.replace(/:[A-Za-z]+/g, '[^/]+')}/?$`);

/** The cloud's JSON APIs: every route of the registry, with authentication, roles and problem+json errors. */
export function buildApp(cloud: CloudContext, routes: readonly RouteDef[]): Hono {
  const app = new Hono({ strict: false });
  const patterns = routes.map((r) => ({ method: r.method, re: pathPattern(r.path) }));

  app.get('/healthz', async (c) => {
    await cloud.store.query('SELECT 1');
    return c.json({ status: 'ok', store: cloud.store.kind });
  });

  for (const route of routes) {
    app.on(route.method, route.path, async (c: Context) => {
      const req = c.req.raw;
      const principal = await authenticate(cloud, route, req);
      const reply = await route.handler({
        cloud,
        req,
        params: c.req.param() as Record<string, string>,
        query: new URL(req.url).searchParams,
        principal,
        body: makeBodyReader(cloud, req),
      });
      return toResponse(reply);
    });
  }

  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    const allowed = patterns.filter((p) => p.re.test(path)).map((p) => p.method);
    if (isScim(path)) {
      if (allowed.length > 0) return scimErrorResponse(new ScimError(405, undefined, `${c.req.method} is not allowed on ${path}: use ${allowed.join(', ')}`), { allow: allowed.join(', ') });
      return scimErrorResponse(new ScimError(404, undefined, `there is no ${path}: SCIM serves /Users, /Groups, /Bulk, /ServiceProviderConfig, /ResourceTypes and /Schemas`));
    }
    if (allowed.length > 0) {
      const res = problemResponse(new SkybridgeError('method_not_allowed', `${c.req.method} is not allowed on ${path}: use ${allowed.join(', ')}`), path);
      res.headers.set('allow', allowed.join(', '));
      return res;
    }
    return problemResponse(new SkybridgeError('not_found', `there is no ${path} here: see the API reference in the README`), path);
  });

  app.onError((err, c) => {
    const path = new URL(c.req.url).pathname;
    if (isScim(path)) {
      const scim = toScimError(err);
      if (scim) {
        const headers: Record<string, string> = {};
        if (scim.status === 401) headers['www-authenticate'] = 'Bearer';
        return scimErrorResponse(scim, headers);
      }
    }
    if (err instanceof SkybridgeError) return problemResponse(err, path);
    cloud.logger.error({ err, method: c.req.method, path }, 'request failed');
    if (isScim(path)) return scimErrorResponse(new ScimError(500, undefined, 'the cloud failed to handle this request; it was logged and nothing was half-written (every write is one transaction): retry, and report it if it persists'));
    return problemResponse(new SkybridgeError('internal_error', 'the cloud failed to handle this request; it was logged and nothing was half-written (every write is one transaction): retry, and report it if it persists'), path);
  });
  return app;
}
