import type { Clock } from '../domain/clock.js';
import { nextRetryDelay } from '../domain/events.js';
import type { DeliveryOutcome, EventDelivery, Store } from '../services/ports/store.js';
import { eventCallbackParams } from '../twilio/events.js';
import { postForm, type PostResult } from './http-post.js';
import { signedForm } from './signature.js';

export interface EventCallbackOptions {
  /** One attempt waits this long for an answer (Twilio: 15 s). */
  timeoutMs: number;
  /** The first retry comes this much after a failure, each next one twice as late… */
  retryBaseMs: number;
  /** …but never more than this apart. */
  retryMaxMs: number;
  /** Past this much time after its first attempt, a delivery that still fails is given up (failed). */
  horizonMs: number;
  /** Deliveries under way at once (each workspace's one at a time). */
  concurrency: number;
  /** Look for deliveries other nodes queued at least this often. */
  pollMs: number;
  /** A claim takes up to this many of a workspace's pending deliveries, sent in order. */
  batch: number;
}

export const DEFAULT_EVENT_CALLBACK_OPTIONS: EventCallbackOptions = {
  timeoutMs: 15_000,
  retryBaseMs: 1_000,
  retryMaxMs: 300_000,
  horizonMs: 3_600_000,
  concurrency: 8,
  pollMs: 1_000,
  batch: 100,
};

/** Counts since start, for /metrics. */
export interface EventCallbackStats {
  attempts: number;
  delivered: number;
  retried: number;
  failed: number;
}

/**
 * Delivers event callbacks from the store's queue (`event_deliveries`, filled in each event's
 * own transaction): at least once, each workspace's events in order and one at a time, retried
 * with doubling delays on the clock until the horizon, then marked failed. Runs beside the
 * API: a slow or failing receiver holds one of `concurrency` delivery loops, never a request.
 * A claimed delivery is leased for longer than an attempt can take, so if this node dies
 * mid-way, another (or this one after a restart) sends it again.
 */
export class EventCallbacks {
  readonly stats: EventCallbackStats = { attempts: 0, delivered: 0, retried: 0, failed: 0 };
  private readonly options: EventCallbackOptions;
  private started = false;
  private loops: Promise<void>[] = [];
  private wakeUp: (() => void) | undefined;
  private wakeSignal: Promise<void> = Promise.resolve();
  private cancelTimer: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopping = new AbortController();
  /** Loops looking for work; when it falls to 0 the next due time is armed on the clock. */
  private busy = 0;

  constructor(
    private readonly deps: { store: Store; clock: Clock; onError?: (err: unknown) => void },
    options: Partial<EventCallbackOptions> = {},
  ) {
    this.options = { ...DEFAULT_EVENT_CALLBACK_OPTIONS, ...options };
  }

