import { InvalidParameterError, NotFoundError } from '../domain/errors.js';
import { isSid, newSid, SidPrefix } from '../domain/sid.js';
import {
  checkVersionMatch,
  DEFAULT_TASK_PRIORITY,
  DEFAULT_TASK_TIMEOUT,
  reservationStatusChange,
  TERMINAL,
  taskEventData,
  taskStatusChange,
} from '../domain/tasks.js';
import type { Reservation, ReservationStatus, Task, TaskStatus, Workspace } from '../domain/types.js';
import { record, requireWorkspace, wholeSeconds, type ServiceDeps } from './context.js';
import type {
  PageQuery,
  ReservationFilter,
  StoreReader,
  StoreTx,
  TaskFilter,
  TaskPatch,
} from './ports/store.js';
import type { RoutingEngine } from './routing.js';

export interface CreateTaskInput {
  attributes?: string;
  workflowSid?: string;
  taskChannel?: string;
  priority?: number;
  timeout?: number;
  virtualStartTime?: Date;
  routingTarget?: string;
  ignoreCapacity?: boolean;
  taskQueueSid?: string;
}

export interface UpdateTaskInput {
  attributes?: string;
  assignmentStatus?: TaskStatus;
  reason?: string;
  priority?: number;
  taskChannel?: string;
  virtualStartTime?: Date;
}

export interface UpdateReservationInput {
  status?: ReservationStatus;
  workerActivitySid?: string;
  /** `Instruction` (lower-cased) and every other parameter sent, recorded as given. */
  instruction?: string;
  instructionParameters?: Record<string, string>;
}

/** A reservation as reached through one of its two views. */
export type ReservationView = { taskSid: string } | { workerSid: string };

const EARLIEST_VIRTUAL_START = Date.UTC(1900, 0, 1);

