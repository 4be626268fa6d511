import type { Clock } from '../domain/clock.js';
import type { Store } from '../services/ports/store.js';

const DAY_MS = 86_400_000;
/** Events deleted per transaction: short transactions, so that writes never wait long. */
const BATCH = 1_000;

/**
 * The event log's retention: events older than `days` are deleted (Twilio keeps 30 days),
 * at start and then every `everyMs`, in short transactions.
 */
export class EventRetention {
  private cancel: (() => void) | undefined;
  private running: Promise<void> = Promise.resolve();
  private started = false;
  private stopped = false;

  constructor(
    private readonly deps: { store: Store; clock: Clock; onError?: (err: unknown) => void },
    private readonly options: { days: number; everyMs?: number },
  ) {}

  start(): void {
    if (this.options.days <= 0 || this.started) return;
    this.started = true;
    this.schedule(this.deps.clock.now());
  }

  async stop(): Promise<void> {
    this.started = false;
    this.stopped = true;
    this.cancel?.();
    await this.running;
  }

  /** Resolves once the run under way (if any) is over. */
  idle(): Promise<void> {
    return this.running;
  }

  /** Deletes what is past retention now; resolves with how many events went. */
  async runOnce(): Promise<number> {
    const before = this.deps.clock.now() - this.options.days * DAY_MS;
    let deleted = 0;
    for (;;) {
      const n = await this.deps.store.transaction((tx) => tx.deleteEventsBefore(before, BATCH));
      deleted += n;
      if (n === 0 || this.stopped) return deleted;
    }
  }

  private schedule(at: number): void {
    this.cancel = this.deps.clock.setTimer(at, () => {
      this.running = this.runOnce().then(
        () => undefined,
        (err: unknown) => this.deps.onError?.(err),
      );
      void this.running.then(() => {
        if (this.started) this.schedule(this.deps.clock.now() + (this.options.everyMs ?? 3_600_000));
      });
    });
  }
}