  /** Starts the loops; they deliver what is pending already (e.g. from before a restart). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = new AbortController();
    this.resetSignal();
    this.unsubscribe = this.deps.store.onEvents((events) => {
      // A workspace this node is sending a run of: its loop claims what follows when done.
      if (events.some((e) => !this.delivering.has(e.workspaceSid))) this.wake();
    });
    for (let i = 0; i < this.options.concurrency; i++) this.loops.push(this.loop());
  }

  /** Stops: attempts under way are cut short (their leases run out, so they are sent again). */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.unsubscribe?.();
    this.cancelTimer?.();
    this.stopping.abort();
    this.wakeUp?.();
    await Promise.all(this.loops);
    this.loops = [];
  }

  /**
   * Something may be due (a commit, a replay, the clock): one read says whether anything is,
   * and only then do the idle loops claim (claims are write transactions; commits that queue
   * no callback must not cost one). Checks run one at a time, a burst of wakes making one more.
   */
  wake(): void {
    if (!this.started) return;
    if (this.checking) {
      this.checkAgain = true;
      return;
    }
    this.checking = true;
    void this.check();
  }

  private checking = false;
  private checkAgain = false;

  private async check(): Promise<void> {
    do {
      this.checkAgain = false;
      try {
        const due = await this.deps.store.nextDeliveryDue();
        if (due !== null && due <= this.deps.clock.now()) this.wakeUp?.();
        else if (this.busy === 0) this.armAt(due);
      } catch (err) {
        this.deps.onError?.(err);
      }
    } while (this.checkAgain && this.started);
    this.checking = false;
  }

  /** Resolves once no loop has anything due to send (tests: after a clock move). */
  async idle(): Promise<void> {
    for (;;) {
      const before = this.stats.attempts;
      await new Promise((r) => setImmediate(r));
      if (this.busy === 0 && !this.checking && this.stats.attempts === before) {
        const due = await this.deps.store.nextDeliveryDue();
        if (due === null || due > this.deps.clock.now()) return;
      }
    }
  }

  private resetSignal(): void {
    this.wakeSignal = new Promise((resolve) => {
      this.wakeUp = () => {
        this.resetSignal();
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    while (this.started) {
      const signal = this.wakeSignal;
      this.busy++;
      let delivered = false;
      try {
        delivered = await this.deliverOne();
        // The last loop to find nothing due sets the clock for the next due time (still
        // counted busy meanwhile, so that `idle()` waits for it).
        if (!delivered && this.busy === 1) await this.armNextDue();
      } catch (err) {
        this.deps.onError?.(err);
      } finally {
        this.busy--;
      }
      if (!delivered) await signal;
    }
  }

  /**
   * Claims the next due run of a workspace's deliveries (its oldest pending one and up to
   * `batch - 1` after it), sends them in order and settles them in one write; false when
   * nothing was due. The run stops at a failure (what follows waits behind it), at a stop, or
   * when what is left of the lease could not cover another attempt.
   */
  private async deliverOne(): Promise<boolean> {
    const now = this.deps.clock.now();
    const leaseMs = this.options.timeoutMs + 30_000;
    const run = await this.deps.store.transaction((tx) =>
      tx.claimDeliveries(now, leaseMs, 1, this.options.batch),
    );
    if (run.length === 0) return false;
    const workspace = run[0]!.workspaceSid;
    this.delivering.add(workspace);
    try {
      const delivered: number[] = [];
      let failure: { eventId: number; outcome: DeliveryOutcome } | null = null;
      let next = 0;
      const sender = await this.senderFor(run[0]!);
      for (; next < run.length; next++) {
        if (next > 0 && (!this.started || this.deps.clock.now() + this.options.timeoutMs > now + leaseMs))
          break;
        const d = run[next]!;
        const result = sender ? await sender(d) : ({ ok: false, error: 'the account is gone' } as const);
        // Cut short by a stop: released below, sent again after a restart.
        if (!this.started && !result.ok && result.error === 'stopped') break;
        const outcome = this.outcomeOf(d, result);
        this.stats.attempts++;
        if (outcome.kind === 'delivered') {
          this.stats.delivered++;
          delivered.push(d.eventId);
          continue;
        }
        if (outcome.kind === 'retry') this.stats.retried++;
        else this.stats.failed++;
        failure = { eventId: d.eventId, outcome };
        next++;
        break;
      }
      const released = run.slice(next).map((d) => d.eventId);
      await this.deps.store.transaction((tx) => tx.settleDeliveries(delivered, failure, released));
    } finally {
      this.delivering.delete(workspace);
    }
    return true;
  }

  /** Workspaces whose run this node is sending: their new events join its next claim. */
  private readonly delivering = new Set<string>();

  /** Sends a workspace's deliveries, its account and name read once for a run; null when the account is gone. */
  private async senderFor(first: EventDelivery): Promise<((d: EventDelivery) => Promise<PostResult>) | null> {
    const account = await this.deps.store.getAccount(first.event.accountSid);
    if (!account) return null;
    const workspace = await this.deps.store.getWorkspace(first.event.accountSid, first.workspaceSid);
    const name = workspace?.friendlyName ?? '';
    return (d) => {
      const { headers, body } = signedForm(account.authToken, d.url, eventCallbackParams(d.event, name));
      headers['i-twilio-idempotency-token'] = d.event.sid;
      return postForm(d.url, headers, body, this.options.timeoutMs, this.stopping.signal);
    };
  }

  private outcomeOf(d: EventDelivery, result: PostResult): DeliveryOutcome {
    if (result.ok && result.status >= 200 && result.status < 300) return { kind: 'delivered' };
    const now = this.deps.clock.now();
    const attempts = d.attempts + 1;
    const firstAttemptMs = d.firstAttemptMs ?? now;
    const status = result.ok ? result.status : null;
    const error = result.ok ? `HTTP ${result.status}` : result.error;
    const nextAttemptMs = now + nextRetryDelay(attempts, this.options.retryBaseMs, this.options.retryMaxMs);
    const giveUp = nextAttemptMs > firstAttemptMs + this.options.horizonMs;
    return { kind: giveUp ? 'failed' : 'retry', attempts, firstAttemptMs, nextAttemptMs, status, error };
  }

  /** Sleeps on the clock until the next retry is due, or the poll for other nodes' deliveries. */
  private async armNextDue(): Promise<void> {
    let due: number | null = null;
    try {
      due = await this.deps.store.nextDeliveryDue();
    } catch (err) {
      this.deps.onError?.(err);
    }
    if (!this.started) return;
    if (due !== null && due <= this.deps.clock.now()) return this.wakeUp?.();
    this.armAt(due);
  }

  private armAt(due: number | null): void {
    if (!this.started) return;
    const at = Math.min(due ?? Infinity, this.deps.clock.now() + this.options.pollMs);
    this.cancelTimer?.();
    this.cancelTimer = this.deps.clock.setTimer(at, () => {
      this.cancelTimer = undefined;
      this.wake();
    });
  }
}
