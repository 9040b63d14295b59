/**
 * Keeps the connector space current: an import at start, then a delta
 * whenever the DC signals a change (within about a second), and at the latest
 * every pollIntervalSeconds as a safety net. Runs never overlap: a signal
 * during a run schedules exactly one more run after it.
 */
import { ChangeNotifier } from './change-notifier.ts';
import type { AdImporter, ImportSummary } from './importer.ts';
import type { ActiveDirectoryConfig } from '../config/agent-config.ts';
import type { AdConnection } from './connection.ts';

export interface WatcherEvents {
  onRun?(summary: ImportSummary): void;
  /** work that follows each import inside the same run (the sync cycle): runs never overlap, and a failure is retried with backoff */
  afterRun?(summary: ImportSummary): Promise<void>;
  onError?(err: Error): void;
  onNotifierError?(err: Error, retryInMs: number): void;
}

export class ImportWatcher {
  private readonly importer: AdImporter;
  private readonly notifier: ChangeNotifier;
  private readonly config: ActiveDirectoryConfig;
  private readonly events: WatcherEvents;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private failures = 0;
  /** Completed runs, for callers that wait for one. */
  runs = 0;

  constructor(importer: AdImporter, config: ActiveDirectoryConfig, password: string, events: WatcherEvents = {}, connect?: () => Promise<AdConnection>) {
    this.importer = importer;
    this.config = config;
    this.events = events;
    this.notifier = new ChangeNotifier(config, password, {
      onChange: () => this.signal(),
      onError: (err, retry) => this.events.onNotifierError?.(err, retry),
    }, connect);
  }

  /** Runs the first import, then watches. Resolves when the first import is done. */
  async start(): Promise<void> {
    // Watch first: a change made during the first import must trigger a run after it.
    await this.notifier.start();
    this.signal(0);
    await this.idle();
  }

  /** Resolves when no run is in progress or pending. */
  async idle(): Promise<void> {
    while (this.running || this.debounce) {
      if (this.running) await this.running;
      else await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Asks for a delta soon; signals within 50 ms collapse into one run. */
  signal(delayMs = 50): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.running = this.runOnce().finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.signal(0);
        }
      });
    }, delayMs);
  }

  private async runOnce(): Promise<void> {
    if (this.poll) clearTimeout(this.poll);
    try {
      const summary = await this.importer.run('auto');
      this.events.onRun?.(summary);
      await this.events.afterRun?.(summary);
      this.failures = 0;
      this.runs += 1;
    } catch (err) {
      this.failures += 1;
      this.events.onError?.(err as Error);
      // Try again with backoff; the change position is intact.
      if (!this.stopped) this.poll = setTimeout(() => this.signal(0), Math.min(60_000, 1000 * 2 ** Math.min(this.failures - 1, 6)));
      return;
    }
    if (!this.stopped && this.config.pollIntervalSeconds > 0) {
      this.poll = setTimeout(() => this.signal(0), this.config.pollIntervalSeconds * 1000);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = undefined;
    if (this.poll) clearTimeout(this.poll);
    await this.notifier.stop();
    if (this.running) await this.running.catch(() => {});
  }
}