export class TaskService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly routing: RoutingEngine,
  ) {}

  async list(accountSid: string, workspaceSid: string, filter: TaskFilter, page: PageQuery) {
    await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    return this.deps.store.listTasks(workspaceSid, filter, page);
  }

  async fetch(accountSid: string, workspaceSid: string, sid: string): Promise<Task> {
    await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    return requireTask(this.deps.store, workspaceSid, sid);
  }

  create(accountSid: string, workspaceSid: string, input: CreateTaskInput): Promise<Task> {
    const sid = newSid(SidPrefix.task);
    return this.deps.store.transaction(async (tx) => {
      const ws = await requireWorkspace(tx, accountSid, workspaceSid);
      await tx.holdRouting(workspaceSid);
      const nowMs = this.deps.clock.now();
      const channel = await requireTaskChannelParam(tx, workspaceSid, input.taskChannel ?? 'default');
      const where = await this.destination(tx, ws, input);
      const virtualStartMs = this.virtualStart(input.virtualStartTime, nowMs);
      const priority = input.priority ?? DEFAULT_TASK_PRIORITY;
      await tx.insertTask({
        sid,
        accountSid,
        workspaceSid,
        attributes: input.attributes ?? '{}',
        requestedPriority: priority,
        priority,
        timeout: input.timeout ?? DEFAULT_TASK_TIMEOUT,
        workflowSid: where.workflowSid,
        taskQueueSid: where.taskQueueSid,
        taskChannelSid: channel,
        routingTarget: input.routingTarget ?? null,
        ignoreCapacity: input.routingTarget?.startsWith(SidPrefix.worker)
          ? (input.ignoreCapacity ?? true)
          : null,
        createdMs: nowMs,
        virtualStartMs,
        queueEnteredMs: where.taskQueueSid === null ? null : nowMs,
        now: wholeSeconds(new Date(nowMs)),
      });
      await this.routing.taskCreated(tx, ws, sid);
      return requireTask(tx, workspaceSid, sid);
    });
  }

  /** The workflow or queue a new task routes by (RoutingTarget, TaskQueueSid, WorkflowSid, or the only workflow). */
  private async destination(
    tx: StoreTx,
    ws: Workspace,
    input: CreateTaskInput,
  ): Promise<{ workflowSid: string | null; taskQueueSid: string | null }> {
    const target = input.routingTarget;
    if (target !== undefined) {
      if (isSid(target, SidPrefix.worker)) {
        if (!(await tx.getWorker(ws.sid, target)))
          throw new InvalidParameterError(
            'RoutingTarget',
            `RoutingTarget ${target} is not a Worker of this workspace`,
          );
        return { workflowSid: null, taskQueueSid: null };
      }
      if (isSid(target, SidPrefix.taskQueue)) {
        if (!(await tx.getTaskQueue(ws.sid, target)))
          throw new InvalidParameterError(
            'RoutingTarget',
            `RoutingTarget ${target} is not a TaskQueue of this workspace`,
          );
        return { workflowSid: null, taskQueueSid: target };
      }
      if (isSid(target, SidPrefix.workflow)) {
        if (!(await tx.getWorkflow(ws.sid, target)))
          throw new InvalidParameterError(
            'RoutingTarget',
            `RoutingTarget ${target} is not a Workflow of this workspace`,
          );
        return { workflowSid: target, taskQueueSid: null };
      }
      throw new InvalidParameterError(
        'RoutingTarget',
        'RoutingTarget must be a Worker, TaskQueue or Workflow SID',
      );
    }
    if (input.taskQueueSid !== undefined) {
      if (!(await tx.getTaskQueue(ws.sid, input.taskQueueSid)))
        throw new InvalidParameterError(
          'TaskQueueSid',
          `TaskQueueSid ${input.taskQueueSid} is not a TaskQueue of this workspace`,
        );
      return { workflowSid: null, taskQueueSid: input.taskQueueSid };
    }
    if (input.workflowSid !== undefined) {
      if (!(await tx.getWorkflow(ws.sid, input.workflowSid)))
        throw new InvalidParameterError(
          'WorkflowSid',
          `WorkflowSid ${input.workflowSid} is not a Workflow of this workspace`,
        );
      return { workflowSid: input.workflowSid, taskQueueSid: null };
    }
    const workflows = await tx.firstWorkflowSids(ws.sid);
    if (workflows.length !== 1) {
      throw new InvalidParameterError(
        'WorkflowSid',
        workflows.length === 0
          ? 'Missing required parameter WorkflowSid: the workspace has no Workflow'
          : 'Missing required parameter WorkflowSid: the workspace has more than one Workflow',
      );
    }
    return { workflowSid: workflows[0]!, taskQueueSid: null };
  }

  private virtualStart(given: Date | undefined, nowMs: number): number {
    if (given === undefined) return nowMs;
    const ms = given.getTime();
    if (ms > nowMs)
      throw new InvalidParameterError('VirtualStartTime', 'VirtualStartTime cannot be in the future');
    if (ms < EARLIEST_VIRTUAL_START)
      throw new InvalidParameterError('VirtualStartTime', 'VirtualStartTime cannot be before 1900');
    return ms;
  }

  update(
    accountSid: string,
    workspaceSid: string,
    sid: string,
    input: UpdateTaskInput,
    ifMatch: string | undefined,
  ): Promise<Task> {
    return this.deps.store.transaction(async (tx) => {
      const ws = await requireWorkspace(tx, accountSid, workspaceSid);
      await tx.holdRouting(workspaceSid);
      const task = await requireTask(tx, workspaceSid, sid);
      checkVersionMatch(task, ifMatch, 'task');
      const nowMs = this.deps.clock.now();
      const change =
        input.assignmentStatus === undefined
          ? 'none'
          : taskStatusChange(task, input.assignmentStatus, input.reason);
      const patch: TaskPatch = {};
      if (input.attributes !== undefined && input.attributes !== task.attributes)
        patch.attributes = input.attributes;
      if (input.priority !== undefined && input.priority !== task.requestedPriority) {
        patch.requestedPriority = input.priority;
      }
      if (input.taskChannel !== undefined) {
        const channel = await requireTaskChannelParam(tx, workspaceSid, input.taskChannel);
        if (channel !== task.taskChannelSid) {
          if (task.assignmentStatus !== 'pending')
            throw new InvalidParameterError(
              'TaskChannel',
              'Only a pending task can move to another TaskChannel',
            );
          patch.taskChannelSid = channel;
        }
      }
      if (input.virtualStartTime !== undefined)
        patch.virtualStartMs = this.virtualStart(input.virtualStartTime, nowMs);
      const changesFields = Object.keys(patch).length > 0;
      if (changesFields && TERMINAL.includes(task.assignmentStatus)) {
        throw new InvalidParameterError('Attributes', `A ${task.assignmentStatus} task cannot be changed`);
      }
      if (!changesFields && change === 'none') return task;
      if (changesFields) {
        await tx.updateTask(sid, patch, wholeSeconds(new Date(nowMs)));
        const updated = await requireTask(tx, workspaceSid, sid);
        await record(tx, this.deps, {
          type: 'task.updated',
          accountSid,
          workspaceSid,
          resourceType: 'Task',
          resourceSid: sid,
          data: taskEventData(updated, nowMs),
        });
      }
      let current = await requireTask(tx, workspaceSid, sid);
      if (change === 'cancel') await this.routing.cancelTask(tx, ws, current, input.reason!, 'api');
      else if (change === 'wrap') await this.routing.wrap(tx, ws, current);
      else if (change === 'complete') await this.routing.complete(tx, ws, current, input.reason);
      current = await requireTask(tx, workspaceSid, sid);
      if (changesFields && current.assignmentStatus === 'pending') {
        // Re-evaluated: new attributes route from the workflow's start; a new priority or channel where it is.
        await this.routing.route(tx, ws, current, { reset: patch.attributes !== undefined });
      } else if (patch.requestedPriority !== undefined && !TERMINAL.includes(current.assignmentStatus)) {
        await this.routing.refreshPriority(tx, current);
      }
      return requireTask(tx, workspaceSid, sid);
    });
  }

  remove(accountSid: string, workspaceSid: string, sid: string, ifMatch: string | undefined): Promise<void> {
    return this.deps.store.transaction(async (tx) => {
      const ws = await requireWorkspace(tx, accountSid, workspaceSid);
      await tx.holdRouting(workspaceSid);
      const task = await requireTask(tx, workspaceSid, sid);
      checkVersionMatch(task, ifMatch, 'task');
      await this.routing.deleteTask(tx, ws, task);
    });
  }
}

