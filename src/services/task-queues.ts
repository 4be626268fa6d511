import { ConflictError, InvalidParameterError, NotFoundError } from '../domain/errors.js';
import { ACTIVE_TASK } from '../domain/tasks.js';
import { newSid, SidPrefix } from '../domain/sid.js';
import {
  compileTargetWorkers,
  DEFAULT_TARGET_WORKERS,
  matchesQueue,
  readsChangingWorkerFields,
  type WorkerDocument,
} from '../domain/task-queues.js';
import type { QueueOrder, TaskQueue } from '../domain/types.js';
import { assertQueueUnreferenced } from '../domain/workflows/configuration.js';
import type { QueueMembership } from './membership.js';
import type { RoutingEngine } from './routing.js';
import { workflowQueueReferences } from './workflows.js';
import type { PageQuery, StoreReader, StoreTx, TaskQueueFilter, TaskQueuePatch } from './ports/store.js';
import { record, requireWorkspace, wholeSeconds, type ServiceDeps } from './context.js';

export interface CreateTaskQueueInput {
  friendlyName: string;
  targetWorkers?: string;
  maxReservedWorkers?: number;
  taskOrder?: QueueOrder;
  reservationActivitySid?: string;
  assignmentActivitySid?: string;
}

export interface UpdateTaskQueueInput {
  friendlyName?: string;
  targetWorkers?: string;
  maxReservedWorkers?: number;
  taskOrder?: QueueOrder;
  reservationActivitySid?: string;
  assignmentActivitySid?: string;
}

export interface TaskQueueListFilter {
  friendlyName?: string;
  workerSid?: string;
  /** EvaluateWorkerAttributes: a worker's attributes (JSON object text). */
  evaluateWorkerAttributes?: string;
}

/** Workers of a workspace against which EvaluateWorkerAttributes is tested, page by page. */
const EVALUATE_PAGE = 1_000;

