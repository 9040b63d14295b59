import { json, publicRoute, type RouteDef } from '../http/route.ts';
import { openApiDocument } from '../http/openapi.ts';
import { agentRoutes } from './agents.ts';
import { directoryRoutes } from './directory.ts';
import { operatorRoutes } from './operator.ts';
import { syncRoutes } from './sync.ts';
import { tenantRoutes } from './tenant.ts';
import { scimRoutes } from './scim.ts';
import { domainRoutes } from './domains.ts';
import { licenceRoutes } from './licences.ts';
import { roleRoutes } from './roles.ts';
import { auditRoutes } from './audit.ts';
import { applicationRoutes } from './applications.ts';
import { signInRoutes } from './sign-ins.ts';
import { signingKeyRoutes } from './signing-keys.ts';

/**
 * Every HTTP route of the cloud apart from OIDC (served by oidc-provider) and
 * the agent channel (a WebSocket upgrade). The tenant-isolation test walks
 * this list: a route added here without an isolation case fails it.
 */
export const routes: readonly RouteDef[] = [
  publicRoute({
    method: 'GET', path: '/api/v1/openapi.json', summary: 'This API described as an OpenAPI 3.1 document, built from the routes the cloud serves.',
    handler: async (ctx) => json(openApiDocument(routes, ctx.cloud.config.publicUrl, '0.1.0')),
  }),
  ...tenantRoutes, ...directoryRoutes, ...licenceRoutes, ...domainRoutes, ...roleRoutes, ...applicationRoutes, ...auditRoutes, ...signInRoutes, ...signingKeyRoutes,
  ...scimRoutes, ...agentRoutes, ...syncRoutes, ...operatorRoutes,
];
