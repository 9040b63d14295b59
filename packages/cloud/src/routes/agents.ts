import { actorOf } from '../audit/audit-log.ts';
import { compareVersions, currentAgentVersion, heartbeatRequest, heartbeatResponse, registerRequest, type Role } from '@skybridge/protocol';
import { json, noContent, publicRoute, tenantRoute, type RouteDef } from '../http/route.ts';
import { notFound, SkybridgeError } from '../http/problem.ts';
import type { CloudContext } from '../context.ts';
import { isUuid } from '../directory/objects.ts';
import { createRegistrationToken, registerAgent, removeAgent } from '../agents/registration.ts';
import type { Queryable } from '../store/store.ts';
import { recordCycle } from '../sync/cycles.ts';

/** Who manages agents: the roles that own hybrid identity. */
export const agentAdmins: readonly Role[] = ['GlobalAdministrator', 'HybridIdentityAdministrator'];
const agentRole: readonly Role[] = ['DirectorySynchronizationAccounts'];

interface AgentRow {
  id: string;
  hostname: string;
  version: string;
  client_id: string;
  registered_at: Date | string;
  last_heartbeat_at: Date | string | null;
  health: Record<string, unknown> | null;
}

function packageOf(cloud: CloudContext) {
  const p = cloud.config.agentPackage;
  if (!p) throw new SkybridgeError('not_found', 'this cloud hands out no agent package: its operator builds one (node scripts/build-agent-package.ts) and starts the cloud with --agent-package FILE');
  return p;
}

async function findAgent(q: Queryable, tenantId: string, id: string): Promise<AgentRow> {
  if (isUuid(id)) {
    const { rows } = await q.query<AgentRow>(
      'SELECT id, hostname, version, client_id, registered_at, last_heartbeat_at, health FROM agents WHERE tenant_id = $1 AND id = $2',
      [tenantId, id.toLowerCase()],
    );
    if (rows[0]) return rows[0];
  }
  throw notFound(`the agent ${id}`);
}

