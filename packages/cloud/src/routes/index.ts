import type { RouteDef } from '../http/route.ts';
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

/**
 * Every HTTP route of the cloud apart from OIDC (served by oidc-provider) and
 * the agent channel (a WebSocket upgrade). The tenant-isolation test walks
 * this list: a route added here without an isolation case fails it.
 */
export const routes: readonly RouteDef[] = [
  ...tenantRoutes, ...directoryRoutes, ...licenceRoutes, ...domainRoutes, ...roleRoutes, ...applicationRoutes, ...auditRoutes,
  ...scimRoutes, ...agentRoutes, ...syncRoutes, ...operatorRoutes,
];
