/**
 * The routing engine: puts tasks in queues by their workflow, offers them to eligible workers as
 * reservations, and carries tasks and reservations through their lifecycles (routing.md §1.1–1.7,
 * docs/routing.md). The rules are the pure ones in domain/; this class reads and writes through
 * the store in the caller's transaction, records every change's event there, and schedules the
 * durable timers (TTL, reservation timeout, step timeout).
 *
 * Every entry point expects the caller to hold the workspace's routing (`tx.holdRouting`), so
 * two transactions never route one workspace at once (PostgreSQL; SQLite has one writer).
 */
import { isEligible, type RoutingStep, type WorkerCandidate } from '../domain/routing/eligibility.js';
import { crossQueueComparator, taskComparator, type QueuedTaskInQueue } from '../domain/routing/order.js';
import { rankWorker, workerComparator, type RankedWorker } from '../domain/routing/order.js';
import type { IdleWorkerCandidate } from '../domain/routing/select.js';
import { countQueueMembers, shouldSkipStep } from '../domain/routing/skip-if.js';
import { newSid, SidPrefix } from '../domain/sid.js';
import { workerDocument } from '../domain/task-queues.js';
import {
  DEFAULT_RESERVATION_TIMEOUT,
  REASON_RESERVATION_COMPLETED,
  REASON_TTL,
  REASON_WORKFLOW_TIMEOUT,
  reservationEventData,
  taskEventData,
} from '../domain/tasks.js';
import type {
  Reservation,
  ReservationStatus,
  Task,
  TaskQueue,
  Worker,
  WorkerChannel,
  WorkerLoad,
  Workflow,
  Workspace,
} from '../domain/types.js';
import {
  parseWorkflowConfiguration,
  type WorkflowConfiguration,
  type WorkflowTarget,
} from '../domain/workflows/configuration.js';
import {
  cursorAfterSkip,
  effectivePriority,
  routeTask,
  START,
  taskAge,
  type Route,
  type RouteCursor,
  type TaskDocument,
} from '../domain/workflows/route.js';
import { timeOfDayFields } from '../domain/workflows/time-of-day.js';
import type { TimerService } from '../timers/timer-service.js';
import { record, wholeSeconds, type ServiceDeps } from './context.js';
import type { QueueMembership } from './membership.js';
import type { IdleCursor, StoreTx, TaskPatch } from './ports/store.js';
import { recordWorkerChange } from './workers.js';

/**
 * A reservation as `updateReservation` leaves it after a change of status at `now` (its version
 * up by one): what a read back would give, without the read.
 */
function changed(r: Reservation, status: ReservationStatus, now: Date): Reservation {
  return { ...r, reservationStatus: status, version: r.version + 1, dateUpdated: now };
}

/** Timer kinds routing schedules. */
export const TimerKind = {
  ttl: 'task.ttl',
  step: 'task.step',
  reservation: 'reservation.timeout',
} as const;

/** Waiting tasks a freed worker looks at, at most, per offer. */
const OFFER_SCAN = 1_000;
/** Tasks re-routed at most by one re-evaluation (ReEvaluateTasks, a queue's new members). */
const REROUTE_LIMIT = 10_000;

/** The step a task waits in, as routing needs it. */
interface Placement {
  route: Route;
  queueSid: string | null;
  target: WorkflowTarget | undefined;
  cursor: RouteCursor;
}

export class RoutingEngine {
  private readonly compiled = new Map<string, { text: string; configuration: WorkflowConfiguration }>();

  constructor(
    private readonly deps: ServiceDeps,
    private readonly membership: QueueMembership,
    private readonly timers: TimerService,
  ) {
    timers.on(TimerKind.ttl, (tx, timer) =>
      this.onTaskTimer(tx, timer.workspaceSid, timer.resourceSid, 'ttl'),
    );
    timers.on(TimerKind.step, (tx, timer) =>
      this.onTaskTimer(tx, timer.workspaceSid, timer.resourceSid, 'step'),
    );
    timers.on(TimerKind.reservation, (tx, timer) =>
      this.onReservationTimer(tx, timer.workspaceSid, timer.resourceSid),
    );
  }

  private nowMs(): number {
    return this.deps.clock.now();
  }

  private nowDate(): Date {
    return wholeSeconds(new Date(this.nowMs()));
  }

  // ---- reading what routing needs

  configuration(workflow: Workflow): WorkflowConfiguration {
    const known = this.compiled.get(workflow.sid);
    if (known && known.text === workflow.configuration) return known.configuration;
    // Validated when written; a queue it names cannot be deleted while it does.
    const configuration = parseWorkflowConfiguration(workflow.configuration, { queueExists: () => true });
    if (this.compiled.size > 10_000) this.compiled.clear();
    this.compiled.set(workflow.sid, { text: workflow.configuration, configuration });
    return configuration;
  }

  private taskDocument(task: Task): TaskDocument {
    return {
      attributes: JSON.parse(task.attributes) as unknown,
      fields: { ...timeOfDayFields(new Date(this.nowMs())), sid: task.sid },
    };
  }

