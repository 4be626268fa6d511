import type { Clock } from '../domain/clock.js';
import type { NewTimer, Store, StoreTx, Timer } from '../services/ports/store.js';

/** What firing a timer of one kind does, in the transaction that takes the timer out. */
export type TimerHandler = (tx: StoreTx, timer: Timer) => Promise<void>;

/**
 * How often a running service looks at the table by default: the longest a timer another node
 * scheduled (and did not fire, e.g. because it died) waits past its due time. One indexed MIN read.
 */
export const DEFAULT_TIMER_POLL_MS = 100;

export interface TimerServiceOptions {
  /** Look at the table at least this often, for timers other nodes scheduled (default 100 ms). */
  pollMs?: number;
  /** After a failed firing, try again this much later (default 1 s). */
  retryMs?: number;
  onError?: (err: unknown) => void;
}

/**
 * Durable timers on the store, driven by the clock. A timer fires in a transaction that
 * takes it out of the table and runs its handler: it fires once (a commit removes it), again
 * only if that transaction rolls back or the process dies first (it is still due, so a
 * restart fires it), and on one node (claims skip rows another node holds).
 *
 * The service sleeps until the earliest due time in the table (read after every firing) and no
 * longer than `pollMs`; a timer scheduled on this node for earlier brings the wake forward at
 * its commit. So a timer fires at its time on the node that scheduled it, and within `pollMs` of
 * it on any other running node when that one is gone.
 */
export class TimerService {
  private readonly handlers = new Map<string, TimerHandler>();
  private readonly pollMs: number;
  private readonly retryMs: number;
  private cancelWake: (() => void) | undefined;
  private wakeAt = Infinity;
  private running: Promise<void> = Promise.resolve();
  private started = false;

  constructor(
    private readonly deps: { store: Store; clock: Clock },
    private readonly options: TimerServiceOptions = {},
  ) {
    this.pollMs = options.pollMs ?? DEFAULT_TIMER_POLL_MS;
    this.retryMs = options.retryMs ?? 1_000;
  }

  /** Says what timers of `kind` do when they fire. */
  on(kind: string, handler: TimerHandler): void {
    this.handlers.set(kind, handler);
  }

  /** Schedules (or moves) the timer of its kind and resource, in the caller's transaction. */
  async schedule(tx: StoreTx, timer: NewTimer): Promise<void> {
    await tx.scheduleTimer(timer);
    tx.onCommit(() => this.wakeBy(timer.dueAtMs));
  }

  cancel(tx: StoreTx, kind: string, resourceSid: string): Promise<void> {
    return tx.cancelTimer(kind, resourceSid);
  }

  /** Fires what is due already (timers that came due while Roster was down), then keeps watch. */
  start(): Promise<void> {
    this.started = true;
    return this.check();
  }

  stop(): Promise<void> {
    this.started = false;
    this.cancelWake?.();
    this.cancelWake = undefined;
    this.wakeAt = Infinity;
    return this.running;
  }

  /** Resolves once the firing under way (if any) is over. */
  idle(): Promise<void> {
    return this.running;
  }

  /**
   * Fires what is due now, after the firing under way (never two at once on one node), and
   * re-arms the wake when running. Failures go to `onError` and are tried again `retryMs` later.
   */
  check(): Promise<void> {
    this.running = this.running.then(() => this.fireAndRearm());
    return this.running;
  }

  /** Fires every timer due now, each in a transaction of its own; resolves with how many fired. */
  async fireDue(): Promise<number> {
    for (let fired = 0; ; fired++) {
      const now = this.deps.clock.now();
      const done = await this.deps.store.transaction(async (tx) => {
        const [timer] = await tx.claimDueTimers(now, 1);
        if (!timer) return false;
        const handler = this.handlers.get(timer.kind);
        if (!handler) throw new Error(`No handler for timers of kind ${timer.kind}`);
        await handler(tx, timer);
        return true;
      });
      if (!done) return fired;
    }
  }

  private async fireAndRearm(): Promise<void> {
    let next: number;
    let failed = false;
    try {
      // A cheap read first: most wakes (the poll) find nothing due, and claiming opens a transaction.
      next = (await this.deps.store.nextTimerDue()) ?? Infinity;
      if (next <= this.deps.clock.now()) {
        await this.fireDue();
        next = (await this.deps.store.nextTimerDue()) ?? Infinity;
      }
    } catch (err) {
      this.options.onError?.(err);
      failed = true;
      next = this.deps.clock.now() + this.retryMs;
    }
    if (!this.started) return;
    this.arm(failed ? next : Math.min(next, this.deps.clock.now() + this.pollMs));
  }

  /** A timer scheduled here for earlier than the next wake brings the wake forward. */
  private wakeBy(at: number): void {
    if (this.started && at < this.wakeAt) this.arm(at);
  }

  private arm(at: number): void {
    this.cancelWake?.();
    this.wakeAt = at;
    this.cancelWake = this.deps.clock.setTimer(at, () => {
      this.wakeAt = Infinity;
      this.cancelWake = undefined;
      void this.check();
    });
  }
}
