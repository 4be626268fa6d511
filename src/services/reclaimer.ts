import type { Clock } from '../domain/clock.js';
import type { Reclaim, Store } from './ports/store.js';

export interface ReclaimerOptions {
  /** Workers (or worker channel rows) deleted per transaction (default 250). */
  batchSize?: number;
  /** Look at the table at least this often, for reclaims another node or process left (default 10 s). */
  pollMs?: number;
  /** After a failed batch, try again this much later (default 1 s). */
  retryMs?: number;
  onError?: (err: unknown) => void;
  /** Hears each committed batch: whether more of that reclaim is left. */
  onBatch?: (reclaim: Reclaim, more: boolean) => void;
}

/** Event types whose transaction left a reclaim behind. */
const LEAVES_RECLAIM = new Set(['workspace.deleted', 'task-channel.deleted']);

/** Lets the requests that arrived meanwhile be served before the next batch. */
export const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Deletes what large deletes left behind (a workspace's workers, a task channel's worker
 * channel rows) in small transactions, yielding to the event loop between them, so that no
 * request waits for more than one batch. Each batch commits on its own and the reclaim's row
 * stays until the last one: after a crash or a stop, `start` goes on from where it was.
 * Nothing it deletes is visible: the resource itself was deleted at once.
 */
export class Reclaimer {
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly retryMs: number;
  private started = false;
  private active = false;
  /** Set when woken during a run: the run looks at the table once more before it ends. */
  private again = false;
  private running: Promise<void> = Promise.resolve();
  private cancelWake: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly deps: { store: Store; clock: Clock },
    private readonly options: ReclaimerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 250;
    this.pollMs = options.pollMs ?? 10_000;
    this.retryMs = options.retryMs ?? 1_000;
  }

  /** Goes on with what is pending, then keeps watch: every commit that leaves a reclaim wakes it. */
  start(): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.unsubscribe = this.deps.store.onEvents((events) => {
        if (events.some((e) => LEAVES_RECLAIM.has(e.type))) void this.run();
      });
    }
    return this.run();
  }

  /** Stops after the batch under way (if any); resolves once it has committed. */
  stop(): Promise<void> {
    this.started = false;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.cancelWake?.();
    this.cancelWake = undefined;
    return this.running;
  }

  /** Resolves once the run under way (if any) is over: with nothing pending, unless stopped. */
  idle(): Promise<void> {
    return this.running;
  }

  private run(): Promise<void> {
    if (!this.started) return this.running;
    if (this.active) {
      this.again = true;
      return this.running;
    }
    this.active = true;
    this.cancelWake?.();
    this.cancelWake = undefined;
    this.running = this.reclaimPending().finally(() => {
      this.active = false;
    });
    return this.running;
  }

  private async reclaimPending(): Promise<void> {
    let next = this.pollMs;
    try {
      do {
        this.again = false;
        for (const reclaim of await this.deps.store.pendingReclaims()) {
          for (;;) {
            if (!this.started) return;
            const more = await this.deps.store.transaction((tx) => tx.reclaimBatch(reclaim, this.batchSize));
            this.options.onBatch?.(reclaim, more);
            if (!more) break;
            await yieldToRequests();
          }
        }
      } while (this.again && this.started);
    } catch (err) {
      this.options.onError?.(err);
      next = this.retryMs;
    }
    if (this.started) {
      this.cancelWake = this.deps.clock.setTimer(this.deps.clock.now() + next, () => {
        this.cancelWake = undefined;
        void this.run();
      });
    }
  }
}