  /** Where the task waits now, from its workflow (or the queue it was sent to), without side effects. */
  private async placement(tx: StoreTx, task: Task, cursor: RouteCursor): Promise<Placement> {
    if (task.workflowSid === null) {
      const route: Route =
        task.taskQueueSid === null ? { kind: 'unrouted' } : { kind: 'default', queueSid: task.taskQueueSid };
      return { route, queueSid: task.taskQueueSid, target: undefined, cursor };
    }
    const workflow = await tx.getWorkflow(task.workspaceSid, task.workflowSid);
    if (!workflow) return { route: { kind: 'unrouted' }, queueSid: null, target: undefined, cursor };
    const route = routeTask(
      this.configuration(workflow),
      this.taskDocument(task),
      taskAge(new Date(task.createdMs), new Date(this.nowMs())),
      cursor,
    );
    return {
      route,
      queueSid: route.kind === 'target' || route.kind === 'default' ? route.queueSid : null,
      target: route.kind === 'target' ? route.target : undefined,
      cursor,
    };
  }

  private async requireTask(tx: StoreTx, workspaceSid: string, sid: string): Promise<Task> {
    const task = await tx.getTask(workspaceSid, sid);
    if (!task) throw new Error(`Task ${sid} vanished inside its transaction`);
    return task;
  }

  // ---- events

  private recordTask(
    tx: StoreTx,
    type: string,
    task: Task,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    return record(tx, this.deps, {
      type,
      accountSid: task.accountSid,
      workspaceSid: task.workspaceSid,
      resourceType: 'Task',
      resourceSid: task.sid,
      data: { ...taskEventData(task, this.nowMs()), ...extra },
    });
  }

  private recordQueue(
    tx: StoreTx,
    type: string,
    task: Task,
    queueSid: string,
    extra: Record<string, unknown> = {},
  ) {
    return record(tx, this.deps, {
      type,
      accountSid: task.accountSid,
      workspaceSid: task.workspaceSid,
      resourceType: 'TaskQueue',
      resourceSid: queueSid,
      data: { ...taskEventData(task, this.nowMs()), task_queue_sid: queueSid, ...extra },
    });
  }

  private recordWorkflow(tx: StoreTx, type: string, task: Task, extra: Record<string, unknown> = {}) {
    return record(tx, this.deps, {
      type,
      accountSid: task.accountSid,
      workspaceSid: task.workspaceSid,
      resourceType: 'Workflow',
      resourceSid: task.workflowSid ?? '',
      data: { ...taskEventData(task, this.nowMs()), ...extra },
    });
  }

  private recordReservation(tx: StoreTx, type: string, r: Reservation, task: Task): Promise<void> {
    return record(tx, this.deps, {
      type,
      accountSid: r.accountSid,
      workspaceSid: r.workspaceSid,
      resourceType: 'Reservation',
      resourceSid: r.sid,
      data: reservationEventData(r, task, this.nowMs()),
    });
  }

  // ---- tasks arriving and moving

  /**
   * A task just inserted (pending, in no queue yet): its events in Twilio's order
   * (workflow.entered, task-queue.entered, task.created, workflow.target-matched), its TTL, and
   * its first routing.
   */
  async taskCreated(tx: StoreTx, ws: Workspace, taskSid: string): Promise<void> {
    const task = await this.requireTask(tx, ws.sid, taskSid);
    await this.timers.schedule(tx, {
      workspaceSid: ws.sid,
      kind: TimerKind.ttl,
      resourceSid: task.sid,
      dueAtMs: task.createdMs + task.timeout * 1000,
    });
    if (task.workflowSid !== null) await this.recordWorkflow(tx, 'workflow.entered', task);
    else if (task.taskQueueSid !== null)
      await this.recordQueue(tx, 'task-queue.entered', task, task.taskQueueSid);
    await this.route(tx, ws, task, {
      entering: true,
      onCreated: (t) => this.recordTask(tx, 'task.created', t),
    });
  }

