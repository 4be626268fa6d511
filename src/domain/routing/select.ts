import type { WorkflowTarget } from '../workflows/configuration.js';
import type { TaskDocument } from '../workflows/route.js';
import { isEligible, type RoutingStep, type WorkerCandidate } from './eligibility.js';
import { rankWorker, workerComparator, type RankedWorker } from './order.js';

export interface IdleWorkerCandidate extends WorkerCandidate {
  /** When the worker last became free (epoch ms); see RankedWorker. */
  readonly idleSince: number;
}

/**
 * The workers to offer the task to in this step, best first: at most `limit` (the queue's
 * `max_reserved_workers`) of the eligible candidates, in the target's worker order. Keeps
 * only the best `limit` while scanning, so a large queue is not sorted whole.
 */
export function chooseWorkers<W extends IdleWorkerCandidate>(
  candidates: Iterable<W>,
  task: TaskDocument,
  step: RoutingStep,
  limit: number,
): W[] {
  const target: WorkflowTarget | undefined = step.target;
  const compare = workerComparator(target?.orderBy);
  const best: { worker: W; rank: RankedWorker }[] = [];
  if (limit <= 0) return [];
  for (const worker of candidates) {
    if (!isEligible(worker, task, step)) continue;
    const rank = rankWorker(target?.orderBy, worker, worker.idleSince);
    if (best.length === limit && compare(rank, best[limit - 1]!.rank) >= 0) continue;
    let at = best.length;
    while (at > 0 && compare(rank, best[at - 1]!.rank) < 0) at--;
    best.splice(at, 0, { worker, rank });
    if (best.length > limit) best.pop();
  }
  return best.map((entry) => entry.worker);
}
