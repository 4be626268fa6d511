import type { CompiledExpression } from '../domain/expressions/index.js';
import { compileTargetWorkers, matchesQueue, workerDocument } from '../domain/task-queues.js';
import type { Worker } from '../domain/types.js';
import type { MemberCandidate, QueueExpression, Store, StoreTx, Timer } from './ports/store.js';

/**
 * Workers read per statement while a queue is evaluated against its whole workspace, and per
 * transaction of a queue's pass: tens of milliseconds of work, between which other requests are served.
 */
const CANDIDATE_PAGE = 2_000;
/** The durable timer that finishes a queue's pass if the write that began it could not. */
export const MEMBERSHIP_TIMER = 'task-queue.membership';
/** How long after a queue's write its pass is finished by the timer, unless done by then. */
const PASS_BACKSTOP_MS = 60_000;
/** Compiled expressions kept; a queue's entry is replaced when its text changes. */
const CACHE_LIMIT = 100_000;

/**
 * Keeps the (queue, worker) membership table exact, in the transaction of each change:
 * a worker's change re-evaluates the workspace's queues for that worker (O(queues)); a queue's
 * change evaluates every worker of the workspace. Predicates are compiled once per queue and
 * expression text, so a queue's entry is stale exactly when its text differs.
 */
export class QueueMembership {
  private readonly compiled = new Map<string, CompiledExpression>();
  /** Queues whose pass this process is running (a count: two writes may each run one). */
  private readonly running = new Map<string, number>();

  /** The queue's compiled expression, compiled now only if its text is new. */
  expression(q: QueueExpression): CompiledExpression {
    const known = this.compiled.get(q.sid);
    if (known && known.source === q.targetWorkers) return known;
    if (this.compiled.size >= CACHE_LIMIT) this.compiled.clear();
    const fresh = compileTargetWorkers(q.targetWorkers);
    this.compiled.set(q.sid, fresh);
    return fresh;
  }

  /** Remembers a queue's expression, just compiled by its write. */
  remember(sid: string, expression: CompiledExpression): void {
    this.compiled.set(sid, expression);
  }

  forget(sid: string): void {
    this.compiled.delete(sid);
  }

  /**
   * Re-evaluates the worker (as it is now) against the workspace's queues: every queue when its
   * attributes may have changed (or it is new), else only the queues reading worker fields.
   */
  async evaluateWorker(tx: StoreTx, worker: Worker, scope: 'all' | 'fields'): Promise<void> {
    await tx.holdWorkspace(worker.workspaceSid, 'shared');
    const queues = await tx.queueExpressions(worker.workspaceSid, scope === 'fields');
    if (queues.length === 0) return;
    // Read again under the hold: an activity renamed meanwhile (PostgreSQL, another
    // transaction) has committed by now, and its new name is what the queues must see.
    const current = (await tx.getWorker(worker.workspaceSid, worker.sid)) ?? worker;
    const doc = workerDocument(current);
    const members = queues.filter((q) => matchesQueue(this.expression(q), doc)).map((q) => q.sid);
    await tx.setWorkerMembership(
      worker.workspaceSid,
      worker.sid,
      queues.map((q) => q.sid),
      members,
    );
  }

  /**
   * Evaluates every worker of the workspace against one queue's expression, in the caller's
   * transaction: what the backstop timer does when a pass was cut short (see `passOf`).
   */
  async evaluateQueue(
    tx: StoreTx,
    workspaceSid: string,
    queueSid: string,
    expression: CompiledExpression,
  ): Promise<void> {
    await tx.holdWorkspace(workspaceSid, 'exclusive');
    await tx.clearQueueMembers(queueSid);
    if (expression.constant === false) return;
    for (let after = 0; ;) {
      const candidates = await tx.memberCandidates(workspaceSid, after, CANDIDATE_PAGE);
      if (candidates.length === 0) return;
      await tx.addQueueMembers(workspaceSid, queueSid, this.membersOf(expression, candidates));
      after = candidates[candidates.length - 1]!.id;
    }
  }

  /**
   * In the transaction of a queue's create or TargetWorkers change: orders it after the passes
   * under way in the workspace, and schedules the backstop that finishes its own pass should the
   * write not get to (the process dies, the database goes away between chunks).
   */
  async beginPass(tx: StoreTx, workspaceSid: string, queueSid: string, nowMs: number): Promise<void> {
    await tx.holdWorkspace(workspaceSid, 'exclusive');
    await tx.scheduleTimer({
      workspaceSid,
      kind: MEMBERSHIP_TIMER,
      resourceSid: queueSid,
      dueAtMs: nowMs + PASS_BACKSTOP_MS,
    });
  }