  /**
   * Routes a pending task: moves it to the queue of its current step (events), applies the
   * step's priority, offers it to eligible workers, skips the step when `skip_if` says so (only
   * as the task enters it), cancels it when its workflow has timed out, and schedules the step's end.
   */
  async route(
    tx: StoreTx,
    ws: Workspace,
    given: Task,
    options: {
      entering?: boolean;
      reset?: boolean;
      onCreated?: (task: Task) => Promise<void>;
      /**
       * Runs once, when the task is in its step (queue, priority, events) and before it is
       * offered: a step's end offers the workers it freed here, so they take the best waiting
       * task of their queues, the moved one included, before the moved task picks a worker.
       */
      beforeOffer?: () => Promise<void>;
    } = {},
  ): Promise<void> {
    let task = given;
    let cursor: RouteCursor = options.reset
      ? START
      : { filterIndex: task.filterIndex, stepIndex: task.stepIndex };
    let entering = options.entering === true || options.reset === true;
    let created = options.onCreated;
    let beforeOffer = options.beforeOffer;
    for (let guard = 0; guard < 10_000; guard++) {
      const placed = await this.placement(tx, task, cursor);
      if (placed.route.kind === 'timed-out') {
        if (created) {
          await created(task);
          created = undefined;
        }
        await this.recordWorkflow(tx, 'workflow.timeout', task);
        await this.cancelTask(tx, ws, task, REASON_WORKFLOW_TIMEOUT, 'workflow.timeout');
        return;
      }
      const patch: TaskPatch = {};
      const queueChanged = placed.queueSid !== task.taskQueueSid;
      const cursorChanged = cursor.filterIndex !== task.filterIndex || cursor.stepIndex !== task.stepIndex;
      if (queueChanged) {
        patch.taskQueueSid = placed.queueSid;
        patch.queueEnteredMs = placed.queueSid === null ? null : this.nowMs();
      }
      if (cursorChanged) {
        patch.filterIndex = cursor.filterIndex;
        patch.stepIndex = cursor.stepIndex;
      }
      const priority = effectivePriority(placed.route, task.requestedPriority);
      if (priority !== task.priority) patch.priority = priority;
      const previousQueue = task.taskQueueSid;
      if (Object.keys(patch).length > 0) {
        await tx.updateTask(task.sid, patch, this.nowDate());
        task = await this.requireTask(tx, ws.sid, task.sid);
      }
      if (queueChanged && placed.queueSid !== null) {
        if (previousQueue === null) await this.recordQueue(tx, 'task-queue.entered', task, placed.queueSid);
        else
          await this.recordQueue(tx, 'task-queue.moved', task, placed.queueSid, {
            task_queue_sid_previous: previousQueue,
          });
      }
      if (created) {
        await created(task);
        created = undefined;
      }
      if ((queueChanged || cursorChanged || entering) && placed.route.kind === 'target') {
        await this.recordWorkflow(tx, 'workflow.target-matched', task, {
          workflow_filter_name: placed.route.filter.friendlyName ?? null,
          workflow_filter_index: placed.route.filter.index,
          workflow_target_index: placed.route.target.index,
        });
      }
      const stepEntered = queueChanged || cursorChanged || entering;
      let reserved = false;
      if (beforeOffer) {
        await beforeOffer();
        beforeOffer = undefined;
        task = await this.requireTask(tx, ws.sid, task.sid);
        reserved = task.assignmentStatus !== 'pending'; // a worker the hook offered took it
      }
      if ((placed.queueSid !== null || this.targetsWorker(task)) && task.assignmentStatus === 'pending') {
        reserved = await this.offerTask(tx, ws, task, placed.queueSid, placed.target);
      }
      if (
        stepEntered &&
        !reserved &&
        placed.route.kind === 'target' &&
        placed.target?.skipIf !== undefined &&
        (await this.skips(tx, ws, placed.target, placed.queueSid!))
      ) {
        await this.recordWorkflow(tx, 'workflow.skipped', task, {
          workflow_filter_name: placed.route.filter.friendlyName ?? null,
          workflow_target_index: placed.route.target.index,
        });
        cursor = cursorAfterSkip(placed.route);
        entering = true;
        continue;
      }
      await this.scheduleStepEnd(tx, task, placed.route);
      return;
    }
  }

  private async skips(
    tx: StoreTx,
    ws: Workspace,
    target: WorkflowTarget,
    queueSid: string,
  ): Promise<boolean> {
    const members = await tx.queueMemberActivities(queueSid);
    const activities = await tx.listActivities(ws.sid, {}, { pageSize: 1000, page: 0 });
    const counts = countQueueMembers(
      members,
      activities.items.map((a) => a.sid),
    );
    return shouldSkipStep(target, counts, false);
  }

  private async scheduleStepEnd(tx: StoreTx, task: Task, route: Route): Promise<void> {
    const age = route.kind === 'target' ? route.target.expiresAtAge : undefined;
    if (age === undefined) {
      await this.timers.cancel(tx, TimerKind.step, task.sid);
      return;
    }
    await this.timers.schedule(tx, {
      workspaceSid: task.workspaceSid,
      kind: TimerKind.step,
      resourceSid: task.sid,
      dueAtMs: task.createdMs + age * 1000,
    });
  }

  /** The worker as a candidate for a task on `taskChannelSid` (its load read now). */
  private async candidate(
    tx: StoreTx,
    worker: Worker,
    taskChannelSid: string,
    ignoreCapacity: boolean,
  ): Promise<IdleWorkerCandidate> {
    const loads = await tx.workerLoads(worker.sid);
    const channel = await tx.getWorkerChannel(worker.sid, taskChannelSid);
    return this.candidateOf(worker, loads, channel, taskChannelSid, ignoreCapacity);
  }

  /** As `candidate`, from what has been read; `channel` undefined: not read yet (assumed to fit). */
  private candidateOf(
    worker: Worker,
    loads: readonly WorkerLoad[],
    given: Pick<WorkerChannel, 'available' | 'capacity'> | null | undefined,
    taskChannelSid: string,
    ignoreCapacity: boolean,
  ): IdleWorkerCandidate {
    const load = loads.find((l) => l.taskChannelSid === taskChannelSid);
    const channel = given === undefined ? { available: true, capacity: Number.MAX_SAFE_INTEGER } : given;
    // Parsed only when an expression or order_by reads them: most offers never do.
    let doc: ReturnType<typeof workerDocument> | undefined;
    const document = () => (doc ??= workerDocument(worker));
    const freed = loads.reduce((max, l) => Math.max(max, l.freedMs), 0);
    return {
      sid: worker.sid,
      friendlyName: worker.friendlyName,
      get attributes() {
        return document().attributes;
      },
      get fields() {
        return document().fields;
      },
      queueMember: true,
      activityAvailable: ignoreCapacity || worker.available,
      channel:
        channel === null
          ? undefined
          : ignoreCapacity
            ? { available: true, capacity: Number.MAX_SAFE_INTEGER, assignedTasks: 0, pendingReservations: 0 }
            : {
                available: channel.available,
                capacity: channel.capacity,
                assignedTasks: load?.assigned ?? 0,
                pendingReservations: load?.reserved ?? 0,
              },
      heldTasks: ignoreCapacity ? 0 : loads.reduce((n, l) => n + l.reserved + l.assigned, 0),
      idleSince: Math.max(worker.dateStatusChanged.getTime(), freed),
    };
  }

