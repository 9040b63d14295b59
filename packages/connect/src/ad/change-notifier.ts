/**
 * Change notification (LDAP_SERVER_NOTIFICATION_OID): one long-lived search
 * on the domain's naming context that the DC answers with an entry whenever
 * an object changes. It carries no data the agent uses; it only says "run a
 * delta now". While nothing changes, nothing crosses the wire.
 *
 * ldapts gathers a search's entries until the search ends, and this one never
 * ends; so the notifier listens to the client's message parser and takes each
 * entry as it arrives (ldapts internals; test/ad/watch.test.ts guards them).
 */
import { SearchEntry } from 'ldapts';
import type { ActiveDirectoryConfig } from '../config/agent-config.ts';
import { AdConnection } from './connection.ts';
import { NotificationControl } from './controls/notification-control.ts';
import { internals, searchRequest } from './ldap/raw-search.ts';

export interface NotifierEvents {
  /** Something changed (or may have: called once after every reconnect). */
  onChange(): void;
  /** The watch broke; it reconnects by itself after `retryInMs`. */
  onError?(err: Error, retryInMs: number): void;
  /** The watch is established. */
  onReady?(): void;
}

export class ChangeNotifier {
  private readonly config: ActiveDirectoryConfig;
  private readonly password: string;
  private readonly events: NotifierEvents;
  private readonly connect: () => Promise<AdConnection>;
  private conn: AdConnection | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(config: ActiveDirectoryConfig, password: string, events: NotifierEvents, connect?: () => Promise<AdConnection>) {
    this.config = config;
    this.password = password;
    this.events = events;
    this.connect = connect ?? (() => AdConnection.open(this.config, this.password));
  }

  /** Starts watching; resolves once the first watch is established (or failed and is being retried). */
  async start(): Promise<void> {
    await this.watch(false);
  }

  private async watch(reconnected: boolean): Promise<void> {
    if (this.stopped) return;
    let conn: AdConnection;
    try {
      conn = await this.connect();
    } catch (err) {
      this.retry(err as Error);
      return;
    }
    if (this.stopped) {
      await conn.close();
      return;
    }
    this.conn = conn;
    const client = internals(conn.client);
    const request = searchRequest({ base: conn.rootDse.defaultNamingContext, scope: 'sub', filter: '(objectClass=*)', attributes: ['objectGUID'] }, [new NotificationControl()]);
    request.messageId = client._nextMessageId();
    // Take each entry of this search as it comes. ldapts's own listener (registered first) keeps
    // entries until the search ends; this one empties that list, so a long watch holds nothing.
    const raw = conn.client as unknown as {
      messageParser: { on(event: 'message', listener: (m: unknown) => void): void };
      messageDetailsByMessageId: Map<string, { searchEntries?: unknown[] }>;
    };
    raw.messageParser.on('message', (message: unknown) => {
      if (!(message instanceof SearchEntry) || message.messageId !== request.messageId) return;
      const details = raw.messageDetailsByMessageId.get(String(request.messageId));
      if (details) details.searchEntries = [];
      this.failures = 0;
      this.events.onChange();
    });
    // The search has no time limit; the client's per-operation timeout must not end it either.
    (conn.client as unknown as { clientOptions: { timeout?: number } }).clientOptions.timeout = 0;
    const done = client._send(request);
    this.events.onReady?.();
    if (reconnected) this.events.onChange();
    done.then(
      (result) => {
        if (this.stopped) return;
        this.retry(new Error(`the domain controller ended the change notification search (${(result as { errorMessage?: string } | undefined)?.errorMessage || `status ${(result as { status?: number } | undefined)?.status}`})`));
      },
      (err: unknown) => {
        if (this.stopped) return;
        this.retry(err as Error);
      },
    );
  }

  private retry(err: Error): void {
    if (this.stopped) return;
    void this.conn?.close();
    this.conn = undefined;
    this.failures += 1;
    const delay = Math.min(60_000, 500 * 2 ** Math.min(this.failures - 1, 7));
    this.events.onError?.(err, delay);
    this.retryTimer = setTimeout(() => void this.watch(true), delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.conn?.close();
    this.conn = undefined;
  }
}
