/** Domain records, in our own casing. Dates are Date objects; the serializer formats them. */

export interface Account {
  sid: string;
  authToken: string;
}

export type QueueOrder = 'FIFO' | 'LIFO';

export interface Workspace {
  sid: string;
  accountSid: string;
  friendlyName: string;
  eventCallbackUrl: string | null;
  eventsFilter: string | null;
  multiTaskEnabled: boolean;
  prioritizeQueueOrder: QueueOrder;
  defaultActivitySid: string;
  defaultActivityName: string;
  timeoutActivitySid: string;
  timeoutActivityName: string;
  dateCreated: Date;
  dateUpdated: Date;
}

export interface Activity {
  sid: string;
  accountSid: string;
  workspaceSid: string;
  friendlyName: string;
  available: boolean;
  dateCreated: Date;
  dateUpdated: Date;
}

export interface TaskChannel {
  sid: string;
  accountSid: string;
  workspaceSid: string;
  uniqueName: string;
  friendlyName: string;
  channelOptimizedRouting: boolean;
  dateCreated: Date;
  dateUpdated: Date;
}

export interface Worker {
  sid: string;
  accountSid: string;
  workspaceSid: string;
  friendlyName: string;
  activitySid: string;
  activityName: string;
  available: boolean;
  attributes: string;
  /** Increases on every change; the ETag. */
  version: number;
  dateCreated: Date;
  dateUpdated: Date;
  dateStatusChanged: Date;
}

export interface WorkerChannel {
  sid: string;
  accountSid: string;
  workspaceSid: string;
  workerSid: string;
  taskChannelSid: string;
  taskChannelUniqueName: string;
  capacity: number;
  available: boolean;
  assignedTasks: number;
  dateCreated: Date;
  dateUpdated: Date;
}

export interface TaskQueue {
  sid: string;
  accountSid: string;
  workspaceSid: string;
  friendlyName: string;
  targetWorkers: string;
  maxReservedWorkers: number;
  taskOrder: QueueOrder;
  reservationActivitySid: string | null;
  reservationActivityName: string | null;
  assignmentActivitySid: string | null;
  assignmentActivityName: string | null;
  dateCreated: Date;
  dateUpdated: Date;
}

export interface Workflow {
  sid: string;
  accountSid: string;
  workspaceSid: string;
  friendlyName: string;
  /** As the client sent it. */
  configuration: string;
  assignmentCallbackUrl: string | null;
  fallbackAssignmentCallbackUrl: string | null;
  taskReservationTimeout: number;
  dateCreated: Date;
  dateUpdated: Date;
}

/** One activity's live count, as kept by the store. */
export interface ActivityCount {
  activitySid: string;
  friendlyName: string;
  workers: number;
}

export type TaskStatus = 'pending' | 'reserved' | 'assigned' | 'wrapping' | 'completed' | 'canceled';

export type ReservationStatus =
  'pending' | 'accepted' | 'rejected' | 'timeout' | 'canceled' | 'rescinded' | 'wrapping' | 'completed';

export interface Task {
  sid: string;
  accountSid: string;
  workspaceSid: string;
  attributes: string;
  assignmentStatus: TaskStatus;
  /** The priority the task was given (CreateTask/UpdateTask `Priority`, default 0). */
  requestedPriority: number;
  /** The priority it has now: a workflow target's `priority` overrides the requested one. */
  priority: number;
  reason: string | null;
  /** TTL in seconds. */
  timeout: number;
  workflowSid: string | null;
  workflowFriendlyName: string | null;
  taskQueueSid: string | null;
  taskQueueFriendlyName: string | null;
  taskChannelSid: string;
  taskChannelUniqueName: string;
  routingTarget: string | null;
  ignoreCapacity: boolean | null;
  /** Creation time in ms (date_created keeps whole seconds only): ages, TTLs and step timeouts. */
  createdMs: number;
  virtualStartMs: number;
  queueEnteredMs: number | null;
  /** Where skip_if has moved the task on its workflow (see RouteCursor). */
  filterIndex: number;
  stepIndex: number;
  /** Increases on every change; the ETag. */
  version: number;
  dateCreated: Date;
  dateUpdated: Date;
}

export interface Reservation {
  sid: string;
  accountSid: string;
  workspaceSid: string;
  taskSid: string;
  workerSid: string;
  workerName: string;
  taskChannelSid: string;
  reservationStatus: ReservationStatus;
  /** The last `Instruction` and its parameters, as sent (recorded, not executed). */
  instruction: string | null;
  version: number;
  dateCreated: Date;
  dateUpdated: Date;
}

/** Routing's own count of a worker's tasks on one task channel. */
export interface WorkerLoad {
  workerSid: string;
  taskChannelSid: string;
  /** Pending reservations. */
  reserved: number;
  /** Tasks accepted or wrapping. */
  assigned: number;
  /** When the worker last let go of a task on this channel (ms), 0 if never. */
  freedMs: number;
}