  /** Offers the task to the best eligible workers of its queue; true when a reservation was made. */
  private async offerTask(
    tx: StoreTx,
    ws: Workspace,
    task: Task,
    queueSid: string | null,
    target: WorkflowTarget | undefined,
  ): Promise<boolean> {
    const queue = queueSid === null ? null : await tx.getTaskQueue(ws.sid, queueSid);
    if (!queue && !this.targetsWorker(task)) return false;
    const seen = await tx.reservationsOf({ taskSid: task.sid }, ['pending', 'rejected']);
    const pending = seen.filter((r) => r.reservationStatus === 'pending');
    const room = (queue?.maxReservedWorkers ?? 1) - pending.length;
    if (room <= 0) return false;
    const excluded = new Set(seen.map((r) => r.workerSid));
    const step = this.step(ws, target);
    const doc = this.taskDocument(task);
    let current = task;
    let made = 0;
    // Without order_by the worker order is the index's (longest idle first, then SID): the
    // members are walked a page at a time and the first eligible ones take the task, so an
    // offer reads a few members, not the whole queue.
    if (queueSid !== null && !this.targetsWorker(task) && target?.orderBy === undefined) {
      for (let after: IdleCursor | null = null; ;) {
        const page = await tx.idleQueueMembersOn(queueSid, task.taskChannelSid, after);
        const members = page.members.filter((m) => !excluded.has(m.worker.sid));
        const loads = await this.loadsOf(tx, members);
        for (const { worker, channel } of members) {
          const c = this.candidateOf(
            worker,
            loads.get(worker.sid) ?? [],
            channel,
            task.taskChannelSid,
            false,
          );
          if (!isEligible(c, doc, step)) continue;
          current = await this.reserve(tx, ws, current, worker, queue);
          if (++made >= room) return true;
        }
        if (page.next === null) return made > 0;
        after = page.next;
      }
    }
    const members = (await this.membersFor(tx, ws, task, queueSid)).filter(
      (m) => !excluded.has(m.worker.sid),
    );
    if (members.length === 0) return false;
    const loads = await this.loadsOf(tx, members);
    // Every check with what the two reads gave (members with their channel, their loads); the
    // target expression runs last, and only order_by reads attributes again.
    const compare = workerComparator(target?.orderBy);
    const ranked: { worker: Worker; rank: RankedWorker }[] = [];
    for (const { worker, channel } of members) {
      const ignore = this.ignoresCapacity(task, worker.sid);
      // Ignoring capacity (RoutingTarget) skips the channel, as if it fitted.
      const given = ignore ? undefined : channel;
      const c = this.candidateOf(worker, loads.get(worker.sid) ?? [], given, task.taskChannelSid, ignore);
      if (!isEligible(c, doc, step)) continue;
      ranked.push({ worker, rank: rankWorker(target?.orderBy, c, c.idleSince) });
    }
    ranked.sort((a, b) => compare(a.rank, b.rank));
    for (const { worker } of ranked) {
      if (made >= room) break;
      current = await this.reserve(tx, ws, current, worker, queue);
      made++;
    }
    return made > 0;
  }

  /** The load rows of these members, by worker SID (none read when there are no members). */
  private async loadsOf(
    tx: StoreTx,
    members: readonly { worker: Worker }[],
  ): Promise<Map<string, WorkerLoad[]>> {
    const loads = new Map<string, WorkerLoad[]>();
    if (members.length === 0) return loads;
    for (const l of await tx.workerLoadsOf(members.map((m) => m.worker.sid))) {
      const list = loads.get(l.workerSid);
      if (list) list.push(l);
      else loads.set(l.workerSid, [l]);
    }
    return loads;
  }

  /** Whether the task was sent to one worker (RoutingTarget WK…), queue or not. */
  private targetsWorker(task: Task): boolean {
    return task.routingTarget?.startsWith(SidPrefix.worker) === true;
  }

  /**
   * The queue's available members with their channel for the task's channel; a task sent to one
   * worker (RoutingTarget) has that worker only.
   */
  private async membersFor(
    tx: StoreTx,
    ws: Workspace,
    task: Task,
    queueSid: string | null,
  ): Promise<{ worker: Worker; channel: Pick<WorkerChannel, 'available' | 'capacity'> | null }[]> {
    if (this.targetsWorker(task)) {
      const worker = await tx.getWorker(ws.sid, task.routingTarget!);
      if (!worker) return [];
      if (!this.ignoresCapacity(task, worker.sid) && !worker.available) return [];
      return [{ worker, channel: await tx.getWorkerChannel(worker.sid, task.taskChannelSid) }];
    }
    return queueSid === null ? [] : tx.availableQueueMembersOn(queueSid, task.taskChannelSid);
  }

