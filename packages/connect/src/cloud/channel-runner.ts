/**
 * Keeps the agent's channel to the cloud open while the agent runs: opens it,
 * answers the cloud's requests (ping, pass-through authentication), and when
 * it drops, opens it again after a growing pause (1 s doubling to 30 s; back
 * to 1 s once it stays up).
 */
import type WebSocket from 'ws';
import type { ChannelRequest } from '@skybridge/protocol';
import type { CloudClient } from './cloud-client.ts';

export interface ChannelRunnerOptions {
  version: string;
  onRequest(request: ChannelRequest): Promise<unknown>;
  log(line: string): void;
}

export class ChannelRunner {
  readonly #cloud: CloudClient;
  readonly #options: ChannelRunnerOptions;
  #socket: WebSocket | null = null;
  #stopped = false;
  #delay = 1000;
  #timer: NodeJS.Timeout | null = null;

  constructor(cloud: CloudClient, options: ChannelRunnerOptions) {
    this.#cloud = cloud;
    this.#options = options;
  }

  start(): void {
    void this.#connect();
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    try {
      const opened = Date.now();
      this.#socket = await this.#cloud.openChannel({
        onRequest: (r) => this.#options.onRequest(r),
        onClose: (code, reason) => {
          this.#socket = null;
          if (this.#stopped) return;
          if (Date.now() - opened > 60_000) this.#delay = 1000;
          this.#options.log(`channel to the cloud closed (${code}${reason ? `: ${reason}` : ''}); reconnecting in ${Math.round(this.#delay / 1000)} s`);
          this.#retry();
        },
      }, this.#options.version);
      this.#options.log('channel to the cloud open: answering pass-through authentication');
    } catch (err) {
      this.#options.log(`channel to the cloud failed (${(err as Error).message}); retrying in ${Math.round(this.#delay / 1000)} s`);
      this.#retry();
    }
  }

  #retry(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#connect(), this.#delay);
    this.#delay = Math.min(30_000, this.#delay * 2);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#socket?.close(1000, 'agent stopping');
  }
}
