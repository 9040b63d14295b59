/**
 * Pass-through authentication's binds to Active Directory: a simple bind as
 * the user, over TLS, and nothing else (no search, no caching of passwords
 * or answers). Binds run on kept connections, up to `maxPerServer` per DC,
 * rebinding as the next user, so a sign-in costs one round trip rather than
 * a TCP and TLS handshake. A connection the DC has closed is replaced once;
 * an unreachable DC sends the check to the next server. The connections
 * only ever bind: whichever identity one holds afterwards, it reads nothing.
 */
import { InvalidCredentialsError, type Client } from 'ldapts';
import type { ActiveDirectoryConfig } from '../config/agent-config.ts';
import { AdConnection } from '../ad/connection.ts';
import { ConnectError } from '../errors.ts';

export type BindResult = { ok: true; server: string } | { ok: false; dataCode: string; server: string };

const unreachable = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE']);
const isConnectivity = (err: unknown) => err instanceof ConnectError || unreachable.has((err as NodeJS.ErrnoException).code ?? '') || /closed|not connected|socket/i.test((err as Error).message ?? '');

interface Kept {
  client: Client;
  server: string;
  idleSince: number;
}

export class BindPool {
  readonly #config: ActiveDirectoryConfig;
  readonly #max: number;
  readonly #idleMs: number;
  readonly #idle: Kept[][];
  readonly #open: number[];
  readonly #waiting: Array<Array<() => void>>;
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;

  constructor(config: ActiveDirectoryConfig, options: { maxPerServer?: number; idleMs?: number } = {}) {
    this.#config = config;
    this.#max = options.maxPerServer ?? 16;
    this.#idleMs = options.idleMs ?? 30_000;
    this.#idle = config.servers.map(() => []);
    this.#open = config.servers.map(() => 0);
    this.#waiting = config.servers.map(() => []);
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(1000, this.#idleMs / 2));
    this.#sweeper.unref();
  }

  /** Binds as the user: ok, or AD's data code (52e, 775…) for a refused bind. */
  async check(userPrincipalName: string, password: string): Promise<BindResult> {
    let last: unknown;
    for (let i = 0; i < this.#config.servers.length; i++) {
      // a kept connection the DC has since closed gets one fresh replacement
      for (let attempt = 0; attempt < 2; attempt++) {
        let kept: Kept | undefined;
        try {
          kept = await this.#acquire(i, attempt > 0);
          await kept.client.bind(userPrincipalName, password);
          this.#release(i, kept);
          return { ok: true, server: kept.server };
        } catch (err) {
          if (kept && err instanceof InvalidCredentialsError) {
            this.#release(i, kept);
            return { ok: false, dataCode: /\bdata ([0-9a-f]{3,8})\b/i.exec(err.message)?.[1]?.toLowerCase() ?? '52e', server: kept.server };
          }
          if (kept) this.#discard(i, kept);
          last = err;
          if (!isConnectivity(err)) throw err;
        }
      }
    }
    throw last;
  }

  async #acquire(i: number, fresh: boolean): Promise<Kept> {
    if (this.#closed) throw new ConnectError('ad_connection_lost', 'the pass-through bind pool is closed');
    for (;;) {
      const idle = fresh ? undefined : this.#idle[i]!.pop();
      if (idle) return idle;
      if (this.#open[i]! < this.#max) {
        this.#open[i]! += 1;
        try {
          const { client, server } = await AdConnection.bindClient(this.#config, i);
          return { client, server, idleSince: 0 };
        } catch (err) {
          this.#open[i]! -= 1;
          this.#wake(i);
          throw err;
        }
      }
      await new Promise<void>((resolve) => this.#waiting[i]!.push(resolve));
    }
  }

  #release(i: number, kept: Kept): void {
    if (this.#closed) {
      this.#discard(i, kept);
      return;
    }
    kept.idleSince = Date.now();
    this.#idle[i]!.push(kept);
    this.#wake(i);
  }

  #discard(i: number, kept: Kept): void {
    this.#open[i]! -= 1;
    void kept.client.unbind().catch(() => {});
    this.#wake(i);
  }

  #wake(i: number): void {
    this.#waiting[i]!.shift()?.();
  }

  /** Closes connections idle for longer than idleMs (a DC drops them after a while anyway). */
  #sweep(): void {
    const cutoff = Date.now() - this.#idleMs;
    this.#idle.forEach((list, i) => {
      const keep = list.filter((k) => k.idleSince >= cutoff);
      for (const k of list) if (k.idleSince < cutoff) this.#discard(i, k);
      list.splice(0, list.length, ...keep);
    });
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.#idle.forEach((list, i) => {
      for (const k of list.splice(0)) this.#discard(i, k);
    });
  }
}