  private ignoresCapacity(task: Task, workerSid: string): boolean {
    return task.routingTarget === workerSid && task.ignoreCapacity !== false;
  }

  private step(ws: Workspace, target: WorkflowTarget | undefined): RoutingStep {
    return { target, multitasking: ws.multiTaskEnabled, timeOfDay: timeOfDayFields(new Date(this.nowMs())) };
  }

  /** Makes a pending reservation of the task for the worker; returns the task as it is then. */
  private async reserve(
    tx: StoreTx,
    ws: Workspace,
    task: Task,
    worker: Worker,
    queue: TaskQueue | null,
  ): Promise<Task> {
    const sid = newSid(SidPrefix.reservation);
    const now = this.nowDate();
    await tx.insertReservation({
      sid,
      accountSid: task.accountSid,
      workspaceSid: ws.sid,
      taskSid: task.sid,
      workerSid: worker.sid,
      workerName: worker.friendlyName,
      taskChannelSid: task.taskChannelSid,
      now,
    });
    await tx.addWorkerLoad(ws.sid, worker.sid, task.taskChannelSid, { reserved: 1 });
    if (task.assignmentStatus === 'pending')
      await tx.updateTask(task.sid, { assignmentStatus: 'reserved' }, now);
    // As the store now has them (read back would cost two round trips on the hottest path).
    const reserved: Task =
      task.assignmentStatus === 'pending'
        ? { ...task, assignmentStatus: 'reserved', version: task.version + 1, dateUpdated: now }
        : task;
    const reservation: Reservation = {
      sid,
      accountSid: task.accountSid,
      workspaceSid: ws.sid,
      taskSid: task.sid,
      workerSid: worker.sid,
      workerName: worker.friendlyName,
      taskChannelSid: task.taskChannelSid,
      reservationStatus: 'pending',
      instruction: null,
      version: 0,
      dateCreated: now,
      dateUpdated: now,
    };
    await this.recordReservation(tx, 'reservation.created', reservation, reserved);
    const timeout = task.workflowSid === null ? null : await tx.getWorkflow(ws.sid, task.workflowSid);
    await this.timers.schedule(tx, {
      workspaceSid: ws.sid,
      kind: TimerKind.reservation,
      resourceSid: sid,
      dueAtMs: this.nowMs() + (timeout?.taskReservationTimeout ?? DEFAULT_RESERVATION_TIMEOUT) * 1000,
    });
    if (!ws.multiTaskEnabled && queue?.reservationActivitySid) {
      await this.moveWorker(tx, worker.sid, ws.sid, queue.reservationActivitySid);
    }
    return reserved;
  }

  /** Moves a worker to an activity as routing does (membership and events as for the API's). */
  async moveWorker(tx: StoreTx, workerSid: string, workspaceSid: string, activitySid: string): Promise<void> {
    const patch = { activitySid };
    const updated = await tx.updateWorker(workerSid, patch, this.nowDate());
    if (updated && updated.workspaceSid === workspaceSid) {
      await recordWorkerChange(tx, this.deps, this.membership, updated, patch);
    }
  }

  /** After the requested priority changed on a task past routing: the priority its step gives it. */
  async refreshPriority(tx: StoreTx, task: Task): Promise<void> {
    const placed = await this.placement(tx, task, {
      filterIndex: task.filterIndex,
      stepIndex: task.stepIndex,
    });
    const priority =
      placed.queueSid === task.taskQueueSid
        ? effectivePriority(placed.route, task.requestedPriority)
        : task.requestedPriority;
    if (priority !== task.priority) await tx.updateTask(task.sid, { priority }, this.nowDate());
  }

  // ---- workers becoming free

