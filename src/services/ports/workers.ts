import type { TaskChannel, Worker } from '../../domain/types.js';
import type { Page, PageQuery } from './paging.js';
import type { WorkerChannelSettings } from './worker-channels.js';

export interface WorkerFilter {
  activitySid?: string;
  activityName?: string;
  available?: boolean;
  friendlyName?: string;
  /** Members of this queue (materialised membership). */
  taskQueueSid?: string;
  /** Members of the queue of this name (case-insensitively). */
  taskQueueName?: string;
  /**
   * A test no SQL can make (TargetWorkersExpression): the store reads the workers the other
   * filters leave, in order, and keeps those that pass until the page is full.
   */
  matches?: (worker: Worker) => boolean;
  /** Ordering=DateStatusChanged:asc|desc; otherwise creation order. */
  statusChangeOrder?: 'asc' | 'desc';
}

export interface NewWorker {
  sid: string;
  accountSid: string;
  workspaceSid: string;
  friendlyName: string;
  activitySid: string;
  attributes: string;
  now: Date;
}

/** Whose worker an update expects: the account and the workspace it must be in. */
export interface WorkerScope {
  accountSid: string;
  workspaceSid: string;
}

export interface WorkerPatch {
  friendlyName?: string;
  activitySid?: string;
  attributes?: string;
}

/** A worker as an update left it, with the activity it was in before (for worker.activity.update). */
export interface UpdatedWorker extends Worker {
  previous: { activitySid: string; activityName: string; dateStatusChanged: Date };
}

export interface WorkerReads {
  getWorker(workspaceSid: string, sid: string): Promise<Worker | null>;
  listWorkers(workspaceSid: string, filter: WorkerFilter, page: PageQuery): Promise<Page<Worker>>;
}

export interface WorkerWrites {
  /**
   * The worker has one worker channel per task channel of the workspace, with these settings
   * (stored only if they differ from the defaults). Throws ConflictError when the friendly name is taken (case-insensitively).
   */
  insertWorker(worker: NewWorker, workerChannel: WorkerChannelSettings): Promise<void>;
  /**
   * Bumps the version; moves date_status_changed only when the activity changes.
   * Returns the worker as it is now (as `getWorker` reads it), or null when there is no such
   * worker, or when every value of the patch is the worker's already (then nothing changes:
   * not the version, not date_updated).
   * With `scope`, changes it only if the workspace is the account's, the worker is in it, and a
   * patched activity is one of the workspace's: the checks of an update in the same statement.
   * Null then means one of them failed (and nothing changed).
   */
  updateWorker(
    sid: string,
    patch: WorkerPatch,
    now: Date,
    scope?: WorkerScope,
  ): Promise<UpdatedWorker | null>;
  deleteWorker(sid: string): Promise<void>;
  /**
   * Bulk loading (`roster seed`): inserts many workers of one workspace in one call, each with
   * one worker channel per task channel of the workspace, as `insertWorker` does, and keeps the
   * statistics exact the same way (within this transaction). `channelFor` decides each worker
   * channel's settings (only those that differ from the defaults are stored). The caller has
   * checked the activities. Throws ConflictError when a friendly name is taken (case-insensitively).
   * Queue membership is not evaluated: for a workspace without TaskQueues (a seeded one).
   */
  insertWorkers(
    workspaceSid: string,
    workers: readonly NewWorker[],
    channelFor: (worker: NewWorker, taskChannel: TaskChannel) => WorkerChannelSettings,
  ): Promise<void>;
}
