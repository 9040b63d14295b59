import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, calculateJwkThumbprint, type JWK } from 'jose';
import WebSocket from 'ws';
import {
  changesResponse, cloudToAgentMessage, pendingDeletionsAnswer, type PendingDeletionsAnswer, type PendingDeletionsReport, heartbeatResponse, leaseResponse, matchPreviewResponse, missingMembersPreference, paths, registerResponse, syncBatchResponse,
  type MatchPreviewRequest, type MatchPreviewResponse, passwordHashBatchResponse, type PasswordHashBatchRequest, type PasswordHashBatchResponse,
  type ChangesResponse, type ChannelRequest, type HeartbeatRequest, type LeaseResponse, type SyncBatchRequest, type SyncBatchResponse,
} from '@skybridge/protocol';
import { callJson, CloudApiError, httpExchange } from './http.ts';
import { tlsOptionsFor, type TlsTrust } from './tls-trust.ts';
import { generateAgentKey, type AgentCredentials } from './credentials.ts';

/**
 * Registers this machine as an agent of a tenant: generates the key pair,
 * sends the public half with the one-time token, and returns the
 * credentials to keep. `trust` says how to trust the cloud for this first
 * call (a CA file, or the pin the admin center shows).
 */
export async function registerAgent(input: { cloudUrl: string; registrationToken: string; hostname: string; version: string; trust?: TlsTrust }): Promise<AgentCredentials> {
  const { privateJwk, publicJwk } = await generateAgentKey();
  const kid = await calculateJwkThumbprint(publicJwk);
  const base = input.cloudUrl.replace(/\/$/, '');
  const answer = registerResponse.parse(
    await callJson(`${base}${paths.agents.register}`, 'registering the agent', {
      method: 'POST',
      trust: input.trust ?? {},
      body: { registrationToken: input.registrationToken, publicKey: { ...publicJwk, kid }, hostname: input.hostname, version: input.version },
    }),
  );
  return {
    version: 1,
    cloudUrl: base,
    agentId: answer.agentId,
    tenantId: answer.tenantId,
    clientId: answer.clientId,
    issuer: answer.issuer,
    tokenEndpoint: answer.tokenEndpoint,
    audience: answer.audience,
    cloudCertificatePin: answer.cloudCertificatePin ?? input.trust?.pin ?? null,
    privateJwk: { ...privateJwk, kid },
  };
}

export interface ChannelHandlers {
  /** Answers one request of the cloud; a thrown error becomes an error response. */
  onRequest(request: ChannelRequest): Promise<unknown>;
  onClose?(code: number, reason: string): void;
}

/**
 * The agent's side of the agent-cloud contract: tokens by private-key JWT,
 * sync batches, the change feed, the lease, heartbeats and the channel.
 * Every call goes over TLS pinned to the certificate the cloud gave at
 * registration.
 */
export class CloudClient {
  readonly credentials: AgentCredentials;
  readonly #trust: TlsTrust;
  #token: { value: string; expiresAt: number } | null = null;

  constructor(credentials: AgentCredentials, trust: TlsTrust = {}) {
    this.credentials = credentials;
    this.#trust = { pin: credentials.cloudCertificatePin, ...trust };
  }