export class ReservationService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly routing: RoutingEngine,
  ) {}

  async list(
    accountSid: string,
    workspaceSid: string,
    view: ReservationView,
    status: ReservationStatus | undefined,
    page: PageQuery,
  ) {
    await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    await requireViewOwner(this.deps.store, workspaceSid, view);
    const filter: ReservationFilter = { ...view, ...(status === undefined ? {} : { status }) };
    return this.deps.store.listReservations(workspaceSid, filter, page);
  }

  async fetch(
    accountSid: string,
    workspaceSid: string,
    view: ReservationView,
    sid: string,
  ): Promise<Reservation> {
    await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    await requireViewOwner(this.deps.store, workspaceSid, view);
    return requireReservation(this.deps.store, workspaceSid, view, sid);
  }

  update(
    accountSid: string,
    workspaceSid: string,
    view: ReservationView,
    sid: string,
    input: UpdateReservationInput,
    ifMatch: string | undefined,
  ): Promise<Reservation> {
    return this.deps.store.transaction(async (tx) => {
      const ws = await requireWorkspace(tx, accountSid, workspaceSid);
      await tx.holdRouting(workspaceSid);
      await requireViewOwner(tx, workspaceSid, view);
      const reservation = await requireReservation(tx, workspaceSid, view, sid);
      checkVersionMatch(reservation, ifMatch, 'reservation');
      if (
        input.workerActivitySid !== undefined &&
        !(await tx.getActivity(workspaceSid, input.workerActivitySid))
      ) {
        throw new InvalidParameterError(
          'WorkerActivitySid',
          `WorkerActivitySid ${input.workerActivitySid} is not an activity of this workspace`,
        );
      }
      const status = input.status ?? instructedStatus(input);
      const change = status === undefined ? 'none' : reservationStatusChange(reservation, status);
      const now = wholeSeconds(this.deps.now());
      if (input.instruction !== undefined) {
        const instruction = JSON.stringify({
          instruction: input.instruction,
          ...input.instructionParameters,
        });
        await tx.updateReservation(sid, { instruction }, now);
      }
      const current = await requireReservation(tx, workspaceSid, view, sid);
      const task = await requireTask(tx, workspaceSid, current.taskSid);
      switch (change) {
        case 'accept':
          await this.routing.accept(tx, ws, current, input.workerActivitySid);
          break;
        case 'reject':
          await this.routing.decline(tx, ws, current, 'rejected', input.workerActivitySid);
          break;
        case 'wrap':
          if (task.assignmentStatus === 'assigned') await this.routing.wrap(tx, ws, task);
          break;
        case 'complete':
          await this.routing.complete(tx, ws, task, undefined);
          break;
        case 'none':
          if (input.workerActivitySid !== undefined) {
            await this.routing.moveWorker(tx, current.workerSid, workspaceSid, input.workerActivitySid);
          }
      }
      return requireReservation(tx, workspaceSid, view, sid);
    });
  }
}