  /**
   * A queue's pass over the workspace's workers after its create or TargetWorkers change, in
   * chunks of CANDIDATE_PAGE workers by row id, each chunk a transaction of its own: a queue
   * over 100,000 workers is then some fifty short transactions, and the requests that arrive
   * meanwhile are served between them instead of waiting for one long one. The write's
   * response waits for the last chunk, so membership is exact once the write has returned.
   *
   * Why this stays exact: each chunk re-reads the queue under the workspace's exclusive hold
   * and goes on only while its TargetWorkers is still `source` (a later change runs a pass of
   * its own; a deleted queue needs none); it replaces the queue's members in its range of
   * worker ids (after the previous chunk's last id, through its own last; the last chunk has
   * no upper bound) with the workers of that range that match now. A worker written between
   * chunks is evaluated by its own write against the queue as it is then (its new expression,
   * committed before the first chunk), whichever side of the pass its id lies; a chunk that
   * reads it later finds the same answer. While the pass runs, reads of this queue's
   * membership see the chunks done so far: workers after the pass's position still show as
   * they were before the write (none, for a new queue). That window is the write's own
   * duration, as a write's partial effects would be to a reader racing it.
   *
   * The design that would hide the window (evaluating into a second set of rows and swapping
   * at the end) doubles the writes of every worker change during a pass and the rows of the
   * queue for its length; the window is documented instead (README, Differences).
   *
   * If a chunk fails, the error is the write's answer; the backstop timer (scheduled by
   * `beginPass`, cancelled by the last chunk) evaluates the queue again in one transaction.
   */
  async passOf(store: Store, workspaceSid: string, queueSid: string, source: string): Promise<void> {
    this.running.set(queueSid, (this.running.get(queueSid) ?? 0) + 1);
    try {
      for (let after = 0; after !== -1;) {
        const from = after;
        after = await store.transaction(async (tx) => {
          await tx.holdWorkspace(workspaceSid, 'exclusive');
          const queue = await tx.getTaskQueue(workspaceSid, queueSid);
          if (!queue || queue.targetWorkers !== source) return -1;
          const expression = this.expression(queue);
          const candidates = await tx.memberCandidates(workspaceSid, from, CANDIDATE_PAGE);
          const last = candidates.length < CANDIDATE_PAGE ? null : candidates[candidates.length - 1]!.id;
          await tx.clearQueueMembers(queueSid, { afterId: from, throughId: last });
          await tx.addQueueMembers(workspaceSid, queueSid, this.membersOf(expression, candidates));
          if (last !== null) return last;
          await tx.cancelTimer(MEMBERSHIP_TIMER, queueSid);
          return -1;
        });
      }
    } finally {
      const left = (this.running.get(queueSid) ?? 1) - 1;
      if (left === 0) this.running.delete(queueSid);
      else this.running.set(queueSid, left);
    }
  }

  /**
   * The backstop timer's firing: the queue's pass was not finished by its write, so evaluate it
   * now, whole. While this process still runs a pass of the queue, wait for it instead (again
   * later): that pass is on its way to the same end.
   */
  async finishPass(tx: StoreTx, timer: Timer, nowMs: number): Promise<void> {
    if (this.running.has(timer.resourceSid)) {
      const { workspaceSid, kind, resourceSid } = timer;
      await tx.scheduleTimer({ workspaceSid, kind, resourceSid, dueAtMs: nowMs + PASS_BACKSTOP_MS });
      return;
    }
    await tx.holdWorkspace(timer.workspaceSid, 'exclusive');
    const queue = await tx.getTaskQueue(timer.workspaceSid, timer.resourceSid);
    if (!queue) return;
    await this.evaluateQueue(tx, timer.workspaceSid, queue.sid, this.expression(queue));
  }

  private membersOf(expression: CompiledExpression, candidates: MemberCandidate[]): MemberCandidate[] {
    if (expression.constant === true) return candidates;
    if (expression.constant === false) return [];
    return candidates.filter((k) => matchesQueue(expression, workerDocument(k)));
  }

  /** After an activity's rename: its workers against the queues that read worker fields. */
  async evaluateActivity(tx: StoreTx, workspaceSid: string, activitySid: string): Promise<void> {
    await tx.holdWorkspace(workspaceSid, 'exclusive');
    const queues = await tx.queueExpressions(workspaceSid, true);
    if (queues.length === 0) return;
    const sids = queues.map((q) => q.sid);
    for (let after = 0; ;) {
      const candidates = await tx.memberCandidates(workspaceSid, after, CANDIDATE_PAGE, activitySid);
      if (candidates.length === 0) return;
      for (const k of candidates) {
        const doc = workerDocument(k);
        const members = queues.filter((q) => matchesQueue(this.expression(q), doc)).map((q) => q.sid);
        await tx.setWorkerMembership(workspaceSid, k.sid, sids, members);
      }
      after = candidates[candidates.length - 1]!.id;
    }
  }
}
