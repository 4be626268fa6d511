import type { Clock } from '../domain/clock.js';
import { systemClock } from '../services/clock.js';
import type { DomainEvent, Store } from '../services/ports/store.js';
import {
  assignmentCallbackParams,
  parseAssignmentAnswer,
  type AssignmentContext,
  type AssignmentInstruction,
} from '../twilio/assignment.js';
import { postForm, type PostResult } from './http-post.js';
import { signedForm } from './signature.js';

/** What assignment callbacks need of routing: the callback's facts, and applying an answer. */
export interface AssignmentPort {
  /** The reservation's task, worker and workflow as a callback tells them; null when gone. */
  contextOf(event: DomainEvent): Promise<AssignmentContext | null>;
  /** Applies an instruction exactly as the Reservation update with these parameters would. */
  apply(context: AssignmentContext, instruction: AssignmentInstruction): Promise<void>;
}

export interface AssignmentCallbackOptions {
  /** One attempt waits this long for the answer. */
  timeoutMs: number;
  /** Callbacks under way at once. */
  concurrency: number;
  /** Look for callbacks other nodes queued, or whose lease ran out, at least this often. */
  pollMs: number;
}

export const DEFAULT_ASSIGNMENT_CALLBACK_OPTIONS: AssignmentCallbackOptions = {
  timeoutMs: 15_000,
  concurrency: 32,
  pollMs: 1_000,
};

/** What became of one reservation's callback (tests and /metrics). */
export type AssignmentOutcome =
  | { kind: 'applied'; url: string; instruction: AssignmentInstruction }
  | { kind: 'pending'; url: string }
  | { kind: 'invalid'; url: string; why: string }
  | { kind: 'failed'; error: string }
  | { kind: 'rejected-by-routing'; url: string; error: string };

/**
 * Assignment callbacks: after a reservation.created commits, POSTs Twilio's parameters (signed
 * as Twilio signs them) to its workflow's AssignmentCallbackUrl, then to the
 * FallbackAssignmentCallbackUrl if that fails, and applies the instruction the answer carries
 * (an empty answer leaves the reservation pending). A callback that nobody answers is not
 * retried: the reservation then times out as any unanswered one does (TaskReservationTimeout).
 *
 * At least once across restarts and nodes: the store queues each such reservation in its own
 * transaction (migration 014); a node claims queued ones for a lease, and removes them once their
 * callback is over. One cut short by a stop is released at once; one whose node died is taken
 * again when its lease runs out.
 */
export class AssignmentCallbacks {
  readonly stats = { posted: 0, applied: 0, failed: 0 };
  private readonly options: AssignmentCallbackOptions;
  private readonly clock: Clock;
  private started = false;
  private unsubscribe: (() => void) | undefined;
  private cancelPoll: (() => void) | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = new AbortController();
  private claiming: Promise<void> | null = null;
  private claimAgain = false;
  /** The last claim took all the room there was: a finishing callback claims again. */
  private full = false;
  /** Callbacks over, whose rows go in the next batch. */
  private finished: number[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly deps: {
      store: Store;
      port: AssignmentPort;
      clock?: Clock;
      onOutcome?: (event: DomainEvent, outcome: AssignmentOutcome) => void;
      onError?: (err: unknown) => void;
    },
    options: Partial<AssignmentCallbackOptions> = {},
  ) {
    this.options = { ...DEFAULT_ASSIGNMENT_CALLBACK_OPTIONS, ...options };
    this.clock = deps.clock ?? systemClock;
  }

  /** Starts; what was queued already (e.g. before a restart) goes out at once. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = new AbortController();
    this.unsubscribe = this.deps.store.onEvents((events) => {
      if (events.some((e) => e.type === 'reservation.created')) this.wake();
    });
    this.wake();
    this.poll();
  }

  /** Stops: callbacks under way are cut short and released, to be sent again. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.cancelPoll?.();
    this.stopping.abort();
    await this.claiming;
    await Promise.all(this.inFlight);
    await this.flushing;
  }

  /** Resolves once the callbacks under way and queued are over. */
  async idle(): Promise<void> {
    for (;;) {
      await new Promise((r) => setImmediate(r));
      if (!this.claiming && this.inFlight.size === 0 && !this.flushing && this.finished.length === 0) return;
      await Promise.all([this.claiming, ...this.inFlight, this.flushing]);
    }
  }

