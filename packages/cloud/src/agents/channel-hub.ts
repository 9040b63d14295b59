import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { agentToCloudMessage, channelCloseCodes, type ChannelRequest, type ChannelResponse } from '@skybridge/protocol';
import { SkybridgeError } from '../http/problem.ts';
import type { Logger } from '../logger.ts';

interface Pending {
  resolve(response: ChannelResponse): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

interface Connection {
  socket: WebSocket;
  tenantId: string;
  version: string | null;
  connectedAt: Date;
  pending: Map<string, Pending>;
}

/**
 * The WebSockets agents keep open to the cloud. The cloud sends requests
 * (pass-through authentication, later writeback) and each agent answers with
 * the request's id. One connection per agent: a new one replaces the old.
 */
export class AgentChannelHub {
  readonly #connections = new Map<string, Connection>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  attach(agentId: string, tenantId: string, socket: WebSocket): void {
    const previous = this.#connections.get(agentId);
    if (previous) previous.socket.close(channelCloseCodes.replaced, 'replaced by a newer connection of the same agent');
    const conn: Connection = { socket, tenantId, version: null, connectedAt: new Date(), pending: new Map() };
    this.#connections.set(agentId, conn);
    socket.on('message', (data, isBinary) => {
      if (isBinary) return socket.close(channelCloseCodes.protocolError, 'send JSON text frames');
      let parsed;
      try {
        parsed = agentToCloudMessage.safeParse(JSON.parse(String(data)));
      } catch {
        parsed = null;
      }
      if (!parsed?.success) return socket.close(channelCloseCodes.protocolError, 'not a channel message');
      const msg = parsed.data;
      if (msg.type === 'hello') {
        conn.version = msg.version;
        return;
      }
      const waiting = conn.pending.get(msg.id);
      if (!waiting) return;
      conn.pending.delete(msg.id);
      clearTimeout(waiting.timer);
      waiting.resolve(msg);
    });
    socket.on('close', () => {
      for (const p of conn.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new SkybridgeError('conflict', 'the agent disconnected before answering'));
      }
      conn.pending.clear();
      if (this.#connections.get(agentId) === conn) this.#connections.delete(agentId);
      this.#logger.info({ agentId, tenantId }, 'agent channel closed');
    });
    socket.send(JSON.stringify({ type: 'welcome', agentId }));
    this.#logger.info({ agentId, tenantId }, 'agent channel open');
  }

  /** The agents of a tenant whose channel is open, longest connected first. */
  connectedAgents(tenantId: string): string[] {
    return [...this.#connections.entries()].filter(([, c]) => c.tenantId === tenantId).sort((a, b) => a[1].connectedAt.getTime() - b[1].connectedAt.getTime()).map(([id]) => id);
  }

  isConnected(agentId: string): boolean {
    return this.#connections.has(agentId);
  }

  connection(agentId: string): { connectedAt: Date; version: string | null } | null {
    const c = this.#connections.get(agentId);
    return c ? { connectedAt: c.connectedAt, version: c.version } : null;
  }

  /** Sends a request to a connected agent of the tenant and waits for its answer. */
  request(tenantId: string, agentId: string, kind: ChannelRequest['kind'], payload?: unknown, timeoutMs = 10_000): Promise<ChannelResponse> {
    const conn = this.#connections.get(agentId);
    if (!conn || conn.tenantId !== tenantId) {
      return Promise.reject(new SkybridgeError('conflict', `agent ${agentId} is not connected: check that its service runs and reaches the cloud`));
    }
    const id = randomUUID();
    return new Promise<ChannelResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        conn.pending.delete(id);
        reject(new SkybridgeError('conflict', `agent ${agentId} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      conn.pending.set(id, { resolve, reject, timer });
      const request: ChannelRequest = { type: 'request', id, kind, ...(payload === undefined ? {} : { payload }) };
      conn.socket.send(JSON.stringify(request));
    });
  }

  /** Closes every connection of an agent (its registration was removed). */
  disconnect(agentId: string, code: number = channelCloseCodes.unauthenticated, reason = 'agent removed'): void {
    this.#connections.get(agentId)?.socket.close(code, reason);
  }

  closeAll(): void {
    for (const c of this.#connections.values()) c.socket.terminate();
    this.#connections.clear();
  }
}