  /** A signed, single-use client assertion (RFC 7523) proving possession of the agent's key. */
  async clientAssertion(): Promise<string> {
    const jwk = this.credentials.privateJwk as JWK;
    const key = await importJWK(jwk, 'ES256');
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: jwk.kid as string })
      .setIssuer(this.credentials.clientId)
      .setSubject(this.credentials.clientId)
      .setAudience(this.credentials.issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .setJti(randomUUID())
      .sign(key);
  }

  /** Exchanges a client assertion for an access token; `assertion` lets tests replay one. */
  async requestToken(assertion?: string): Promise<{ access_token: string; expires_in: number; token_type: string }> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.credentials.clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion ?? (await this.clientAssertion()),
      resource: this.credentials.audience,
      scope: 'api',
    });
    const res = await httpExchange(this.credentials.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      trust: this.#trust,
    });
    const body = JSON.parse(res.text || '{}') as Record<string, unknown>;
    if (res.status !== 200) throw new CloudApiError(res.status, body, 'getting an access token');
    return body as { access_token: string; expires_in: number; token_type: string };
  }

  async accessToken(): Promise<string> {
    if (this.#token && this.#token.expiresAt - 60_000 > Date.now()) return this.#token.value;
    const t = await this.requestToken();
    this.#token = { value: t.access_token, expiresAt: Date.now() + t.expires_in * 1000 };
    return t.access_token;
  }

  async #call<T>(path: string, what: string, options: { method?: string; body?: unknown; json?: string; headers?: Record<string, string> } = {}): Promise<T> {
    const token = await this.accessToken();
    return callJson<T>(`${this.credentials.cloudUrl}${path}`, what, { ...options, trust: this.#trust, headers: { authorization: `Bearer ${token}`, ...(options.headers ?? {}) } });
  }

  async acquireLease(ttlSeconds = 60): Promise<LeaseResponse> {
    return leaseResponse.parse(await this.#call(paths.sync.lease, 'acquiring the sync lease', { method: 'POST', body: { ttlSeconds } }));
  }

  async releaseLease(epoch: number): Promise<void> {
    await this.#call(`${paths.sync.lease}?epoch=${epoch}`, 'releasing the sync lease', { method: 'DELETE' });
  }

  /** Sends a batch; retry with the same idempotency key and the same batch after any failure. */
  async sendBatch(idempotencyKey: string, batch: SyncBatchRequest): Promise<SyncBatchResponse> {
    return this.sendEncodedBatch(idempotencyKey, batch.epoch, JSON.stringify(batch.operations));
  }

  /**
   * Sends a batch whose operations are serialized already (a JSON array of
   * SyncBatchRequest operations). The exporter keeps a batch in flight as
   * this one string rather than as its parsed objects.
   */
  async sendEncodedBatch(idempotencyKey: string, epoch: number, operationsJson: string): Promise<SyncBatchResponse> {
    const json = `{"epoch":${JSON.stringify(epoch)},"operations":${operationsJson}}`;
    return syncBatchResponse.parse(await this.#call(paths.sync.batches, 'sending a sync batch', {
      method: 'POST', json, headers: { 'idempotency-key': idempotencyKey, prefer: missingMembersPreference },
    }));
  }

  /** The tenant as the agent may read it: its domains and whether each is verified. */
  async tenantDomains(): Promise<{ name: string; isVerified: boolean }[]> {
    const t = await this.#call<{ domains?: { name: string; isVerified: boolean }[] }>(`${paths.adminApi}/tenant`, 'reading the tenant');
    return t.domains ?? [];
  }

  /** Sends synchronized password hashes (never passwords or NT hashes); safe to resend. */
  async sendPasswordHashes(request: PasswordHashBatchRequest): Promise<PasswordHashBatchResponse> {
    return passwordHashBatchResponse.parse(await this.#call(paths.sync.passwordHashes, 'sending password hashes', { method: 'POST', body: request }));
  }

  /** How objects would match in the cloud; writes nothing. */
  async matchPreview(objects: MatchPreviewRequest['objects']): Promise<MatchPreviewResponse> {
    return matchPreviewResponse.parse(await this.#call(paths.sync.matchPreview, 'previewing matches', { method: 'POST', body: { objects } }));
  }

  async changes(cursor?: string, limit?: number, options: { objectsOnly?: boolean; withoutAttributes?: boolean } = {}): Promise<ChangesResponse> {
    const q = new URLSearchParams();
    if (cursor) q.set('cursor', cursor);
    if (limit) q.set('limit', String(limit));
    if (options.objectsOnly) q.set('kinds', 'object');
    if (options.withoutAttributes) q.set('attributes', 'false');
    return changesResponse.parse(await this.#call(`${paths.sync.changes}${q.size ? `?${q}` : ''}`, 'reading the change feed'));
  }

  /** The delete threshold stopped an export: tell the tenant, and learn what an administrator allowed. */
  async reportPendingDeletions(report: PendingDeletionsReport): Promise<PendingDeletionsAnswer> {
    return pendingDeletionsAnswer.parse(await this.#call(paths.sync.pendingDeletions, 'reporting deletions held back', { method: 'PUT', body: report }));
  }

  async clearPendingDeletions(): Promise<void> {
    await this.#call(paths.sync.pendingDeletions, 'clearing the delete threshold alert', { method: 'DELETE' });
  }

  async heartbeat(beat: HeartbeatRequest): Promise<{ serverTime: string }> {
    return heartbeatResponse.parse(await this.#call(paths.agents.heartbeat, 'sending a heartbeat', { method: 'POST', body: beat }));
  }

  /** Opens the channel and answers the cloud's requests until closed. */
  async openChannel(handlers: ChannelHandlers, version: string): Promise<WebSocket> {
    const url = new URL(`${this.credentials.cloudUrl}${paths.agents.channel}`);
    const tls = await tlsOptionsFor(url, this.#trust);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${await this.accessToken()}` }, ...tls, handshakeTimeout: 10_000 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let problem: Record<string, unknown> = {};
          try { problem = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>; } catch { /* not JSON */ }
          reject(new CloudApiError(res.statusCode ?? 0, problem, 'opening the agent channel'));
        });
      });
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ type: 'hello', version }));
    ws.on('message', (data) => {
      const parsed = cloudToAgentMessage.safeParse(JSON.parse(String(data)));
      if (!parsed.success || parsed.data.type !== 'request') return;
      const request = parsed.data;
      handlers.onRequest(request).then(
        (payload) => ws.send(JSON.stringify({ type: 'response', id: request.id, ok: true, ...(payload === undefined ? {} : { payload }) })),
        (err: Error) => ws.send(JSON.stringify({ type: 'response', id: request.id, ok: false, error: { code: (err as { code?: string }).code ?? 'agent_error', message: err.message.slice(0, 1000) } })),
      );
    });
    ws.on('close', (code, reason) => handlers.onClose?.(code, reason.toString()));
    return ws;
  }
}
