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
}

export const DEFAULT_EVENT_CALLBACK_OPTIONS: EventCallbackOptions = {
  timeoutMs: 15_000,
  retryBaseMs: 1_000,
  retryMaxMs: 300_000,
  horizonMs: 3_600_000,
  concurrency: 8,
  pollMs: 1_000,
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
  private readonly stopping = new AbortController();
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
    this.resetSignal();
    this.unsubscribe = this.deps.store.onEvents(() => this.wake());
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

  /** Claims the next due delivery, sends it and settles it; false when nothing was due. */
  private async deliverOne(): Promise<boolean> {
    const now = this.deps.clock.now();
    const leaseMs = this.options.timeoutMs + 30_000;
    const [delivery] = await this.deps.store.transaction((tx) => tx.claimDeliveries(now, leaseMs, 1));
    if (!delivery) return false;
    const result = await this.send(delivery);
    if (!this.started && !result.ok && result.error === 'stopped') return true;
    const outcome = this.outcomeOf(delivery, result);
    await this.deps.store.transaction((tx) => tx.settleDelivery(delivery.eventId, outcome));
    this.stats.attempts++;
    if (outcome.kind === 'delivered') this.stats.delivered++;
    else if (outcome.kind === 'retry') this.stats.retried++;
    else this.stats.failed++;
    return true;
  }

  private async send(d: EventDelivery): Promise<PostResult> {
    const account = await this.deps.store.getAccount(d.event.accountSid);
    if (!account) return { ok: false, error: 'the account is gone' };
    const workspace = await this.deps.store.getWorkspace(d.event.accountSid, d.workspaceSid);
    const params = eventCallbackParams(d.event, workspace?.friendlyName ?? '');
    const { headers, body } = signedForm(account.authToken, d.url, params);
    headers['i-twilio-idempotency-token'] = d.event.sid;
    return postForm(d.url, headers, body, this.options.timeoutMs, this.stopping.signal);
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