export class TaskQueueService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly membership: QueueMembership,
    private readonly routing: RoutingEngine,
  ) {}

  async list(accountSid: string, workspaceSid: string, filter: TaskQueueListFilter, page: PageQuery) {
    const store = this.deps.store;
    await requireWorkspace(store, accountSid, workspaceSid);
    const storeFilter: TaskQueueFilter = { friendlyName: filter.friendlyName, workerSid: filter.workerSid };
    if (filter.evaluateWorkerAttributes !== undefined) {
      // Attributes alone, as a worker would have them: the worker fields are absent.
      const doc: WorkerDocument = { attributes: JSON.parse(filter.evaluateWorkerAttributes), fields: {} };
      const sids: string[] = [];
      for (let p = 0; ; p++) {
        const queues = await store.listTaskQueues(workspaceSid, {}, { pageSize: EVALUATE_PAGE, page: p });
        for (const q of queues.items) if (matchesQueue(this.membership.expression(q), doc)) sids.push(q.sid);
        if (queues.nextPageToken === null) break;
      }
      storeFilter.sids = sids;
    }
    return store.listTaskQueues(workspaceSid, storeFilter, page);
  }

  async fetch(accountSid: string, workspaceSid: string, sid: string): Promise<TaskQueue> {
    await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    return requireTaskQueue(this.deps.store, workspaceSid, sid);
  }

  create(accountSid: string, workspaceSid: string, input: CreateTaskQueueInput): Promise<TaskQueue> {
    const sid = newSid(SidPrefix.taskQueue);
    const now = wholeSeconds(this.deps.now());
    const targetWorkers = input.targetWorkers ?? DEFAULT_TARGET_WORKERS;
    const expression = compileTargetWorkers(targetWorkers);
    return this.deps.store.transaction(async (tx) => {
      await requireWorkspace(tx, accountSid, workspaceSid);
      await requireActivities(tx, workspaceSid, input);
      await tx.insertTaskQueue({
        sid,
        accountSid,
        workspaceSid,
        friendlyName: input.friendlyName,
        targetWorkers,
        readsWorkerFields: readsChangingWorkerFields(expression),
        maxReservedWorkers: input.maxReservedWorkers ?? 1,
        taskOrder: input.taskOrder ?? 'FIFO',
        reservationActivitySid: input.reservationActivitySid ?? null,
        assignmentActivitySid: input.assignmentActivitySid ?? null,
        now,
      });
      await this.membership.evaluateQueue(tx, workspaceSid, sid, expression);
      tx.onCommit(() => this.membership.remember(sid, expression));
      const queue = await requireTaskQueue(tx, workspaceSid, sid);
      await record(tx, this.deps, taskQueueEvent('task-queue.created', queue));
      return queue;
    });
  }

  update(
    accountSid: string,
    workspaceSid: string,
    sid: string,
    input: UpdateTaskQueueInput,
  ): Promise<TaskQueue> {
    const expression =
      input.targetWorkers === undefined ? undefined : compileTargetWorkers(input.targetWorkers);
    return this.deps.store.transaction(async (tx) => {
      const ws = await requireWorkspace(tx, accountSid, workspaceSid);
      const before = await requireTaskQueue(tx, workspaceSid, sid);
      await requireActivities(tx, workspaceSid, input);
      const patch: TaskQueuePatch = { ...input };
      if (expression) patch.readsWorkerFields = readsChangingWorkerFields(expression);
      if (Object.values(input).every((v) => v === undefined)) return before;
      await tx.updateTaskQueue(sid, patch, wholeSeconds(this.deps.now()));
      const expressionChanged = expression !== undefined && input.targetWorkers !== before.targetWorkers;
      if (expression && expressionChanged) {
        // Routing first, then the workspace: the order every routing transaction takes them in.
        await tx.holdRouting(workspaceSid);
        await this.membership.evaluateQueue(tx, workspaceSid, sid, expression);
        tx.onCommit(() => this.membership.remember(sid, expression));
      }
      const queue = await requireTaskQueue(tx, workspaceSid, sid);
      await record(tx, this.deps, taskQueueEvent('task-queue.updated', queue));
      if (expressionChanged) {
        await record(
          tx,
          this.deps,
          taskQueueEvent('task-queue.expression.updated', queue, {
            target_workers: queue.targetWorkers,
            previous_target_workers: before.targetWorkers,
          }),
        );
        // New members may take the queue's waiting tasks.
        await this.routing.queueChanged(tx, ws, queue);
      }
      return queue;
    });
  }

  remove(accountSid: string, workspaceSid: string, sid: string): Promise<void> {
    return this.deps.store.transaction(async (tx) => {
      await requireWorkspace(tx, accountSid, workspaceSid);
      const queue = await requireTaskQueue(tx, workspaceSid, sid);
      // Routing first, then the workspace: the order every routing transaction takes them in.
      await tx.holdRouting(workspaceSid);
      assertQueueUnreferenced(sid, await workflowQueueReferences(tx, workspaceSid));
      if ((await tx.tasksInQueues([sid], ACTIVE_TASK, 1)).length > 0) {
        throw new ConflictError(
          `The TaskQueue ${sid} cannot be deleted: it has tasks that are not completed or canceled`,
        );
      }
      await tx.deleteTaskQueue(sid);
      tx.onCommit(() => this.membership.forget(sid));
      await record(tx, this.deps, taskQueueEvent('task-queue.deleted', queue));
    });
  }
}

async function requireActivities(
  tx: StoreTx,
  workspaceSid: string,
  input: { reservationActivitySid?: string; assignmentActivitySid?: string },
): Promise<void> {
  for (const [name, sid] of [
    ['ReservationActivitySid', input.reservationActivitySid],
    ['AssignmentActivitySid', input.assignmentActivitySid],
  ] as const) {
    if (sid !== undefined && !(await tx.getActivity(workspaceSid, sid))) {
      throw new InvalidParameterError(name, `${name} ${sid} is not an activity of this workspace`);
    }
  }
}

export async function requireTaskQueue(
  reader: StoreReader,
  workspaceSid: string,
  sid: string,
): Promise<TaskQueue> {
  const queue = await reader.getTaskQueue(workspaceSid, sid);
  if (!queue) throw new NotFoundError('TaskQueue', sid);
  return queue;
}

function taskQueueEvent(type: string, q: TaskQueue, extra: Record<string, unknown> = {}) {
  return {
    type,
    accountSid: q.accountSid,
    workspaceSid: q.workspaceSid,
    resourceType: 'TaskQueue',
    resourceSid: q.sid,
    data: {
      friendly_name: q.friendlyName,
      target_workers: q.targetWorkers,
      max_reserved_workers: q.maxReservedWorkers,
      task_order: q.taskOrder,
      reservation_activity_sid: q.reservationActivitySid,
      assignment_activity_sid: q.assignmentActivitySid,
      ...extra,
    },
  };
}
