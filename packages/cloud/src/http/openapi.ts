import { z } from 'zod';
import { roleDisplayNames } from '@skybridge/protocol';
import type { RouteDef } from './route.ts';

const problem = {
  type: 'object',
  description: 'RFC 9457 problem details; switch on `code`, never on the text.',
  required: ['type', 'title', 'status', 'code', 'detail'],
  properties: {
    type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, code: { type: 'string' }, detail: { type: 'string' },
    instance: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { pointer: { type: 'string' }, message: { type: 'string' } } } },
  },
};

function bodySchema(schema: z.ZodType): unknown {
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  } catch {
    return { type: 'object' };
  }
}

/**
 * The OpenAPI 3.1 document of the cloud's HTTP APIs, built from the route
 * registry the server itself serves: what is documented is what runs. Each
 * operation names the roles it takes (x-skybridge-roles).
 */
export function openApiDocument(routes: readonly RouteDef[], publicUrl: string, version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const params = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const roles = typeof r.access === 'object' ? r.access.roles : [];
    const errors = (codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), { $ref: '#/components/responses/Problem' }]));
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      summary: r.summary,
      operationId: `${r.method.toLowerCase()}${path.replace(/[{}]/g, '').split(/[/.-]/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}`,
      tags: [path.split('/')[path.startsWith('/api/v1') ? 3 : 1]],
      ...(params.length ? { parameters: params } : {}),
      ...(r.requestBody ? { requestBody: { required: true, content: { 'application/json': { schema: bodySchema(r.requestBody) } } } } : {}),
      security: r.access === 'public' ? [] : r.access === 'operator' ? [{ operatorToken: [] }] : [{ bearer: [] }],
      ...(roles.length ? { 'x-skybridge-roles': roles, description: `Roles: ${roles.map((x) => roleDisplayNames[x]).join(', ')}.` } : {}),
      responses: {
        [r.method === 'POST' ? '201' : r.method === 'DELETE' ? '204' : '200']: { description: 'Success' },
        ...errors(r.access === 'public' ? [400, 404] : [400, 401, 403, 404, 409]),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Skybridge Cloud', version, description: 'The admin API (/api/v1), SCIM 2.0 (/scim/v2), the agent API (/agents/v1, /sync/v1) and the operator API (/operator/v1).' },
    servers: [{ url: publicUrl }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token of the tenant\'s OIDC provider (client credentials, resource = <public URL>/api).' },
        operatorToken: { type: 'http', scheme: 'bearer', description: 'The deployment operator token (the file operator-token in the data directory).' },
      },
      schemas: { Problem: problem },
      responses: { Problem: { description: 'An error', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } } },
    },
  };
}