  /**
   * Offers a worker (just available, or with capacity freed) the waiting tasks of its queues,
   * best first, while it is eligible for more.
   */
  async offerWorker(
    tx: StoreTx,
    ws: Workspace,
    workerSid: string,
    options: { stopAt?: string } = {},
  ): Promise<boolean> {
    // Most frees find nothing to offer: two indexed probes before anything is read.
    const waitingTasks = await tx.hasWaitingTasks(ws.sid);
    if (!waitingTasks && !(await tx.hasMultiReservedTasks(ws.sid))) return false;
    const worker = await tx.getWorker(ws.sid, workerSid);
    if (!worker) return false;
    const queueSids = await tx.queuesOfWorker(workerSid);
    const queues = new Map<string, TaskQueue>();
    for (const sid of queueSids) {
      const q = await tx.getTaskQueue(ws.sid, sid);
      if (q) queues.set(sid, q);
    }
    // Reserved tasks of queues with max_reserved_workers > 1 may take more pending reservations.
    const multi = [...queues.values()].filter((q) => q.maxReservedWorkers > 1).map((q) => q.sid);
    const reservedToo = multi.length > 0 ? await tx.tasksInQueues(multi, ['reserved'], OFFER_SCAN) : [];
    const waiting = waitingTasks ? await tx.tasksInQueues(queueSids, ['pending'], OFFER_SCAN) : [];
    const targeted = waitingTasks
      ? (
          await tx.listTasks(
            ws.sid,
            { routingTarget: workerSid, assignmentStatus: ['pending'] },
            { pageSize: 100, page: 0 },
          )
        ).items
      : [];
    const all = new Map<string, Task>();
    for (const t of [...waiting, ...targeted, ...reservedToo]) all.set(t.sid, t);
    if (all.size === 0) return false;
    const ranked: (QueuedTaskInQueue & { task: Task })[] = [...all.values()].map((t) => ({
      sid: t.sid,
      priority: t.priority,
      orderTime: t.virtualStartMs,
      queueOrder: (t.taskQueueSid === null ? undefined : queues.get(t.taskQueueSid)?.taskOrder) ?? 'FIFO',
      task: t,
    }));
    // Waiting tasks first; a further reservation of a task already reserved (max_reserved_workers
    // > 1) only once no waiting task fits (Roster decides: capacity goes to tasks nobody holds).
    const byOrder = crossQueueComparator(ws.prioritizeQueueOrder);
    const held = (e: { task: Task }) => (e.task.assignmentStatus === 'pending' ? 0 : 1);
    ranked.sort((x, y) => held(x) - held(y) || byOrder(x, y));
    let reserved = false;
    for (const entry of ranked) {
      const fresh = await tx.getWorker(ws.sid, workerSid);
      if (!fresh) return reserved;
      const task = entry.task;
      // `stopAt`: that task is offered next by its own turn, to its best free worker.
      if (task.sid === options.stopAt) return reserved;
      const ignore = this.ignoresCapacity(task, workerSid);
      if (this.targetsWorker(task) && task.routingTarget !== workerSid) continue;
      if (!ignore && !fresh.available) return reserved;
      const placed = await this.placement(tx, task, {
        filterIndex: task.filterIndex,
        stepIndex: task.stepIndex,
      });
      if (placed.queueSid !== task.taskQueueSid || placed.route.kind === 'timed-out') continue; // its timer moves it
      const queue = task.taskQueueSid === null ? undefined : queues.get(task.taskQueueSid);
      if (!queue && !this.targetsWorker(task)) continue;
      const seen = await tx.reservationsOf({ taskSid: task.sid }, ['pending', 'rejected']);
      if (seen.some((r) => r.workerSid === workerSid)) continue;
      if (task.assignmentStatus !== 'pending') {
        // Reserved: a further offer only while it holds fewer than max_reserved_workers.
        const pending = seen.filter((r) => r.reservationStatus === 'pending').length;
        if (pending >= (queue?.maxReservedWorkers ?? 1)) continue;
        const current = await tx.getTask(ws.sid, task.sid);
        if (current?.assignmentStatus !== 'reserved') continue;
      }
      const candidate: WorkerCandidate = await this.candidate(tx, fresh, task.taskChannelSid, ignore);
      if (!isEligible(candidate, this.taskDocument(task), this.step(ws, placed.target))) {
        // Out of capacity for every task of this channel; others may still fit.
        continue;
      }
      await this.reserve(tx, ws, task, fresh, queue ?? null);
      reserved = true;
    }
    return reserved;
  }

  /** Routes again the waiting tasks of a queue whose members changed, in the queue's order. */
  async queueChanged(tx: StoreTx, ws: Workspace, queue: TaskQueue): Promise<void> {
    const tasks = await tx.tasksInQueues([queue.sid], ['pending'], REROUTE_LIMIT);
    tasks.sort((a, b) =>
      taskComparator(queue.taskOrder)(
        { sid: a.sid, priority: a.priority, orderTime: a.virtualStartMs },
        { sid: b.sid, priority: b.priority, orderTime: b.virtualStartMs },
      ),
    );
    for (const t of tasks) {
      const fresh = await tx.getTask(ws.sid, t.sid);
      if (fresh?.assignmentStatus === 'pending') await this.route(tx, ws, fresh);
    }
  }

  /** After an activity's rename: the queues whose members may have changed route their tasks again. */
  async queuesReadingWorkerFieldsChanged(tx: StoreTx, ws: Workspace): Promise<void> {
    if (!(await tx.hasWaitingTasks(ws.sid))) return;
    for (const q of await tx.queueExpressions(ws.sid, true)) {
      const queue = await tx.getTaskQueue(ws.sid, q.sid);
      if (queue) await this.queueChanged(tx, ws, queue);
    }
  }

  /** ReEvaluateTasks: the workflow's pending tasks through its (new) configuration, from the start. */
  async reEvaluateWorkflow(tx: StoreTx, ws: Workspace, workflowSid: string): Promise<void> {
    const tasks = await tx.tasksOfWorkflow(workflowSid, ['pending'], REROUTE_LIMIT);
    for (const t of tasks) {
      const fresh = await tx.getTask(ws.sid, t.sid);
      if (fresh?.assignmentStatus === 'pending') await this.route(tx, ws, fresh, { reset: true });
    }
  }

  // ---- reservations answered

