import type { CompiledExpression } from '../domain/expressions/index.js';
import { compileTargetWorkers, matchesQueue, workerDocument } from '../domain/task-queues.js';
import type { Worker } from '../domain/types.js';
import type { QueueExpression, StoreTx } from './ports/store.js';

/** Workers read per statement while a queue is evaluated against its whole workspace. */
const CANDIDATE_PAGE = 2_000;
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

  /** Evaluates every worker of the workspace (or of one activity) against one queue's expression. */
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
      const members =
        expression.constant === true
          ? candidates
          : candidates.filter((k) => matchesQueue(expression, workerDocument(k)));
      await tx.addQueueMembers(workspaceSid, queueSid, members);
      after = candidates[candidates.length - 1]!.id;
    }
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
