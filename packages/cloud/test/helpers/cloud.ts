import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { startCloud, createApiClient, createLogger, type CreatedTenant, type RunningCloud } from '@skybridge/cloud';
import { callJson, httpExchange, type TlsTrust } from '@skybridge/connect';
import type { Role } from '@skybridge/protocol';
import { freshStore, type StoreKind, type TestStore } from './stores.ts';

export interface TestCloud {
  cloud: RunningCloud;
  store: TestStore;
  url: string;
  trust: TlsTrust;
  createTenant(name: string): Promise<CreatedTenant>;
  /** A call as the deployment operator. */
  operator(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** The operator vouches for a domain of the tenant: added verified, without DNS. */
  addVerifiedDomain(tenantId: string, name: string): Promise<void>;
  /** An access token from the client-credentials grant. */
  token(tenant: CreatedTenant, client?: { clientId: string; clientSecret: string }): Promise<string>;
  /** A token for a new API client of the tenant holding exactly these roles. */
  tokenWithRoles(tenant: CreatedTenant, roles: readonly Role[]): Promise<string>;
  /** One HTTP call; returns status and parsed body, never throws on 4xx. */
  call(method: string, path: string, options?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  /** Stops the cloud and starts it again on the same store, port and certificate (a crash-and-restart of the service). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

const quiet = () => createLogger({ level: process.env.SKYBRIDGE_TEST_LOG ?? 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/** A real cloud over HTTPS on loopback, with a fresh store of the given kind. */
export async function startTestCloud(kind: StoreKind, options: { quotas?: Record<string, number>; dnsServers?: string[]; serviceDomain?: string; agentPackage?: string } = {}): Promise<TestCloud> {
  const store = await freshStore(kind);
  const start = (port: number) => startCloud({
    port, dataDir: store.dataDir, databaseUrl: store.databaseUrl, logger: quiet(),
    ...(options.quotas ? { quotas: options.quotas } : {}),
    ...(options.dnsServers ? { dnsServers: options.dnsServers } : {}),
    ...(options.serviceDomain ? { serviceDomain: options.serviceDomain } : {}),
    ...(options.agentPackage ? { agentPackage: options.agentPackage } : {}),
  });
  const cloud = await start(0);
  const trust: TlsTrust = { ca: cloud.tls!.cert };
  const operatorToken = readFileSync(cloud.operatorTokenPath, 'utf8').trim();
  const t: TestCloud = {
    cloud,
    store,
    url: cloud.url,
    trust,
    createTenant: (name) =>
      callJson<CreatedTenant>(`${cloud.url}/operator/v1/tenants`, 'creating a tenant', { method: 'POST', body: { name }, headers: { authorization: `Bearer ${operatorToken}` }, trust }),
    operator: (method, path, body) => t.call(method, path, { headers: { authorization: `Bearer ${operatorToken}` }, ...(body === undefined ? {} : { body }) }),
    async addVerifiedDomain(tenantId, name) {
      const res = await t.operator('PUT', `/operator/v1/tenants/${tenantId}/domains/${name}`, { verified: true });
      if (res.status !== 200) throw new Error(`verifying ${name}: ${res.status} ${JSON.stringify(res.body)}`);
    },
    async token(tenant, client = tenant.apiClient) {
      const res = await httpExchange(tenant.tokenEndpoint, {
        method: 'POST',
        trust,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource: tenant.apiAudience }).toString(),
      });
      if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${res.text}`);
      return (JSON.parse(res.text) as { access_token: string }).access_token;
    },
    async tokenWithRoles(tenant, roles) {
      const client = await createApiClient(t.cloud.context.store, tenant.tenantId, `test client ${roles.join('+') || 'no roles'}`, roles);
      return t.token(tenant, client);
    },
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { accept: 'application/json', ...(options.headers ?? {}) };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined = options.rawBody;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await httpExchange(`${cloud.url}${path}`, { method, headers, body, trust });
      let parsed: unknown = null;
      if (res.text) {
        try { parsed = JSON.parse(res.text); } catch { parsed = res.text; }
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async restart() {
      await t.cloud.close();
      t.cloud = await start(Number(new URL(t.url).port));
    },
    async close() {
      await t.cloud.close();
      await store.dispose();
    },
  };
  return t;
}
