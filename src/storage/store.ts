import type {
  Account,
  Activity,
  ActivityCount,
  QueueOrder,
  TaskChannel,
  Worker,
  WorkerChannel,
  Workspace,
} from '../domain/types.js';

/**
 * A page request. `pageToken` is opaque to everyone but the store that made it;
 * without one, `page` (0-based) is an offset of `page * pageSize` rows.
 */
export interface PageQuery {
  pageSize: number;
  page: number;
  pageToken?: string;
}

/** Rows in a stable order (creation order), so paging is stable while rows are added. */
export interface Page<T> {
  items: T[];
  nextPageToken: string | null;
  previousPageToken: string | null;
}

export interface WorkspaceFilter {
  friendlyName?: string;
}
export interface ActivityFilter {
  friendlyName?: string;
  available?: boolean;
}
export interface WorkerFilter {
  activitySid?: string;
  activityName?: string;
  available?: boolean;
  friendlyName?: string;
}

export interface NewWorkspace {
  sid: string;
  accountSid: string;
  friendlyName: string;
  eventCallbackUrl: string | null;
  eventsFilter: string | null;
  multiTaskEnabled: boolean;
  prioritizeQueueOrder: QueueOrder;
  defaultActivitySid: string;
  timeoutActivitySid: string;
  now: Date;
}
export interface WorkspacePatch {
  friendlyName?: string;
  eventCallbackUrl?: string | null;
  eventsFilter?: string | null;
  multiTaskEnabled?: boolean;
  prioritizeQueueOrder?: QueueOrder;
  defaultActivitySid?: string;
  timeoutActivitySid?: string;
}

export interface NewActivity {
  sid: string;
  accountSid: string;
  workspaceSid: string;
  friendlyName: string;
  available: boolean;
  now: Date;
}

export interface NewTaskChannel {
  sid: string;
  accountSid: string;
  workspaceSid: string;
  uniqueName: string;
  friendlyName: string;
  channelOptimizedRouting: boolean;
  now: Date;
}
export interface TaskChannelPatch {
  friendlyName?: string;
  channelOptimizedRouting?: boolean;
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

/** A worker channel's settings when it is made. */
export interface WorkerChannelSettings {
  capacity: number;
  available: boolean;
}

export interface WorkerChannelPatch {
  capacity?: number;
  available?: boolean;
}

/** Reads see committed data (or, inside a transaction, that transaction's own writes). */
export interface StoreReader {
  getAccount(sid: string): Promise<Account | null>;

  getWorkspace(accountSid: string, sid: string): Promise<Workspace | null>;
  /** Whether the account has this workspace: for writes that need nothing else of it. */
  hasWorkspace(accountSid: string, sid: string): Promise<boolean>;
  listWorkspaces(accountSid: string, filter: WorkspaceFilter, page: PageQuery): Promise<Page<Workspace>>;

  getActivity(workspaceSid: string, sid: string): Promise<Activity | null>;
  listActivities(workspaceSid: string, filter: ActivityFilter, page: PageQuery): Promise<Page<Activity>>;

  /** By SID (TC…) or by unique name. */
  getTaskChannel(workspaceSid: string, sidOrUniqueName: string): Promise<TaskChannel | null>;
  listTaskChannels(workspaceSid: string, page: PageQuery): Promise<Page<TaskChannel>>;

  getWorker(workspaceSid: string, sid: string): Promise<Worker | null>;
  listWorkers(workspaceSid: string, filter: WorkerFilter, page: PageQuery): Promise<Page<Worker>>;

  /** By SID (WC…) or by the task channel's unique name. */
  getWorkerChannel(workerSid: string, sidOrUniqueName: string): Promise<WorkerChannel | null>;
  listWorkerChannels(workerSid: string, page: PageQuery): Promise<Page<WorkerChannel>>;

  /**
   * Live worker counts per activity, every activity of the workspace in creation order.
   * With a task channel: only workers whose channel for it is available with capacity > 0.
   * Costs O(activities): the counts are kept up to date by every write.
   */
  activityCounts(workspaceSid: string, taskChannelSid?: string): Promise<ActivityCount[]>;
}

/** Writes run inside `Store.transaction`; SIDs and times are decided by the caller. */
export interface StoreTx extends StoreReader {
  upsertAccount(account: Account, now: Date): Promise<void>;

  insertWorkspace(workspace: NewWorkspace): Promise<void>;
  updateWorkspace(sid: string, patch: WorkspacePatch, now: Date): Promise<void>;
  /** Removes the workspace and everything in it. */
  deleteWorkspace(sid: string): Promise<void>;

  /** Throws ConflictError when the workspace has an activity of that name (case-insensitively). */
  insertActivity(activity: NewActivity): Promise<void>;
  updateActivity(sid: string, friendlyName: string, now: Date): Promise<void>;
  deleteActivity(sid: string): Promise<void>;

  /** Also gives every worker of the workspace a worker channel for it. */
  insertTaskChannel(
    channel: NewTaskChannel,
    workerChannel: { capacity: number; available: boolean },
  ): Promise<void>;
  updateTaskChannel(sid: string, patch: TaskChannelPatch, now: Date): Promise<void>;
  /** Also removes the worker channels for it. */
  deleteTaskChannel(sid: string): Promise<void>;

  /**
   * Also gives the worker one worker channel per task channel of the workspace.
   * Throws ConflictError when the friendly name is taken (case-insensitively).
   */
  insertWorker(worker: NewWorker, workerChannel: { capacity: number; available: boolean }): Promise<void>;
  /**
   * Bumps the version; moves date_status_changed only when the activity changes.
   * Returns the worker as it is now (as `getWorker` reads it), or null when there is no such worker.
   * With `scope`, changes it only if the workspace is the account's, the worker is in it, and a
   * patched activity is one of the workspace's: the checks of an update in the same statement.
   * Null then means one of them failed (and nothing changed).
   */
  updateWorker(sid: string, patch: WorkerPatch, now: Date, scope?: WorkerScope): Promise<Worker | null>;
  deleteWorker(sid: string): Promise<void>;

  updateWorkerChannel(sid: string, patch: WorkerChannelPatch, now: Date): Promise<void>;

  /**
   * Bulk loading (`roster seed`): inserts many workers of one workspace in one call, each with
   * one worker channel per task channel of the workspace, as `insertWorker` does, and keeps the
   * statistics exact the same way (within this transaction). `channelFor` decides each worker
   * channel's settings. The caller has checked the activities; worker channel SIDs are made
   * by the store. Throws ConflictError when a friendly name is taken (case-insensitively).
   */
  insertWorkers(
    workspaceSid: string,
    workers: readonly NewWorker[],
    channelFor: (worker: NewWorker, taskChannel: TaskChannel) => WorkerChannelSettings,
  ): Promise<void>;

  /** Runs after a successful commit, never after a rollback. */
  onCommit(effect: () => void): void;
}

export interface Store extends StoreReader {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * For stores that keep an exact read cache: a number that stays the same exactly as long as
   * nothing has been committed since it was last looked at (by this process or any other), so
   * that anything read under it may be answered again from memory. Undefined when the store
   * cannot tell, and every read must go to the store.
   */
  readGeneration?(): number | undefined;
  transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
