/**
 * The lifecycle rules of Tasks and Reservations (routing.md §1.4, §1.5): which changes the API
 * may ask for in which state, and the event data of each. Pure: times are passed in.
 */
import { ConflictError, InvalidParameterError, PreconditionFailedError } from './errors.js';
import type { Reservation, ReservationStatus, Task, TaskStatus } from './types.js';

/** CreateTask `Timeout`: the default TTL, and the longest. */
export const DEFAULT_TASK_TIMEOUT = 86_400;
export const MAX_TASK_TIMEOUT = 1_209_600;
/** The task's priority when none is given (a target's priority may still override it). */
export const DEFAULT_TASK_PRIORITY = 0;
/** A workflow's task_reservation_timeout when a task routes without one (TaskQueueSid, RoutingTarget). */
export const DEFAULT_RESERVATION_TIMEOUT = 120;

/** Reasons Roster writes when it ends a task itself. */
export const REASON_TTL = 'Task TTL Exceeded';
export const REASON_WORKFLOW_TIMEOUT = 'Workflow Timeout';
export const REASON_RESERVATION_COMPLETED = 'Reservation completed';

/** Task statuses before assignment: the task still routes, and may be canceled. */
export const ROUTABLE: readonly TaskStatus[] = ['pending', 'reserved'];
/** Statuses of a task not yet ended: it keeps its queue and workflow from being deleted. */
export const ACTIVE_TASK: readonly TaskStatus[] = ['pending', 'reserved', 'assigned', 'wrapping'];
/** Statuses a task ends in. */
export const TERMINAL: readonly TaskStatus[] = ['completed', 'canceled'];

/** Reservations that hold a unit of the worker's capacity. */
export const HOLDING: readonly ReservationStatus[] = ['pending', 'accepted', 'wrapping'];

/** The ETag of a task or a reservation: its version, quoted. */
export function versionEtag(resource: { version: number }): string {
  return `"${resource.version}"`;
}

/** If-Match as Workers read it: `*` or the resource's ETag (weak or not, quoted or not). */
export function checkVersionMatch(
  resource: { version: number },
  ifMatch: string | undefined,
  what: string,
): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
  const etag = versionEtag(resource);
  if (!tags.some((t) => t === '*' || t === etag || `"${t}"` === etag)) {
    throw new PreconditionFailedError(
      `If-Match ${ifMatch.slice(0, 64)} does not match the ${what}'s ETag ${etag}`,
    );
  }
}

/** A task's age in whole seconds, as the API shows it. */
export function taskAgeSeconds(task: Pick<Task, 'createdMs'>, nowMs: number): number {
  return Math.max(0, Math.floor((nowMs - task.createdMs) / 1000));
}

export type TaskStatusChange = 'cancel' | 'complete' | 'wrap' | 'none';

/**
 * What UpdateTask's `AssignmentStatus` asks of a task in its state. Only three moves are the
 * API's: cancel (before assignment), wrapping (from assigned) and complete (from assigned or
 * wrapping); `Reason` is required to cancel or complete. Asking for the state the task is in
 * changes nothing.
 */
export function taskStatusChange(
  task: Pick<Task, 'assignmentStatus'>,
  to: TaskStatus,
  reason: string | undefined,
): TaskStatusChange {
  const from = task.assignmentStatus;
  if (to === from) return 'none';
  const refuse = (why: string): never => {
    throw new ConflictError(`Cannot change the task's AssignmentStatus from ${from} to ${to}: ${why}`);
  };
  if ((to === 'canceled' || to === 'completed') && (reason === undefined || reason.trim() === '')) {
    throw new InvalidParameterError('Reason', `Reason is required to change AssignmentStatus to ${to}`);
  }
  switch (to) {
    case 'canceled':
      if (!ROUTABLE.includes(from)) refuse('only a pending or reserved task can be canceled');
      return 'cancel';
    case 'wrapping':
      if (from !== 'assigned') refuse('only an assigned task can wrap up');
      return 'wrap';
    case 'completed':
      if (from !== 'assigned' && from !== 'wrapping')
        refuse('only an assigned or wrapping task can be completed');
      return 'complete';
    default:
      return refuse('tasks become pending, reserved and assigned by routing');
  }
}

export type ReservationStatusChange = 'accept' | 'reject' | 'wrap' | 'complete' | 'none';

/**
 * What UpdateReservation's `ReservationStatus` asks of a reservation in its state: accept or
 * reject a pending one; wrap up an accepted one; complete an accepted or wrapping one.
 */
export function reservationStatusChange(
  reservation: Pick<Reservation, 'reservationStatus'>,
  to: ReservationStatus,
): ReservationStatusChange {
  const from = reservation.reservationStatus;
  if (to === from) return 'none';
  const refuse = (why: string): never => {
    throw new ConflictError(
      `Cannot change the reservation's ReservationStatus from ${from} to ${to}: ${why}`,
    );
  };
  switch (to) {
    case 'accepted':
      if (from !== 'pending') refuse('only a pending reservation can be accepted');
      return 'accept';
    case 'rejected':
      if (from !== 'pending') refuse('only a pending reservation can be rejected');
      return 'reject';
    case 'wrapping':
      if (from !== 'accepted') refuse('only an accepted reservation can wrap up');
      return 'wrap';
    case 'completed':
      if (from !== 'accepted' && from !== 'wrapping')
        refuse('only an accepted or wrapping reservation can be completed');
      return 'complete';
    default:
      return refuse('reservations time out, are canceled and rescinded by routing');
  }
}

/** A task's event data: its fields in snake_case (the Task resource's, less URLs). */
export function taskEventData(task: Task, nowMs: number): Record<string, unknown> {
  return {
    task_sid: task.sid,
    attributes: task.attributes,
    assignment_status: task.assignmentStatus,
    age: taskAgeSeconds(task, nowMs),
    priority: task.priority,
    reason: task.reason,
    timeout: task.timeout,
    task_queue_sid: task.taskQueueSid,
    task_queue_friendly_name: task.taskQueueFriendlyName,
    task_queue_entered_date:
      task.queueEnteredMs === null ? null : new Date(task.queueEnteredMs).toISOString(),
    workflow_sid: task.workflowSid,
    workflow_friendly_name: task.workflowFriendlyName,
    task_channel_sid: task.taskChannelSid,
    task_channel_unique_name: task.taskChannelUniqueName,
    virtual_start_time: new Date(task.virtualStartMs).toISOString(),
    routing_target: task.routingTarget,
    ignore_capacity: task.ignoreCapacity,
    version: task.version,
  };
}

/** A reservation's event data: its fields, the SIDs it relates, and its task's state. */
export function reservationEventData(r: Reservation, task: Task, nowMs: number): Record<string, unknown> {
  return {
    reservation_sid: r.sid,
    reservation_status: r.reservationStatus,
    task_sid: r.taskSid,
    worker_sid: r.workerSid,
    worker_name: r.workerName,
    task_channel_sid: r.taskChannelSid,
    task_queue_sid: task.taskQueueSid,
    workflow_sid: task.workflowSid,
    task_attributes: task.attributes,
    task_age: taskAgeSeconds(task, nowMs),
    task_priority: task.priority,
    task_assignment_status: task.assignmentStatus,
    instruction: r.instruction === null ? null : (JSON.parse(r.instruction) as unknown),
    version: r.version,
  };
}