export const agentRoutes: RouteDef[] = [
  tenantRoute({
    method: 'POST', path: '/api/v1/agents/registration-tokens', roles: agentAdmins,
    summary: 'Creates a one-time agent registration token, valid for one hour, with the pin of the certificate this cloud serves (for `skybridge connect register --pin`; null when it serves plain HTTP behind a TLS proxy).',
    handler: async (ctx) => json({ ...(await createRegistrationToken(ctx.cloud.store, ctx.principal.tenantId, actorOf(ctx.principal))), cloudCertificatePin: ctx.cloud.config.certificatePin }, 201),
  }),
  tenantRoute({
    method: 'GET', path: '/api/v1/agents', roles: agentAdmins, summary: 'Lists the tenant\'s registered agents with their health and connection state.',
    handler: async (ctx) => {
      const { rows } = await ctx.cloud.store.query<AgentRow>(
        'SELECT id, hostname, version, client_id, registered_at, last_heartbeat_at, health FROM agents WHERE tenant_id = $1 ORDER BY registered_at, id',
        [ctx.principal.tenantId],
      );
      return json({ items: rows.map((r) => presentAgent(r, ctx.cloud.channels.connection(r.id))) });
    },
  }),
  tenantRoute({
    method: 'GET', path: '/api/v1/agents/package', roles: agentAdmins,
    summary: 'The agent package this cloud hands out: version, size, SHA-256 and where to download it.',
    handler: async (ctx) => {
      const p = packageOf(ctx.cloud);
      return json({ fileName: p.fileName, version: p.version, size: p.size, sha256: p.sha256, downloadUrl: `${ctx.cloud.config.publicUrl.replace(/\/$/, '')}/api/v1/agents/package/download` });
    },
  }),
  tenantRoute({
    method: 'GET', path: '/api/v1/agents/package/download', roles: agentAdmins,
    summary: 'Downloads the agent package (.tar.gz); its SHA-256 is in the X-Checksum-Sha256 header and in GET /api/v1/agents/package.',
    handler: async (ctx) => {
      const p = packageOf(ctx.cloud);
      return { status: 200, body: p.bytes, headers: { 'content-type': 'application/gzip', 'content-disposition': `attachment; filename="${p.fileName}"`, 'x-checksum-sha256': p.sha256, 'cache-control': 'no-store' } };
    },
  }),
  tenantRoute({
    method: 'GET', path: '/api/v1/agents/:id', roles: agentAdmins, summary: 'Reads one agent.',
    handler: async (ctx) => {
      const row = await findAgent(ctx.cloud.store, ctx.principal.tenantId, ctx.params.id!);
      return json(presentAgent(row, ctx.cloud.channels.connection(row.id)));
    },
  }),
  tenantRoute({
    method: 'DELETE', path: '/api/v1/agents/:id', roles: agentAdmins, summary: 'Removes an agent: its credentials stop working at once, and a sync lease it holds ends.',
    handler: async (ctx) => {
      const row = await findAgent(ctx.cloud.store, ctx.principal.tenantId, ctx.params.id!);
      await removeAgent(ctx.cloud.store, ctx.principal.tenantId, { id: row.id, clientId: row.client_id, hostname: row.hostname }, actorOf(ctx.principal));
      ctx.cloud.channels.disconnect(row.id);
      return noContent();
    },
  }),
  tenantRoute({
    method: 'POST', path: '/api/v1/agents/:id/ping', roles: agentAdmins, summary: 'Sends a ping over the agent\'s channel and reports the round trip.',
    handler: async (ctx) => {
      const row = await findAgent(ctx.cloud.store, ctx.principal.tenantId, ctx.params.id!);
      const started = performance.now();
      const answer = await ctx.cloud.channels.request(ctx.principal.tenantId, row.id, 'ping', { sentAt: new Date().toISOString() });
      return json({ ok: answer.ok, roundTripMs: Math.round((performance.now() - started) * 10) / 10, payload: answer.payload ?? null });
    },
  }),
  publicRoute({
    method: 'POST', path: '/agents/v1/register',
    summary: 'Exchanges a one-time registration token and the agent\'s public key for agent credentials and the cloud certificate pin.',
    handler: async (ctx) => {
      const request = await ctx.body(registerRequest, 'the registration');
      const response = await registerAgent(ctx.cloud.store, request, {
        issuerOf: (tid) => ctx.cloud.oidc.issuer(tid),
        audience: ctx.cloud.oidc.audience,
        certificatePin: ctx.cloud.config.certificatePin,
      });
      ctx.cloud.logger.info({ agentId: response.agentId, tenantId: response.tenantId, hostname: request.hostname }, 'agent registered');
      return json(response, 201);
    },
  }),
  tenantRoute({
    method: 'POST', path: '/agents/v1/heartbeat', roles: agentRole, summary: 'The agent reports its version, role, last sync cycle and error counts.',
    handler: async (ctx) => {
      const beat = await ctx.body(heartbeatRequest, 'the heartbeat');
      await ctx.cloud.store.query(
        'UPDATE agents SET last_heartbeat_at = now(), version = $3, health = $4 WHERE tenant_id = $1 AND id = $2',
        [ctx.principal.tenantId, ctx.principal.agentId, beat.version, beat],
      );
      if (beat.lastCycle) await recordCycle(ctx.cloud.store, ctx.principal.tenantId, ctx.principal.agentId!, beat.lastCycle);
      return json(heartbeatResponse.parse({ serverTime: new Date().toISOString() }));
    },
  }),
];

function presentAgent(r: AgentRow, connection: { connectedAt: Date; version: string | null } | null) {
  return {
    id: r.id,
    hostname: r.hostname,
    version: r.version,
    /** older than the release this cloud ships: upgrade it */
    outdated: compareVersions(r.version, currentAgentVersion) < 0,
    currentVersion: currentAgentVersion,
    registeredDateTime: new Date(r.registered_at).toISOString(),
    lastHeartbeatDateTime: r.last_heartbeat_at ? new Date(r.last_heartbeat_at).toISOString() : null,
    health: r.health,
    channel: connection ? { connected: true, since: connection.connectedAt.toISOString() } : { connected: false },
  };
}
