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
}

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
 */
export class AssignmentCallbacks {
  readonly stats = { posted: 0, applied: 0, failed: 0 };
  private unsubscribe: (() => void) | undefined;
  private readonly inFlight = new Set<Promise<AssignmentOutcome | null>>();
  private readonly stopping = new AbortController();

  constructor(
    private readonly deps: {
      store: Store;
      port: AssignmentPort;
      onOutcome?: (event: DomainEvent, outcome: AssignmentOutcome) => void;
      onError?: (err: unknown) => void;
    },
    private readonly options: AssignmentCallbackOptions = { timeoutMs: 15_000 },
  ) {}

  start(): void {
    this.unsubscribe ??= this.deps.store.onEvents((events) => {
      for (const e of events) {
        if (e.type !== 'reservation.created' || e.sid === undefined) continue;
        const event = { ...e, id: 0, sid: e.sid, sourceIp: e.sourceIp ?? null };
        const work = this.handle(event).catch((err: unknown) => {
          this.deps.onError?.(err);
          return null;
        });
        this.inFlight.add(work);
        void work.finally(() => this.inFlight.delete(work));
      }
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.stopping.abort();
    await Promise.all(this.inFlight);
  }

  /** Resolves once the callbacks under way are over. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
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
