import type { z } from 'zod';
import type { Role } from '@skybridge/protocol';
import type { CloudContext } from '../context.ts';
import type { Principal } from '../auth/principal.ts';
import { readJson, parseWith } from './validate.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call a route:
 * - roles: a tenant principal holding one of the roles (the tenant comes from the token);
 * - operator: the deployment operator's token (tenant creation), never a tenant token;
 * - public: no token (health, agent registration with its one-time token).
 */
export type Access = { roles: readonly Role[] } | 'operator' | 'public';

export interface RequestContext<P extends Principal | null = Principal> {
  cloud: CloudContext;
  req: Request;
  params: Record<string, string>;
  query: URLSearchParams;
  principal: P;
  /** Reads the JSON body and validates it against a schema (unknown fields refused). */
  body<T extends z.ZodType>(schema: T, what?: string): Promise<z.infer<T>>;
}

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteDef {
  method: Method;
  /** Path with `:name` parameters, as in Hono. */
  path: string;
  access: Access;
  /** One sentence for the API reference. */
  summary: string;
  /** The JSON body it takes, for the OpenAPI document (the handler validates with the same schema). */
  requestBody?: z.ZodType;
  handler(ctx: RequestContext<Principal | null>): Promise<Reply>;
}

/** A route whose handler always receives an authenticated tenant principal. */
export function tenantRoute(def: Omit<RouteDef, 'handler' | 'access'> & { roles: readonly Role[]; handler(ctx: RequestContext<Principal>): Promise<Reply> }): RouteDef {
  return {
    method: def.method,
    path: def.path,
    summary: def.summary,
    ...(def.requestBody ? { requestBody: def.requestBody } : {}),
    access: { roles: def.roles },
    handler: (ctx) => def.handler(ctx as RequestContext<Principal>),
  };
}

export function publicRoute(def: Omit<RouteDef, 'access'>): RouteDef {
  return { ...def, access: 'public' };
}

export function makeBodyReader(cloud: CloudContext, req: Request) {
  return async <T extends z.ZodType>(schema: T, what = 'the request body'): Promise<z.infer<T>> =>
    parseWith(schema, await readJson(req, cloud.config.bodyLimit), what);
}

export const json = (body: unknown, status = 200, headers?: Record<string, string>): Reply => ({ status, body, ...(headers ? { headers } : {}) });
export const noContent = (): Reply => ({ status: 204 });
