import { loadAgentPackage } from '../agents/agent-package.ts';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import { WebSocketServer } from 'ws';
import { defaultQuotas, paths, type Quotas } from '@skybridge/protocol';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { DataDirLock } from '../store/data-dir-lock.ts';
import { OidcProviders } from '../auth/oidc.ts';
import { AccessTokens } from '../auth/access-token.ts';
import { purgeExpiredOidcPayloads } from '../auth/oidc-adapter.ts';
import { hashSecret, randomSecret } from '../auth/secrets.ts';
import { AgentChannelHub } from '../agents/channel-hub.ts';
import { createLogger, type Logger } from '../logger.ts';
import { ensureSelfSigned, loadTls, type TlsMaterial } from '../tls/certificate.ts';
import { SkybridgeError } from '../http/problem.ts';
import type { CloudContext } from '../context.ts';
import { routes } from '../routes/index.ts';
import { buildApp, problemResponse } from './app.ts';
import { isUuid } from '../directory/objects.ts';
import { SyncThrottle } from '../sync/throttle.ts';
import { handleInteraction } from '../signin/interactions.ts';
import { handleCommon } from '../signin/home-realm.ts';
import { defaultAdminCenterDir, serveAdminCenter } from '../admin-center/static-files.ts';
import { handleFederationCallback } from '../signin/federation.ts';
import { handleSamlResponse } from '../signin/saml-federation.ts';
import { decodeUriComponentOrNull } from '../http/uri.ts';

export interface CloudOptions {
  /** Port to listen on; 0 picks a free one. Default 8443 (HTTPS) or 8080 (--http). */
  port?: number;
  /** Address to listen on. Default 127.0.0.1; use 0.0.0.0 to serve other machines (HTTPS only). */
  host?: string;
  /** Keeps the embedded database, the TLS certificate and the operator token. */
  dataDir: string;
  /** PostgreSQL instead of the embedded store. */
  databaseUrl?: string | undefined;
  /** TLS: the administrator's certificate, a self-signed one kept in the data dir (default), or none (loopback only). */
  tls?: { certPath: string; keyPath: string } | 'self-signed' | 'none';
  /** External base URL when behind a proxy or a DNS name; default derived from host and port. */
  publicUrl?: string | undefined;
  initialDomainSuffix?: string;
  /** The deployment's DNS zone that customer domains' service records point at (default: the public URL's host name). */
  serviceDomain?: string;
  /** DNS servers (ip or ip:port) that answer domain verification and record checks; default the system's. */
  dnsServers?: readonly string[];
  /** PEM of extra CA certificates to trust when calling identity providers (federated domains) */
  outboundCa?: string;
  /** The agent package to hand out (scripts/build-agent-package.ts) */
  agentPackage?: string;
  /** The admin center's built files (default packages/cloud/web/dist, written by npm run build:web) */
  adminCenterDir?: string;
  quotas?: Partial<Quotas>;
  bodyLimit?: number;
  logger?: Logger;
}

export interface RunningCloud {
  url: string;
  context: CloudContext;
  tls: TlsMaterial | null;
  operatorTokenPath: string;
  close(): Promise<void>;
}

const loopback = (host: string) => host === '127.0.0.1' || host === '::1' || host === 'localhost' || /^127\./.test(host);

