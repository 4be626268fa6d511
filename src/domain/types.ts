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