  private poll(): void {
    this.cancelPoll = this.clock.setTimer(this.clock.now() + this.options.pollMs, () => {
      if (!this.started) return;
      this.wake();
      this.poll();
    });
  }

  /** Something may be queued: claim, one claim at a time (a wake meanwhile claims once more). */
  wake(): void {
    if (!this.started) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = this.claim().finally(() => (this.claiming = null));
  }

  private async claim(): Promise<void> {
    do {
      this.claimAgain = false;
      const room = this.options.concurrency - this.inFlight.size;
      this.full = room <= 0;
      if (this.full) return;
      const leaseMs = 2 * this.options.timeoutMs + 30_000;
      let events: DomainEvent[];
      try {
        // A read first: reservations of workflows without a callback URL queue nothing, and
        // must not cost a write.
        const due = await this.deps.store.nextAssignmentCallbackDue();
        if (due === null || due > this.clock.now()) continue; // (unless woken meanwhile)
        events = await this.deps.store.transaction((tx) =>
          tx.claimAssignmentCallbacks(this.clock.now(), leaseMs, room),
        );
      } catch (err) {
        this.deps.onError?.(err);
        return;
      }
      for (const e of events) this.run(e);
      this.full = events.length === room;
      if (this.full) this.claimAgain = true;
    } while (this.claimAgain && this.started);
  }

  private run(event: DomainEvent): void {
    const work = (async () => {
      try {
        await this.handle(event);
      } catch (err) {
        this.deps.onError?.(err);
      }
      if (this.stopping.signal.aborted) await this.release(event.id);
      else await this.finish(event.id);
    })();
    this.inFlight.add(work);
    void work.finally(() => {
      this.inFlight.delete(work);
      if (this.full) this.wake();
    });
  }

  private async release(eventId: number): Promise<void> {
    try {
      await this.deps.store.transaction((tx) => tx.settleAssignmentCallbacks([eventId], false));
    } catch (err) {
      // Its lease runs out instead.
      this.deps.onError?.(err);
    }
  }

  /** The rows of finished callbacks go in batches: one write for all that finished meanwhile. */
  private finish(eventId: number): Promise<void> {
    this.finished.push(eventId);
    return this.flush();
  }

  private flush(): Promise<void> {
    this.flushing ??= (async () => {
      while (this.finished.length > 0) {
        const ids = this.finished;
        this.finished = [];
        try {
          await this.deps.store.transaction((tx) => tx.settleAssignmentCallbacks(ids, true));
        } catch (err) {
          this.deps.onError?.(err);
        }
      }
    })().finally(() => {
      this.flushing = null;
      if (this.finished.length > 0) void this.flush();
    });
    return this.flushing;
  }

  /** One reservation's callback: the URL, then the fallback; then its answer applied. */
  async handle(event: DomainEvent): Promise<AssignmentOutcome | null> {
    const context = await this.deps.port.contextOf(event);
    if (!context || context.assignmentCallbackUrl === null) return null;
    const account = await this.deps.store.getAccount(context.accountSid);
    if (!account) return null;
    const params = assignmentCallbackParams(context);
    let outcome: AssignmentOutcome = { kind: 'failed', error: 'no URL answered' };
    for (const url of [context.assignmentCallbackUrl, context.fallbackAssignmentCallbackUrl]) {
      if (url === null) continue;
      const { headers, body } = signedForm(account.authToken, url, params);
      const result: PostResult = await postForm(
        url,
        headers,
        body,
        this.options.timeoutMs,
        this.stopping.signal,
      );
      this.stats.posted++;
      if (!result.ok || result.status < 200 || result.status >= 300) {
        outcome = { kind: 'failed', error: result.ok ? `HTTP ${result.status}` : result.error };
        continue;
      }
      const answer = parseAssignmentAnswer(result.body);
      if (answer.kind === 'none') outcome = { kind: 'pending', url };
      else if (answer.kind === 'invalid') outcome = { kind: 'invalid', url, why: answer.why };
      else {
        try {
          await this.deps.port.apply(context, answer.instruction);
          outcome = { kind: 'applied', url, instruction: answer.instruction };
          this.stats.applied++;
        } catch (err) {
          // E.g. the reservation was accepted, or timed out, meanwhile: the answer comes too late.
          outcome = { kind: 'rejected-by-routing', url, error: (err as Error).message };
        }
      }
      break;
    }
    if (outcome.kind === 'failed') this.stats.failed++;
    this.deps.onOutcome?.(event, outcome);
    return outcome;
  }
}