/** Starts Skybridge Cloud: store and migrations, TLS, the HTTP APIs, OIDC and the agent channel. */
export async function startCloud(options: CloudOptions): Promise<RunningCloud> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? createLogger();
  if (options.tls === 'none' && !loopback(host)) {
    throw new Error(`--http serves plain HTTP, which is allowed only on a loopback address (got --host ${host}): drop --http to serve HTTPS`);
  }
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const lock = options.databaseUrl ? null : new DataDirLock(options.dataDir);
  lock?.acquire(null);
  let store: Store | null = null;
  try {
    store = await openStore({ databaseUrl: options.databaseUrl, dataDir: options.dataDir });
    const tls = options.tls === 'none' ? null
      : options.tls && options.tls !== 'self-signed' ? loadTls(options.tls.certPath, options.tls.keyPath)
      : await ensureSelfSigned(options.dataDir, [hostname(), ...(loopback(host) || host === '0.0.0.0' || host === '::' ? [] : [host])]);
    const operatorTokenPath = await ensureOperatorToken(store, options.dataDir);
    const cookieKeys = await deploymentSecret(store, 'oidc_cookie_key');
    const sealingKey = Buffer.from(await deploymentSecret(store, 'sealing_key'), 'base64url');

    let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => { res.statusCode = 503; res.end(); };
    const server: Server = tls
      ? createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, (req, res) => handler(req, res))
      : createHttpServer((req, res) => handler(req, res));
    server.headersTimeout = 30_000;
    server.requestTimeout = 120_000;
    const port = options.port ?? (tls ? 8443 : 8080);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'EADDRINUSE' ? new Error(`port ${port} on ${host} is in use: choose another with --port`) : err));
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    const boundPort = typeof address === 'object' && address ? address.port : port;
    const scheme = tls ? 'https' : 'http';
    const urlHost = host === '0.0.0.0' || host === '::' ? hostname() : host.includes(':') ? `[${host}]` : host;
    const url = `${scheme}://${urlHost}:${boundPort}`;
    const publicUrl = (options.publicUrl ?? url).replace(/\/$/, '');

    const oidc = new OidcProviders({ store, publicUrl, cookieKeys: [cookieKeys], trustProxy: Boolean(options.publicUrl), logger });
    const channels = new AgentChannelHub(logger);
    const context: CloudContext = {
      store,
      oidc,
      tokens: new AccessTokens(store, oidc),
      channels,
      syncThrottle: new SyncThrottle(),
      logger,
      sealingKey,
      // identity providers are trusted through the system's CAs, --outbound-ca, and this cloud's own certificate (tenants federating to tenants)
      outboundCa: [options.outboundCa, tls?.cert].filter(Boolean).join('\n') || null,
      config: {
        publicUrl,
        initialDomainSuffix: options.initialDomainSuffix ?? 'skybridge.test',
        serviceDomain: (options.serviceDomain ?? new URL(publicUrl).hostname).toLowerCase().replace(/\.$/, ''),
        dnsServers: options.dnsServers ?? [],
        quotas: { ...defaultQuotas, ...options.quotas },
        bodyLimit: options.bodyLimit ?? 4 * 1024 * 1024,
        certificatePin: tls?.pin ?? null,
        agentPackage: options.agentPackage ? loadAgentPackage(options.agentPackage) : null,
        adminCenterDir: options.adminCenterDir ?? defaultAdminCenterDir,
      },
    };
    const app = buildApp(context, routes);
    const apiListener = getRequestListener(app.fetch);
    handler = (req, res) => {
      dispatch(context, req, res, apiListener).catch((err: unknown) => {
        logger.error({ err }, 'request dispatch failed');
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end();
        }
      });
    };
    const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
    server.on('upgrade', (req, socket, head) => {
      upgrade(context, wss, req, socket, head).catch((err: unknown) => {
        logger.error({ err }, 'channel upgrade failed');
        socket.destroy();
      });
    });
    const purge = setInterval(() => void purgeExpiredOidcPayloads(context.store).catch((err: unknown) => logger.warn({ err }, 'purge failed')), 10 * 60_000);
    purge.unref();
    await store.query(
      `INSERT INTO deployment_settings (name, value) VALUES ('public_url', $1) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [publicUrl],
    );
    lock?.setUrl(url);
    logger.info({ url, publicUrl, store: store.kind, tls: tls ? tls.origin : 'off' }, 'Skybridge Cloud started');

    let closed = false;
    return {
      url,
      context,
      tls,
      operatorTokenPath,
      async close() {
        if (closed) return;
        closed = true;
        clearInterval(purge);
        channels.closeAll();
        wss.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await store!.close();
        lock?.release();
      },
    };
  } catch (err) {
    await store?.close().catch(() => undefined);
    lock?.release();
    throw err;
  }
}

const oidcPath = /^\/([^/?]+)\/v2\.0(\/[^?]*)?(?:\?.*)?$/;

/** Resolves `{tenant}` of an issuer path: a tenant id, or a verified domain of the tenant. */
async function resolveTenant(store: Store, segment: string): Promise<string | null> {
  const value = decodeUriComponentOrNull(segment)?.toLowerCase();
  if (value === undefined) return null; // malformed percent-encoding names no tenant
  if (isUuid(value)) {
    const { rows } = await store.query<{ id: string }>('SELECT id FROM tenants WHERE id = $1', [value]);
    return rows[0]?.id ?? null;
  }
  const { rows } = await store.query<{ tenant_id: string }>('SELECT tenant_id FROM domains WHERE lower(name) = $1 AND verified', [value]);
  return rows[0]?.tenant_id ?? null;
}

async function dispatch(cloud: CloudContext, req: IncomingMessage, res: ServerResponse, api: (req: IncomingMessage, res: ServerResponse) => unknown) {
  if ((req.url ?? '').startsWith(`${paths.common}/`) && (await handleCommon(cloud, req, res))) return;
  const match = oidcPath.exec(req.url ?? '/');
  if (match) {
    const tenantId = await resolveTenant(cloud.store, match[1]!);
    if (!tenantId) return sendProblem(res, new SkybridgeError('not_found', `there is no tenant ${match[1]}: use the tenant id or one of its verified domains`));
    const rest = match[2] ?? '';
    // the hosted sign-in pages, then everything else of the tenant's OpenID provider
    if (rest.startsWith('/interaction/') && (await handleInteraction(cloud, await cloud.oidc.get(tenantId), tenantId, req, res, rest))) return;
    if (rest === '/federation/callback') return handleFederationCallback(cloud, await cloud.oidc.get(tenantId), tenantId, req, res);
    if (rest === '/federation/saml') return handleSamlResponse(cloud, await cloud.oidc.get(tenantId), tenantId, req, res);
    return cloud.oidc.handle(req, res, tenantId, rest);
  }
  if (serveAdminCenter(cloud.config.adminCenterDir, req, res)) return;
  return api(req, res);
}

async function sendProblem(res: ServerResponse, err: SkybridgeError) {
  const response = problemResponse(err);
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(await response.text());
}

async function upgrade(cloud: CloudContext, wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer) {
  const path = (req.url ?? '').split('?')[0];
  const refuse = (status: number, err: SkybridgeError) => {
    const body = JSON.stringify(err.toProblem(path));
    socket.end(`HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status === 403 ? 'Forbidden' : 'Unauthorized'}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  };
  if (path !== paths.agents.channel) return refuse(404, new SkybridgeError('not_found', `no WebSocket endpoint at ${path}: agents connect to ${paths.agents.channel}`));
  let principal;
  try {
    principal = await cloud.tokens.verify(req.headers.authorization);
  } catch (err) {
    return refuse(401, err instanceof SkybridgeError ? err : new SkybridgeError('invalid_token', 'the access token is not valid'));
  }
  if (!principal.agentId || !principal.roles.has('DirectorySynchronizationAccounts')) {
    return refuse(403, new SkybridgeError('forbidden', 'only a registered agent opens the channel'));
  }
  const { agentId, tenantId } = principal;
  wss.handleUpgrade(req, socket, head, (ws) => cloud.channels.attach(agentId, tenantId, ws));
}

/**
 * The deployment operator's token (it creates tenants), kept in the data
 * directory with mode 0600; only its hash is stored in the database.
 */
async function ensureOperatorToken(store: Store, dataDir: string): Promise<string> {
  const path = join(dataDir, 'operator-token');
  let token: string;
  if (existsSync(path)) {
    token = readFileSync(path, 'utf8').trim();
  } else {
    token = randomSecret('sbo_');
    writeFileSync(path, `${token}\n`, { mode: 0o600 });
  }
  chmodSync(path, 0o600);
  await store.query('INSERT INTO operator_tokens (token_hash) VALUES ($1) ON CONFLICT DO NOTHING', [hashSecret(token)]);
  return path;
}

async function deploymentSecret(store: Store, name: string): Promise<string> {
  await store.query('INSERT INTO deployment_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, randomBytes(32).toString('base64url')]);
  const { rows } = await store.query<{ value: string }>('SELECT value FROM deployment_secrets WHERE name = $1', [name]);
  return rows[0]!.value;
}
