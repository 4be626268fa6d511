import type { CompiledExpression } from '../domain/expressions/index.js';
import { compileTargetWorkers, matchesQueue, workerDocument } from '../domain/task-queues.js';
import { SidPrefix } from '../domain/sid.js';
import type { Worker } from '../domain/types.js';
import type { MemberCandidate, QueueExpression, Store, StoreTx, Timer } from './ports/store.js';
import { yieldToRequests } from './reclaimer.js';

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
/** A pass's chunk answers: the pass is over (its backstop goes), or a later write made it moot. */
const DONE = -1;
const SUPERSEDED = -2;

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
   * In the transaction of a queue's create or TargetWorkers change, or an activity's rename:
   * orders it after the passes under way in the workspace, and schedules the backstop that
   * finishes its own pass (keyed by the queue's or activity's SID) should the write not get to
   * (the process dies, the database goes away between chunks).
   */
  async beginPass(tx: StoreTx, workspaceSid: string, sid: string, nowMs: number): Promise<void> {
    await tx.holdWorkspace(workspaceSid, 'exclusive');
    await tx.scheduleTimer({
      workspaceSid,
      kind: MEMBERSHIP_TIMER,
      resourceSid: sid,
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
  passOf(store: Store, workspaceSid: string, queueSid: string, source: string): Promise<void> {
    return this.inChunks(store, workspaceSid, queueSid, async (tx, from) => {
      const queue = await tx.getTaskQueue(workspaceSid, queueSid);
      if (!queue || queue.targetWorkers !== source) return SUPERSEDED;
      const expression = this.expression(queue);
      const candidates = await tx.memberCandidates(workspaceSid, from, CANDIDATE_PAGE);
      const last = candidates.length < CANDIDATE_PAGE ? null : candidates[candidates.length - 1]!.id;
      await tx.clearQueueMembers(queueSid, { afterId: from, throughId: last });
      await tx.addQueueMembers(workspaceSid, queueSid, this.membersOf(expression, candidates));
      return last ?? DONE;
    });
  }

  /**
   * An activity's pass after its rename: its workers, CANDIDATE_PAGE at a time by row id, each
   * chunk a transaction of its own, against the queues reading worker fields (activity_name is
   * one), so a rename over a million workers is some five hundred short transactions rather than
   * one that holds every other request up. The rename's response waits for the last chunk.
   *
   * Exact as `passOf` is: each chunk re-reads the activity under the workspace's exclusive hold
   * and goes on only while its name is still `source` (a later rename runs a pass of its own);
   * it sets the membership of its workers (those in the activity now) to what the queues as they
   * are now say. A worker that enters or leaves the activity between chunks, or whose attributes
   * change, is evaluated by its own write against the new name (committed before the first chunk);
   * a queue changed meanwhile evaluates every worker by its own pass. The window while the pass
   * runs is `passOf`'s: workers after its position show the membership of the old name.
   * A pass cut short is finished by the same backstop timer, keyed by the activity's SID.
   */
  activityPassOf(store: Store, workspaceSid: string, activitySid: string, source: string): Promise<void> {
    return this.inChunks(store, workspaceSid, activitySid, async (tx, from) => {
      const activity = await tx.getActivity(workspaceSid, activitySid);
      if (!activity || activity.friendlyName !== source) return SUPERSEDED;
      return (await this.activityChunk(tx, workspaceSid, activitySid, from)) ?? DONE;
    });
  }

  /**
   * Runs a pass as a series of transactions, each under the workspace's exclusive hold: `chunk`
   * does the work after row id `from` and answers the last id it covered, DONE when the pass is
   * over (its backstop timer is cancelled in that chunk's transaction), or SUPERSEDED when a later
   * write (which scheduled the same timer, for a pass of its own) or a delete made it moot.
   */
  private async inChunks(
    store: Store,
    workspaceSid: string,
    sid: string,
    chunk: (tx: StoreTx, from: number) => Promise<number>,
  ): Promise<void> {
    this.running.set(sid, (this.running.get(sid) ?? 0) + 1);
    try {
      for (let after = 0; after >= 0;) {
        const from = after;
        after = await store.transaction(async (tx) => {
          await tx.holdWorkspace(workspaceSid, 'exclusive');
          const last = await chunk(tx, from);
          if (last === DONE) await tx.cancelTimer(MEMBERSHIP_TIMER, sid);
          return last;
        });
        // What arrived during the chunk is served before the next one starts.
        if (after >= 0) await yieldToRequests();
      }
    } finally {
      const left = (this.running.get(sid) ?? 1) - 1;
      if (left === 0) this.running.delete(sid);
      else this.running.set(sid, left);
    }
  }

  /**
   * The backstop timer's firing: the pass (of a queue, or of an activity's rename: the timer's
   * resource SID says which) was not finished by its write, so run it now, whole. While this
   * process still runs a pass of that resource, wait for it instead (again later): that pass is
   * on its way to the same end.
   */
  async finishPass(tx: StoreTx, timer: Timer, nowMs: number): Promise<void> {
    if (this.running.has(timer.resourceSid)) {
      const { workspaceSid, kind, resourceSid } = timer;
      await tx.scheduleTimer({ workspaceSid, kind, resourceSid, dueAtMs: nowMs + PASS_BACKSTOP_MS });
      return;
    }
    await tx.holdWorkspace(timer.workspaceSid, 'exclusive');
    if (timer.resourceSid.startsWith(SidPrefix.activity)) {
      await this.evaluateActivity(tx, timer.workspaceSid, timer.resourceSid);
      return;
    }
    const queue = await tx.getTaskQueue(timer.workspaceSid, timer.resourceSid);
    if (!queue) return;
    await this.evaluateQueue(tx, timer.workspaceSid, queue.sid, this.expression(queue));
  }

  private membersOf(expression: CompiledExpression, candidates: MemberCandidate[]): MemberCandidate[] {
    if (expression.constant === true) return candidates;
    if (expression.constant === false) return [];
    return candidates.filter((k) => matchesQueue(expression, workerDocument(k)));
  }

  /**
   * An activity's workers against the queues that read worker fields, all in the caller's
   * transaction: what the backstop timer does when a rename's pass was cut short.
   */
  async evaluateActivity(tx: StoreTx, workspaceSid: string, activitySid: string): Promise<void> {
    await tx.holdWorkspace(workspaceSid, 'exclusive');
    for (let after: number | null = 0; after !== null;) {
      after = await this.activityChunk(tx, workspaceSid, activitySid, after);
    }
  }

  /**
   * Sets the membership of up to CANDIDATE_PAGE of the activity's workers (after row id `from`)
   * in the queues reading worker fields to what those queues say now: per queue, one delete and
   * one insert for the whole chunk. Answers the last worker's id, or null when none may follow.
   */
  private async activityChunk(
    tx: StoreTx,
    workspaceSid: string,
    activitySid: string,
    from: number,
  ): Promise<number | null> {
    const queues = await tx.queueExpressions(workspaceSid, true);
    if (queues.length === 0) return null;
    const candidates = await tx.memberCandidates(workspaceSid, from, CANDIDATE_PAGE, activitySid);
    if (candidates.length === 0) return null;
    const workerIds = candidates.map((k) => k.id);
    for (const q of queues) {
      await tx.clearQueueMembers(q.sid, { workerIds });
      await tx.addQueueMembers(workspaceSid, q.sid, this.membersOf(this.expression(q), candidates));
    }
    return candidates.length < CANDIDATE_PAGE ? null : candidates[candidates.length - 1]!.id;
  }
}