/**
 * The status an instruction implies when no ReservationStatus is given: `accept`, `reject`;
 * `dequeue` and `conference` accept (they connect the worker); `call` and `redirect` accept
 * when their `CallAccept` / `RedirectAccept` says so.
 */
function instructedStatus(input: UpdateReservationInput): ReservationStatus | undefined {
  const p = input.instructionParameters ?? {};
  switch (input.instruction) {
    case 'accept':
    case 'dequeue':
    case 'conference':
      return 'accepted';
    case 'reject':
      return 'rejected';
    case 'call':
      return p['CallAccept'] === 'true' ? 'accepted' : undefined;
    case 'redirect':
      return p['RedirectAccept'] === 'true' ? 'accepted' : undefined;
    default:
      return undefined;
  }
}

async function requireTaskChannelParam(
  tx: StoreReader,
  workspaceSid: string,
  value: string,
): Promise<string> {
  const channel = await tx.getTaskChannel(workspaceSid, value);
  if (!channel)
    throw new InvalidParameterError(
      'TaskChannel',
      `TaskChannel ${value} is not a TaskChannel of this workspace`,
    );
  return channel.sid;
}

export async function requireTask(reader: StoreReader, workspaceSid: string, sid: string): Promise<Task> {
  const task = await reader.getTask(workspaceSid, sid);
  if (!task) throw new NotFoundError('Task', sid);
  return task;
}

async function requireViewOwner(
  reader: StoreReader,
  workspaceSid: string,
  view: ReservationView,
): Promise<void> {
  if ('taskSid' in view) await requireTask(reader, workspaceSid, view.taskSid);
  else if (!(await reader.getWorker(workspaceSid, view.workerSid)))
    throw new NotFoundError('Worker', view.workerSid);
}

async function requireReservation(
  reader: StoreReader,
  workspaceSid: string,
  view: ReservationView,
  sid: string,
): Promise<Reservation> {
  const r = await reader.getReservation(workspaceSid, sid);
  const mine =
    r !== null && ('taskSid' in view ? r.taskSid === view.taskSid : r.workerSid === view.workerSid);
  if (!r || !mine) throw new NotFoundError('Reservation', sid);
  return r;
}