  /**
   * Ends reservations that held capacity (pending, accepted or wrapping) in `status`, with their
   * events and timers, and gives back their capacity. Returns the workers freed.
   */
  private async endReservations(
    tx: StoreTx,
    task: Task,
    reservations: readonly Reservation[],
    status: ReservationStatus,
    eventType: string,
  ): Promise<string[]> {
    const now = this.nowDate();
    const freed: string[] = [];
    for (const r of reservations) {
      await tx.updateReservation(r.sid, { status }, now);
      await this.timers.cancel(tx, TimerKind.reservation, r.sid);
      const wasPending = r.reservationStatus === 'pending';
      // A deleted worker's load went with it.
      if (await tx.getWorker(r.workspaceSid, r.workerSid)) {
        await tx.addWorkerLoad(r.workspaceSid, r.workerSid, r.taskChannelSid, {
          ...(wasPending ? { reserved: -1 } : { assigned: -1 }),
          freedMs: this.nowMs(),
        });
      }
      if (eventType !== '') await this.recordReservation(tx, eventType, changed(r, status, now), task);
      freed.push(r.workerSid);
    }
    return freed;
  }

  private async offerAll(
    tx: StoreTx,
    ws: Workspace,
    workerSids: Iterable<string>,
    options: { stopAt?: string } = {},
  ): Promise<void> {
    for (const sid of new Set(workerSids)) await this.offerWorker(tx, ws, sid, options);
  }

  async accept(tx: StoreTx, ws: Workspace, reservation: Reservation, workerActivitySid: string | undefined) {
    const now = this.nowDate();
    let task = await this.requireTask(tx, ws.sid, reservation.taskSid);
    await tx.updateReservation(reservation.sid, { status: 'accepted' }, now);
    await this.timers.cancel(tx, TimerKind.reservation, reservation.sid);
    await tx.addWorkerLoad(ws.sid, reservation.workerSid, reservation.taskChannelSid, {
      reserved: -1,
      assigned: 1,
    });
    await tx.updateTask(task.sid, { assignmentStatus: 'assigned' }, now);
    await this.timers.cancel(tx, TimerKind.step, task.sid);
    await this.timers.cancel(tx, TimerKind.ttl, task.sid);
    task = await this.requireTask(tx, ws.sid, task.sid);
    await this.recordReservation(tx, 'reservation.accepted', changed(reservation, 'accepted', now), task);
    const others = (await tx.reservationsOf({ taskSid: task.sid }, ['pending'])).filter(
      (r) => r.sid !== reservation.sid,
    );
    const freed = await this.endReservations(tx, task, others, 'rescinded', 'reservation.rescinded');
    const queue = task.taskQueueSid === null ? null : await tx.getTaskQueue(ws.sid, task.taskQueueSid);
    if (workerActivitySid !== undefined) {
      await this.moveWorker(tx, reservation.workerSid, ws.sid, workerActivitySid);
    } else if (!ws.multiTaskEnabled && queue?.assignmentActivitySid) {
      await this.moveWorker(tx, reservation.workerSid, ws.sid, queue.assignmentActivitySid);
    }
    await this.offerAll(tx, ws, [...freed, reservation.workerSid]);
  }

  /** Rejected by the worker, or timed out: the task routes again (to other workers). */
  async decline(
    tx: StoreTx,
    ws: Workspace,
    reservation: Reservation,
    how: 'rejected' | 'timeout' | 'canceled',
    workerActivitySid: string | undefined,
  ): Promise<void> {
    let task = await this.requireTask(tx, ws.sid, reservation.taskSid);
    await this.endReservations(tx, task, [reservation], how, `reservation.${how}`);
    const activity = how === 'timeout' ? ws.timeoutActivitySid : workerActivitySid;
    if (activity !== undefined) await this.moveWorker(tx, reservation.workerSid, ws.sid, activity);
    const stillPending = await tx.reservationsOf({ taskSid: task.sid }, ['pending']);
    if (stillPending.length === 0 && task.assignmentStatus === 'reserved') {
      await tx.updateTask(task.sid, { assignmentStatus: 'pending' }, this.nowDate());
      task = await this.requireTask(tx, ws.sid, task.sid);
      await this.route(tx, ws, task);
    } else if (how !== 'canceled' && task.assignmentStatus === 'reserved' && task.taskQueueSid !== null) {
      // Still reserved by others (max_reserved_workers > 1): the freed place goes to the next worker.
      const placed = await this.placement(tx, task, {
        filterIndex: task.filterIndex,
        stepIndex: task.stepIndex,
      });
      if (placed.queueSid === task.taskQueueSid && placed.route.kind !== 'timed-out') {
        await this.offerTask(tx, ws, task, placed.queueSid, placed.target);
      }
    }
    if (how !== 'canceled') await this.offerWorker(tx, ws, reservation.workerSid);
  }

  /** A worker about to be deleted: its pending reservations are canceled and their tasks route again. */
  async workerDeleted(tx: StoreTx, ws: Workspace, workerSid: string): Promise<void> {
    for (const r of await tx.reservationsOf({ workerSid }, ['pending'])) {
      await this.decline(tx, ws, r, 'canceled', undefined);
    }
  }

  /** Wrapping: the task and its accepted reservation. */
  async wrap(tx: StoreTx, ws: Workspace, given: Task): Promise<void> {
    const now = this.nowDate();
    await tx.updateTask(given.sid, { assignmentStatus: 'wrapping' }, now);
    const task = await this.requireTask(tx, ws.sid, given.sid);
    await this.recordTask(tx, 'task.wrapup', task);
    for (const r of await tx.reservationsOf({ taskSid: task.sid }, ['accepted'])) {
      await tx.updateReservation(r.sid, { status: 'wrapping' }, now);
      await this.recordReservation(tx, 'reservation.wrapup', changed(r, 'wrapping', now), task);
    }
  }

