import type { QueueOrder, TaskQueue } from '../../domain/types.js';
import type { Page, PageQuery } from './paging.js';

export interface TaskQueueFilter {
  friendlyName?: string;
  /** Only queues this worker is a member of. */
  workerSid?: string;
  /** Only these queues (EvaluateWorkerAttributes, decided by the service). */
  sids?: readonly string[];
  /** Only queues that move workers to this activity (reservation or assignment). */
  activitySid?: string;
  /** Ordering: by creation (the default, ascending) or by last update; ties by creation. */
  order?: { by: 'dateCreated' | 'dateUpdated'; direction: 'asc' | 'desc' };
}

export interface NewTaskQueue {
  sid: string;
  accountSid: string;
  workspaceSid: string;
  friendlyName: string;
  targetWorkers: string;
  readsWorkerFields: boolean;
  maxReservedWorkers: number;
  taskOrder: QueueOrder;
  reservationActivitySid: string | null;
  assignmentActivitySid: string | null;
  now: Date;
}

export interface TaskQueuePatch {
  friendlyName?: string;
  targetWorkers?: string;
  readsWorkerFields?: boolean;
  maxReservedWorkers?: number;
  taskOrder?: QueueOrder;
  reservationActivitySid?: string;
  assignmentActivitySid?: string;
}

/** A queue's expression, as membership needs it. */
export interface QueueExpression {
  sid: string;
  targetWorkers: string;
}

/** A worker as membership evaluation reads it, with its row id (the members' key). */
export interface MemberCandidate {
  id: number;
  sid: string;
  friendlyName: string;
  activitySid: string;
  activityName: string;
  attributes: string;
}

export interface TaskQueueReads {
  getTaskQueue(workspaceSid: string, sid: string): Promise<TaskQueue | null>;
  listTaskQueues(workspaceSid: string, filter: TaskQueueFilter, page: PageQuery): Promise<Page<TaskQueue>>;
  /** Every queue's expression in the workspace; only those reading worker fields when asked. */
  queueExpressions(workspaceSid: string, onlyReadingWorkerFields: boolean): Promise<QueueExpression[]>;
  /** Up to `limit` workers of the workspace after row id `afterId`, in id order. */
  memberCandidates(
    workspaceSid: string,
    afterId: number,
    limit: number,
    activitySid?: string,
  ): Promise<MemberCandidate[]>;
  /** The SIDs of a worker's queues. */
  queuesOfWorker(workerSid: string): Promise<string[]>;
}

export interface TaskQueueWrites {
  /** Throws ConflictError when the workspace has a queue of that name (case-insensitively). */
  insertTaskQueue(queue: NewTaskQueue): Promise<void>;
  updateTaskQueue(sid: string, patch: TaskQueuePatch, now: Date): Promise<void>;
  /** Also removes its membership. */
  deleteTaskQueue(sid: string): Promise<void>;
  /**
   * Drops the queue's members (before they are evaluated again): all, those whose worker row id
   * is in the range (after `afterId`, through `throughId`; no upper bound when it is null), or
   * those among the workers of the given row ids.
   */
  clearQueueMembers(
    queueSid: string,
    range?: { afterId: number; throughId: number | null } | { workerIds: readonly number[] },
  ): Promise<void>;
  addQueueMembers(workspaceSid: string, queueSid: string, workers: readonly MemberCandidate[]): Promise<void>;
  /**
   * Sets a worker's membership of the queues `evaluated` to exactly `members` (a subset of them);
   * its membership of other queues stays as it is.
   */
  setWorkerMembership(
    workspaceSid: string,
    workerSid: string,
    evaluated: readonly string[],
    members: readonly string[],
  ): Promise<void>;
}
