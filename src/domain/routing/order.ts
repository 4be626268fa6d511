/**
 * The orders routing offers in (docs/routing.md, "Order"): which eligible worker gets a
 * reservation first, and which waiting task a free worker gets first. Each comparator is a
 * total order, so the same inputs always give the same offer.
 */
import type { CompiledOrderBy, Fields, SortValue } from '../expressions/index.js';
import type { QueueOrder } from '../types.js';

export interface RankedWorker {
  readonly sid: string;
  /** One value per `order_by` clause (empty without one), read once per worker. */
  readonly sortValues: readonly SortValue[];
  /** When the worker last became free (epoch ms); earlier is offered first. */
  readonly idleSince: number;
}

export function rankWorker(
  orderBy: CompiledOrderBy | undefined,
  worker: { readonly sid: string; readonly attributes: unknown; readonly fields?: Fields },
  idleSince: number,
): RankedWorker {
  return { sid: worker.sid, sortValues: orderBy?.read(worker.attributes, worker.fields) ?? [], idleSince };
}

/**
 * Workers in offer order: the target's `order_by` clauses, then longest idle first, then by
 * SID so that no two workers tie.
 */
export function workerComparator(
  orderBy: CompiledOrderBy | undefined,
): (a: RankedWorker, b: RankedWorker) => number {
  return (a, b) => {
    const byClauses = orderBy === undefined ? 0 : orderBy.compare(a.sortValues, b.sortValues);
    if (byClauses !== 0) return byClauses;
    if (a.idleSince !== b.idleSince) return a.idleSince < b.idleSince ? -1 : 1;
    return compareText(a.sid, b.sid);
  };
}

export interface QueuedTask {
  readonly sid: string;
  /** The effective priority in its current step. */
  readonly priority: number;
  /** The task's virtual start time (its creation unless set), epoch ms. */
  readonly orderTime: number;
}

/**
 * Tasks of one queue in offer order: higher priority first, then the oldest (FIFO) or the
 * newest (LIFO) by virtual start time, then by SID.
 */
export function taskComparator(order: QueueOrder): (a: QueuedTask, b: QueuedTask) => number {
  const sign = order === 'FIFO' ? 1 : -1;
  return (a, b) => {
    if (a.priority !== b.priority) return a.priority > b.priority ? -1 : 1;
    if (a.orderTime !== b.orderTime) return (a.orderTime < b.orderTime ? -1 : 1) * sign;
    return compareText(a.sid, b.sid);
  };
}

export interface QueuedTaskInQueue extends QueuedTask {
  /** The `task_order` of the queue the task waits in. */
  readonly queueOrder: QueueOrder;
}

/**
 * For a worker free for tasks of several queues: higher priority first; at equal priority,
 * tasks of the workspace's `prioritize_queue_order` kind of queue first; then each kind's own
 * order (FIFO oldest first, LIFO newest first), then by SID.
 */
export function crossQueueComparator(
  prioritizeQueueOrder: QueueOrder,
): (a: QueuedTaskInQueue, b: QueuedTaskInQueue) => number {
  const fifo = taskComparator('FIFO');
  const lifo = taskComparator('LIFO');
  return (a, b) => {
    if (a.priority !== b.priority) return a.priority > b.priority ? -1 : 1;
    if (a.queueOrder !== b.queueOrder) return a.queueOrder === prioritizeQueueOrder ? -1 : 1;
    return (a.queueOrder === 'FIFO' ? fifo : lifo)(a, b);
  };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