  /** Completed: the task and its accepted (or wrapping) reservation; the worker's capacity comes back. */
  async complete(tx: StoreTx, ws: Workspace, given: Task, reason: string | undefined): Promise<void> {
    await tx.updateTask(
      given.sid,
      { assignmentStatus: 'completed', reason: reason ?? REASON_RESERVATION_COMPLETED },
      this.nowDate(),
    );
    const task = await this.requireTask(tx, ws.sid, given.sid);
    await this.recordTask(tx, 'task.completed', task);
    const held = await tx.reservationsOf({ taskSid: task.sid }, ['accepted', 'wrapping']);
    const freed = await this.endReservations(tx, task, held, 'completed', 'reservation.completed');
    await this.offerAll(tx, ws, freed);
  }

  /** Canceled before assignment (API, TTL, workflow timeout): pending reservations are canceled. */
  async cancelTask(tx: StoreTx, ws: Workspace, given: Task, reason: string, _cause: string): Promise<void> {
    const now = this.nowDate();
    await tx.updateTask(given.sid, { assignmentStatus: 'canceled', reason }, now);
    const task = await this.requireTask(tx, ws.sid, given.sid);
    for (const kind of [TimerKind.ttl, TimerKind.step]) await this.timers.cancel(tx, kind, task.sid);
    const pending = await tx.reservationsOf({ taskSid: task.sid }, ['pending']);
    const freed = await this.endReservations(tx, task, pending, 'canceled', 'reservation.canceled');
    await this.recordTask(tx, 'task.canceled', task);
    await this.offerAll(tx, ws, freed);
  }

  /** Deleted in any state: what it held is given back, its reservations go with it. */
  async deleteTask(tx: StoreTx, ws: Workspace, task: Task): Promise<void> {
    const held = await tx.reservationsOf({ taskSid: task.sid }, ['pending', 'accepted', 'wrapping']);
    const freed = await this.endReservations(tx, task, held, 'canceled', '');
    for (const kind of [TimerKind.ttl, TimerKind.step]) await this.timers.cancel(tx, kind, task.sid);
    await tx.deleteTask(task.sid);
    await this.recordTask(tx, 'task.deleted', task);
    await this.offerAll(tx, ws, freed);
  }

  /** Worker update `RejectPendingReservations`: each of its pending reservations is rejected; says whether any was. */
  async rejectPendingOf(tx: StoreTx, ws: Workspace, workerSid: string): Promise<boolean> {
    let rejected = false;
    for (const r of await tx.reservationsOf({ workerSid }, ['pending'])) {
      const fresh = await tx.getReservation(ws.sid, r.sid);
      if (fresh?.reservationStatus === 'pending') {
        await this.decline(tx, ws, fresh, 'rejected', undefined);
        rejected = true;
      }
    }
    return rejected;
  }

  // ---- timers

  private async onTaskTimer(tx: StoreTx, workspaceSid: string, taskSid: string, kind: 'ttl' | 'step') {
    await tx.holdRouting(workspaceSid);
    const task = await tx.getTask(workspaceSid, taskSid);
    if (!task || (task.assignmentStatus !== 'pending' && task.assignmentStatus !== 'reserved')) return;
    const ws = await tx.getWorkspace(task.accountSid, workspaceSid);
    if (!ws) return;
    if (kind === 'ttl') {
      await this.cancelTask(tx, ws, task, REASON_TTL, 'ttl');
      return;
    }
    // The step ended: its pending reservations are canceled, and the task moves on.
    const pending = await tx.reservationsOf({ taskSid: task.sid }, ['pending']);
    const freed = await this.endReservations(tx, task, pending, 'canceled', 'reservation.canceled');
    if (task.taskQueueSid !== null) await this.recordQueue(tx, 'task-queue.timeout', task, task.taskQueueSid);
    await tx.updateTask(task.sid, { assignmentStatus: 'pending' }, this.nowDate());
    const fresh = await this.requireTask(tx, ws.sid, task.sid);
    // Once the task is in its next step, the freed workers are offered the waiting tasks of their
    // queues that come before it (best first); then the moved task takes its best free worker,
    // the freed ones included; then the freed workers still free are offered the rest. So each
    // waiting task, in order, gets its best eligible worker, as if routing had run from scratch.
    await this.route(tx, ws, fresh, {
      entering: true,
      beforeOffer: () => this.offerAll(tx, ws, freed, { stopAt: task.sid }),
    });
    await this.offerAll(tx, ws, freed);
  }

  private async onReservationTimer(tx: StoreTx, workspaceSid: string, reservationSid: string) {
    await tx.holdRouting(workspaceSid);
    const reservation = await tx.getReservation(workspaceSid, reservationSid);
    if (!reservation || reservation.reservationStatus !== 'pending') return;
    const ws = await tx.getWorkspace(reservation.accountSid, workspaceSid);
    if (!ws) return;
    await this.decline(tx, ws, reservation, 'timeout', undefined);
  }
}
