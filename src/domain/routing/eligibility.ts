/**
 * Which workers may be offered a task in a routing step (docs/routing.md, "Eligibility").
 * Pure: the caller passes what it knows of the worker (membership is materialised, loads
 * are counted by the store).
 */
import type { Fields } from '../expressions/index.js';
import type { WorkflowTarget } from '../workflows/configuration.js';
import type { TaskDocument } from '../workflows/route.js';

/** The worker's channel for the task's channel. */
export interface ChannelLoad {
  /** The channel's own `available` switch. */
  readonly available: boolean;
  readonly capacity: number;
  /** Tasks assigned or wrapping on this channel. */
  readonly assignedTasks: number;
  /** Pending reservations on this channel: each holds a unit of capacity until it ends. */
  readonly pendingReservations: number;
}

export interface WorkerCandidate {
  readonly sid: string;
  readonly friendlyName: string;
  /** Parsed attributes, and the fields expressions read beside them (`sid`, `activity_name`…). */
  readonly attributes: unknown;
  readonly fields?: Fields;
  /** A member of the step's queue (its TargetWorkers match the worker). */
  readonly queueMember: boolean;
  /** The worker's activity is an available one. */
  readonly activityAvailable: boolean;
  /** Undefined when the worker has no channel for the task's channel. */
  readonly channel: ChannelLoad | undefined;
  /** Every task the worker holds on any channel: pending reservations, assigned, wrapping. */
  readonly heldTasks: number;
}

export type Ineligibility =
  | 'not-queue-member'
  | 'not-known-worker'
  | 'target-expression'
  | 'activity-unavailable'
  | 'no-channel'
  | 'channel-unavailable'
  | 'no-capacity'
  | 'busy';

/** The step a task is offered in: its target, or undefined for default_filter (no conditions). */
export interface RoutingStep {
  readonly target: WorkflowTarget | undefined;
  /** The workspace's `multi_task_enabled`. */
  readonly multitasking: boolean;
  /** timeOfDayFields(now), for a target expression that reads `taskrouter.*`. */
  readonly timeOfDay?: Fields;
}

/**
 * Why the worker may not be offered the task in this step, or undefined when it may. Checked
 * in order of cost: the cheap facts first, the target expression last.
 */
export function ineligibility(
  worker: WorkerCandidate,
  task: TaskDocument,
  step: RoutingStep,
): Ineligibility | undefined {
  if (!worker.queueMember) return 'not-queue-member';
  if (!worker.activityAvailable) return 'activity-unavailable';
  if (step.multitasking) {
    const channel = worker.channel;
    if (channel === undefined) return 'no-channel';
    if (!channel.available) return 'channel-unavailable';
    if (channel.assignedTasks + channel.pendingReservations >= channel.capacity) return 'no-capacity';
  } else if (worker.heldTasks > 0) {
    return 'busy';
  }
  const target = step.target;
  if (target?.knownWorker !== undefined && !isKnownWorker(target, task, worker)) {
    return 'not-known-worker';
  }
  if (target?.expression !== undefined) {
    // Only an expression that reads the time of day pays for a merged copy of the fields.
    const fields =
      target.expressionReadsTimeOfDay && step.timeOfDay !== undefined
        ? { ...worker.fields, ...step.timeOfDay }
        : worker.fields;
    if (!target.expression.test(worker.attributes, fields, task.attributes, task.fields)) {
      return 'target-expression';
    }
  }
  return undefined;
}

export function isEligible(worker: WorkerCandidate, task: TaskDocument, step: RoutingStep): boolean {
  return ineligibility(worker, task, step) === undefined;
}

/**
 * The value a known-worker target names for this task (a worker SID or friendly name), or
 * undefined when the task has no string there (then no worker is eligible in the step).
 */
export function knownWorkerValue(target: WorkflowTarget, task: TaskDocument): string | undefined {
  if (target.knownWorker === undefined) return undefined;
  const value = target.knownWorker.reference.read(task.attributes, task.fields);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function isKnownWorker(target: WorkflowTarget, task: TaskDocument, worker: WorkerCandidate): boolean {
  const value = knownWorkerValue(target, task);
  if (value === undefined) return false;
  return target.knownWorker!.by === 'sid' ? worker.sid === value : worker.friendlyName === value;
}

/** Twilio's known-worker errors: the named worker is not usable in the step. */
export interface KnownWorkerProblem {
  readonly code: 40152 | 40155;
  readonly message: string;
}

/**
 * What is wrong with a known-worker step for this task, given the worker its value names
 * (undefined when no worker of the workspace has it): 40155 when there is no such worker,
 * 40152 when it is not a member of the step's queue. The task then stays in the step with no
 * eligible worker until the step times out.
 */
export function knownWorkerProblem(
  target: WorkflowTarget,
  task: TaskDocument,
  worker: Pick<WorkerCandidate, 'queueMember'> | undefined,
): KnownWorkerProblem | undefined {
  if (target.knownWorker === undefined) return undefined;
  const value = knownWorkerValue(target, task);
  if (value === undefined) {
    const key = target.knownWorker.reference.key.text;
    return { code: 40155, message: `The task's ${key} names no Worker of the workspace` };
  }
  if (worker === undefined) return { code: 40155, message: `Worker ${value} is not part of the workspace` };
  if (!worker.queueMember) {
    return {
      code: 40152,
      message: `Worker ${value} isn't part of the queue specified in the Workflow target (${target.queueSid})`,
    };
  }
  return undefined;
}
