import type {
  Activity,
  QueueOrder,
  TaskChannel,
  TaskQueue,
  Worker,
  WorkerChannel,
  Workflow,
  Workspace,
} from '../domain/types.js';
import type { DomainEvent } from '../services/ports/events.js';
import { eventSid } from './event-sids.js';
import { DEFAULT_WORKER_CHANNEL } from '../domain/defaults.js';
import { workerChannelSid } from '../domain/worker-channels.js';
import type { UpdatedWorker } from '../services/ports/workers.js';

/**
 * Rows as both stores read them back, mapped to domain records in one place. Booleans come as
 * 0/1 from SQLite and as booleans from PostgreSQL; dates as ISO text or as Date objects.
 */
export type Row = Record<string, unknown>;

const bool = (v: unknown): boolean => v === true || v === 1;
const date = (v: unknown): Date => (v instanceof Date ? v : new Date(v as string));

/** Case-insensitive uniqueness key for friendly names, the same in every store. */
export const nameKey = (name: string): string => name.toLowerCase();

export function toWorkspace(r: Row): Workspace {
  return {
    sid: r.sid as string,
    accountSid: r.account_sid as string,
    friendlyName: r.friendly_name as string,
    eventCallbackUrl: (r.event_callback_url as string | null) ?? null,
    eventsFilter: (r.events_filter as string | null) ?? null,
    multiTaskEnabled: bool(r.multi_task_enabled),
    prioritizeQueueOrder: r.prioritize_queue_order as QueueOrder,
    defaultActivitySid: r.default_activity_sid as string,
    defaultActivityName: r.default_activity_name as string,
    timeoutActivitySid: r.timeout_activity_sid as string,
    timeoutActivityName: r.timeout_activity_name as string,
    dateCreated: date(r.date_created),
    dateUpdated: date(r.date_updated),
  };
}

export function toActivity(r: Row): Activity {
  return {
    sid: r.sid as string,
    accountSid: r.account_sid as string,
    workspaceSid: r.workspace_sid as string,
    friendlyName: r.friendly_name as string,
    available: bool(r.available),
    dateCreated: date(r.date_created),
    dateUpdated: date(r.date_updated),
  };
}

export function toTaskChannel(r: Row): TaskChannel {
  return {
    sid: r.sid as string,
    accountSid: r.account_sid as string,
    workspaceSid: r.workspace_sid as string,
    uniqueName: r.unique_name as string,
    friendlyName: r.friendly_name as string,
    channelOptimizedRouting: bool(r.channel_optimized_routing),
    dateCreated: date(r.date_created),
    dateUpdated: date(r.date_updated),
  };
}

export function toWorker(r: Row): Worker {
  return {
    sid: r.sid as string,
    accountSid: r.account_sid as string,
    workspaceSid: r.workspace_sid as string,
    friendlyName: r.friendly_name as string,
    activitySid: r.activity_sid as string,
    activityName: r.activity_name as string,
    available: bool(r.available),
    attributes: r.attributes as string,
    version: r.version as number,
    dateCreated: date(r.date_created),
    dateUpdated: date(r.date_updated),
    dateStatusChanged: date(r.date_status_changed),
  };
}

/**
 * A worker channel from its worker, its task channel and its stored deviation, if any (the
 * columns of a missing one are null): without one it has the defaults, and was created and
 * last updated when the later of its worker and task channel was created.
 */
export function toWorkerChannel(r: Row): WorkerChannel {
  const workerCreated = date(r.worker_created);
  const channelCreated = date(r.channel_created);
  const created = workerCreated > channelCreated ? workerCreated : channelCreated;
  const stored = r.capacity !== null && r.capacity !== undefined;
  return {
    sid: workerChannelSid(r.worker_sid as string, r.task_channel_sid as string),
    accountSid: r.account_sid as string,
    workspaceSid: r.workspace_sid as string,
    workerSid: r.worker_sid as string,
    taskChannelSid: r.task_channel_sid as string,
    taskChannelUniqueName: r.unique_name as string,
    capacity: stored ? Number(r.capacity) : DEFAULT_WORKER_CHANNEL.capacity,
    available: stored ? bool(r.available) : DEFAULT_WORKER_CHANNEL.available,
    assignedTasks: stored ? Number(r.assigned_tasks) : 0,
    dateCreated: created,
    dateUpdated: stored ? date(r.date_updated) : created,
  };
}

export function toTaskQueue(r: Row): TaskQueue {
  return {
    sid: r.sid as string,
    accountSid: r.account_sid as string,
    workspaceSid: r.workspace_sid as string,
    friendlyName: r.friendly_name as string,
    targetWorkers: r.target_workers as string,
    maxReservedWorkers: Number(r.max_reserved_workers),
    taskOrder: r.task_order as QueueOrder,
    reservationActivitySid: (r.reservation_activity_sid as string | null) ?? null,
    reservationActivityName: (r.reservation_activity_name as string | null) ?? null,
    assignmentActivitySid: (r.assignment_activity_sid as string | null) ?? null,
    assignmentActivityName: (r.assignment_activity_name as string | null) ?? null,
    dateCreated: date(r.date_created),
    dateUpdated: date(r.date_updated),
  };
}

export function toWorkflow(r: Row): Workflow {
  return {
    sid: r.sid as string,
    accountSid: r.account_sid as string,
    workspaceSid: r.workspace_sid as string,
    friendlyName: r.friendly_name as string,
    configuration: r.configuration as string,
    assignmentCallbackUrl: (r.assignment_callback_url as string | null) ?? null,
    fallbackAssignmentCallbackUrl: (r.fallback_assignment_callback_url as string | null) ?? null,
    taskReservationTimeout: Number(r.task_reservation_timeout),
    dateCreated: date(r.date_created),
    dateUpdated: date(r.date_updated),
  };
}

export function toDomainEvent(r: Row): DomainEvent {
  return {
    id: Number(r.id),
    accountSid: r.account_sid as string,
    workspaceSid: r.workspace_sid as string,
    type: r.type as string,
    resourceType: r.resource_type as string,
    resourceSid: r.resource_sid as string,
    actor: r.actor as string,
    timeMs: Number(r.time_ms),
    data: JSON.parse(r.data as string) as Record<string, unknown>,
    sid: (r.sid as string | null) ?? eventSid(Number(r.id), r.workspace_sid as string),
    sourceIp: (r.source_ip as string | null) ?? null,
  };
}

/** The activity a worker was in before an update (`UpdatedWorker.previous`). */
export function toPreviousActivity(r: Row): UpdatedWorker['previous'] {
  return {
    activitySid: r.activity_sid as string,
    activityName: r.activity_name as string,
    dateStatusChanged: date(r.date_status_changed),
  };
}

/** When there is nothing to read of the worker before: its activity now. */
export function previousOf(w: Worker): UpdatedWorker['previous'] {
  return { activitySid: w.activitySid, activityName: w.activityName, dateStatusChanged: w.dateStatusChanged };
}
