import type {
  Reservation,
  ReservationStatus,
  Task,
  TaskStatus,
  Worker,
  WorkerLoad,
} from '../../domain/types.js';
import type { Page, PageQuery } from './paging.js';

export interface NewTask {
  sid: string;
  accountSid: string;
  workspaceSid: string;
  attributes: string;
  requestedPriority: number;
  priority: number;
  timeout: number;
  workflowSid: string | null;
  taskQueueSid: string | null;
  taskChannelSid: string;
  routingTarget: string | null;
  ignoreCapacity: boolean | null;
  createdMs: number;
  virtualStartMs: number;
  queueEnteredMs: number | null;
  now: Date;
}

/** What a change of a task sets; absent keys stay. Every change bumps the version. */
export interface TaskPatch {
  attributes?: string;
  assignmentStatus?: TaskStatus;
  requestedPriority?: number;
  priority?: number;
  reason?: string | null;
  taskQueueSid?: string | null;
  taskChannelSid?: string;
  virtualStartMs?: number;
  queueEnteredMs?: number | null;
  filterIndex?: number;
  stepIndex?: number;
}

export type TaskOrderingKey = 'DateCreated' | 'Priority' | 'VirtualStartTime';

export interface TaskFilter {
  assignmentStatus?: readonly TaskStatus[];
  workflowSid?: string;
  /** Tasks of the workflows of this name (case-insensitively). */
  workflowName?: string;
  taskQueueSid?: string;
  taskQueueName?: string;
  routingTarget?: string;
  priority?: number;
  /** EvaluateTaskAttributes: a test no SQL can make, applied while scanning. */
  matches?: (task: Task) => boolean;
  /** Ordering: keys in order; default DateCreated ascending (creation order). */
  ordering?: readonly { key: TaskOrderingKey; direction: 'asc' | 'desc' }[];
}

export interface NewReservation {
  sid: string;
  accountSid: string;
  workspaceSid: string;
  taskSid: string;
  workerSid: string;
  workerName: string;
  taskChannelSid: string;
  now: Date;
}

export interface ReservationFilter {
  taskSid?: string;
  workerSid?: string;
  status?: ReservationStatus;
}

/** Where a walk of a queue's members by idle time stopped. */
export interface IdleCursor {
  idleMs: number;
  workerSid: string;
}

export interface IdleQueueMember {
  worker: Worker;
  channel: { available: boolean; capacity: number } | null;
  idleMs: number;
}

export interface RoutingReads {
  getTask(workspaceSid: string, sid: string): Promise<Task | null>;
  /** The SIDs of the workspace's first two workflows (enough to tell whether it has exactly one). */
  firstWorkflowSids(workspaceSid: string): Promise<string[]>;
  /** Whether any task of the workspace is pending (waits for a worker). */
  hasWaitingTasks(workspaceSid: string): Promise<boolean>;
  /** Whether a reserved task of the workspace is in a queue with max_reserved_workers above 1. */
  hasMultiReservedTasks(workspaceSid: string): Promise<boolean>;
  listTasks(workspaceSid: string, filter: TaskFilter, page: PageQuery): Promise<Page<Task>>;
  /** Tasks of these statuses waiting in one of the queues (any order; the caller orders them). */
  tasksInQueues(
    queueSids: readonly string[],
    statuses: readonly TaskStatus[],
    limit: number,
  ): Promise<Task[]>;
  /** The workflow's tasks of these statuses. */
  tasksOfWorkflow(workflowSid: string, statuses: readonly TaskStatus[], limit: number): Promise<Task[]>;
  getReservation(workspaceSid: string, sid: string): Promise<Reservation | null>;
  listReservations(
    workspaceSid: string,
    filter: ReservationFilter,
    page: PageQuery,
  ): Promise<Page<Reservation>>;
  /** Every reservation of the task (or of the worker) of these statuses, oldest first. */
  reservationsOf(
    of: { taskSid: string } | { workerSid: string },
    statuses: readonly ReservationStatus[],
  ): Promise<Reservation[]>;
  /** The worker's load rows (one per task channel it ever had a task on). */
  workerLoads(workerSid: string): Promise<WorkerLoad[]>;
  /** The load rows of several workers at once. */
  workerLoadsOf(workerSids: readonly string[]): Promise<WorkerLoad[]>;
  /** The available members of a queue (their activity is available), in worker creation order. */
  availableQueueMembers(queueSid: string): Promise<Worker[]>;
  /**
   * As `availableQueueMembers`, each with its channel for the task channel (null when it has
   * none), in one statement: routing's offer reads no row per member.
   */
  availableQueueMembersOn(
    queueSid: string,
    taskChannelSid: string,
  ): Promise<{ worker: Worker; channel: { available: boolean; capacity: number } | null }[]>;
  /**
   * A queue's available members in routing's worker order without `order_by`: longest idle
   * first (the later of the activity change and the last freed load), then by SID; each with its
   * channel for the task channel (null: none) and its idle time. A page at a time, along one
   * index: `after` is the previous page's `next`, which is null after the last page.
   */
  idleQueueMembersOn(
    queueSid: string,
    taskChannelSid: string,
    after: IdleCursor | null,
  ): Promise<{ members: IdleQueueMember[]; next: IdleCursor | null }>;
  /** The members of a queue with their activity (for skip_if's counters). */
  queueMemberActivities(queueSid: string): Promise<{ activitySid: string; available: boolean }[]>;
}

export interface RoutingWrites {
  insertTask(task: NewTask): Promise<void>;
  updateTask(sid: string, patch: TaskPatch, now: Date): Promise<void>;
  /** Also deletes its reservations. */
  deleteTask(sid: string): Promise<void>;
  insertReservation(reservation: NewReservation): Promise<void>;
  updateReservation(
    sid: string,
    patch: { status?: ReservationStatus; instruction?: string },
    now: Date,
  ): Promise<void>;
  /** Adds to a worker's load on a channel (creating the row); `freedMs` sets when it last let go. */
  addWorkerLoad(
    workspaceSid: string,
    workerSid: string,
    taskChannelSid: string,
    delta: { reserved?: number; assigned?: number; freedMs?: number },
  ): Promise<void>;
  /** Holds routing of the workspace apart from other transactions routing it (PostgreSQL). */
  holdRouting(workspaceSid: string): Promise<void>;
}
