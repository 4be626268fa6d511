import { DEFAULT_WORKER_CHANNEL } from '../domain/defaults.js';
import { InvalidParameterError } from '../domain/errors.js';
import type {
  Reservation,
  ReservationStatus,
  Task,
  TaskStatus,
  Worker,
  WorkerLoad,
} from '../domain/types.js';
import type {
  IdleCursor,
  IdleQueueMember,
  NewReservation,
  NewTask,
  Page,
  PageQuery,
  ReservationFilter,
  StoreTx,
  TaskFilter,
  TaskPatch,
} from '../services/ports/store.js';
import { sql, type Kysely } from 'kysely';
import { compiledOnce, CrudQueries, type rowQueries } from './crud.js';
import type { Database } from './schema.js';
import { checkPageOffset, MAX_PAGE_OFFSET } from './paging.js';
import { nameKey, toWorker, type Row } from './rows.js';

const bool = (v: unknown): boolean => v === true || v === 1;
const date = (v: unknown): Date => (v instanceof Date ? v : new Date(v as string));
const num = (v: unknown): number => Number(v);

export function toTask(r: Row): Task {
  return {
    sid: r.sid as string,
    accountSid: r.account_sid as string,
    workspaceSid: r.workspace_sid as string,
    attributes: r.attributes as string,
    assignmentStatus: r.assignment_status as TaskStatus,
    requestedPriority: num(r.requested_priority),
    priority: num(r.priority),
    reason: (r.reason as string | null) ?? null,
    timeout: num(r.timeout),
    workflowSid: (r.workflow_sid as string | null) ?? null,
    workflowFriendlyName: (r.workflow_friendly_name as string | null) ?? null,
    taskQueueSid: (r.task_queue_sid as string | null) ?? null,
    taskQueueFriendlyName: (r.task_queue_friendly_name as string | null) ?? null,
    taskChannelSid: r.task_channel_sid as string,
    taskChannelUniqueName: (r.task_channel_unique_name as string | null) ?? '',
    routingTarget: (r.routing_target as string | null) ?? null,
    ignoreCapacity:
      r.ignore_capacity === null || r.ignore_capacity === undefined ? null : bool(r.ignore_capacity),
    createdMs: num(r.created_ms),
    virtualStartMs: num(r.virtual_start_ms),
    queueEnteredMs:
      r.queue_entered_ms === null || r.queue_entered_ms === undefined ? null : num(r.queue_entered_ms),
    filterIndex: num(r.filter_index),
    stepIndex: num(r.step_index),
    version: num(r.version),
    dateCreated: date(r.date_created),
    dateUpdated: date(r.date_updated),
  };
}

export function toReservation(r: Row): Reservation {
  return {
    sid: r.sid as string,
    accountSid: r.account_sid as string,
    workspaceSid: r.workspace_sid as string,
    taskSid: r.task_sid as string,
    workerSid: r.worker_sid as string,
    workerName: r.worker_name as string,
    taskChannelSid: r.task_channel_sid as string,
    reservationStatus: r.reservation_status as ReservationStatus,
    instruction: (r.instruction as string | null) ?? null,
    version: num(r.version),
    dateCreated: date(r.date_created),
    dateUpdated: date(r.date_updated),
  };
}

/** A member's channel as read beside it: only channels that deviate from the default have a row (migration 008). */
function channelOf(r: Row): { available: boolean; capacity: number } {
  return r.channel_capacity === null || r.channel_capacity === undefined
    ? { ...DEFAULT_WORKER_CHANNEL }
    : { available: bool(r.channel_available), capacity: num(r.channel_capacity) };
}

function toWorkerLoad(r: Row): WorkerLoad {
  return {
    workerSid: r.worker_sid as string,
    taskChannelSid: r.task_channel_sid as string,
    reserved: num(r.reserved),
    assigned: num(r.assigned),
    freedMs: num(r.freed_ms),
  };
}

/** Worker SIDs per statement when loads are read for many workers. */
const LOAD_CHUNK = 500;

/** Ordered task lists page by offset: `PO` and the offset of the page's first row. */
const ORDERED_TOKEN = /^PO([0-9a-z]{1,8})$/;

/** A task's row with the names its resource shows. */
function taskSelect(db: Kysely<Database>) {
  return db
    .selectFrom('tasks as t')
    .selectAll('t')
    .select((eb) => [
      eb
        .selectFrom('workflows')
        .select('friendly_name')
        .whereRef('sid', '=', 't.workflow_sid')
        .as('workflow_friendly_name'),
      eb
        .selectFrom('task_queues')
        .select('friendly_name')
        .whereRef('sid', '=', 't.task_queue_sid')
        .as('task_queue_friendly_name'),
      eb
        .selectFrom('task_channels')
        .select('unique_name')
        .whereRef('sid', '=', 't.task_channel_sid')
        .as('task_channel_unique_name'),
    ]);
}

/** Members read by the first page of an idle-ordered walk (most offers take the first eligible). */
const IDLE_FIRST_PAGE = 16;
/** Members read by each further page. */
const IDLE_PAGE = 256;

/**
 * A queue's available members, longest idle first then by SID, along routing_candidates'
 * (queue, available, idle, SID) index (migration 016), each with its channel for the task channel.
 */
function idleMembersOn(
  db: Kysely<Database>,
  select: ReturnType<typeof rowQueries>,
  queueSid: string,
  taskChannelSid: string,
) {
  return select.worker
    .innerJoin('routing_candidates as c', 'c.worker_id', 'k.id')
    .innerJoin('task_queues as q', 'q.id', 'c.queue_id')
    .leftJoin('worker_channels as wc', (j) =>
      j.onRef('wc.worker_sid', '=', 'k.sid').on('wc.task_channel_sid', '=', taskChannelSid),
    )
    .select(['wc.available as channel_available', 'wc.capacity as channel_capacity', 'c.idle_ms'])
    .where('q.sid', '=', queueSid)
    .where('c.available', '=', true)
    .orderBy('c.idle_ms')
    .orderBy('c.worker_sid');
}

/** Routing's hot reads, compiled once per builder: only their parameters change per call. */
function routingLookups(db: Kysely<Database>, select: ReturnType<typeof rowQueries>) {
  const reservationsBy = new Map<string, (sid: string) => ReturnType<ReturnType<typeof compiledOnce>>>();
  return {
    task: compiledOnce((workspaceSid, sid) =>
      taskSelect(db).where('t.sid', '=', sid).where('t.workspace_sid', '=', workspaceSid),
    ),
    workflowSids: compiledOnce((workspaceSid) =>
      db
        .selectFrom('workflows')
        .select('sid')
        .where('workspace_sid', '=', workspaceSid)
        .orderBy('id')
        .limit(2),
    ),
    hasWaiting: compiledOnce((workspaceSid) =>
      db
        .selectFrom('tasks')
        .select('id')
        .where('workspace_sid', '=', workspaceSid)
        .where('assignment_status', '=', 'pending')
        .limit(1),
    ),
    hasMultiReserved: compiledOnce((workspaceSid) =>
      db
        .selectFrom('tasks as t')
        .innerJoin('task_queues as q', 'q.sid', 't.task_queue_sid')
        .select('t.id')
        .where('t.workspace_sid', '=', workspaceSid)
        .where('t.assignment_status', '=', 'reserved')
        .where('q.max_reserved_workers', '>', 1)
        .limit(1),
    ),
    availableMembers: compiledOnce((queueSid) =>
      select.worker
        .innerJoin('task_queue_members as m', 'm.worker_id', 'k.id')
        .innerJoin('task_queues as q', 'q.id', 'm.queue_id')
        .where('q.sid', '=', queueSid)
        .where('a.available', '=', true)
        // The membership key's order (queue_id, worker_id): no sort step.
        .orderBy('m.worker_id'),
    ),
    availableMembersOn: compiledOnce((queueSid, taskChannelSid) =>
      select.worker
        .innerJoin('task_queue_members as m', 'm.worker_id', 'k.id')
        .innerJoin('task_queues as q', 'q.id', 'm.queue_id')
        .leftJoin('worker_channels as wc', (j) =>
          j.onRef('wc.worker_sid', '=', 'k.sid').on('wc.task_channel_sid', '=', taskChannelSid),
        )
        .select(['wc.available as channel_available', 'wc.capacity as channel_capacity'])
        .where('q.sid', '=', queueSid)
        .where('a.available', '=', true)
        // The membership key's order (queue_id, worker_id): no sort step.
        .orderBy('m.worker_id'),
    ),
    idleMembersFirst: compiledOnce((queueSid, taskChannelSid) =>
      idleMembersOn(db, select, queueSid, taskChannelSid).limit(IDLE_FIRST_PAGE),
    ),
    idleMembersAfter: compiledOnce((queueSid, taskChannelSid, idleMs, workerSid) =>
      idleMembersOn(db, select, queueSid, taskChannelSid)
        .where(sql<boolean>`(c.idle_ms, c.worker_sid) > (cast(${idleMs} as bigint), ${workerSid})`)
        .limit(IDLE_PAGE),
    ),
    workerLoads: compiledOnce((workerSid) =>
      db.selectFrom('worker_loads').selectAll().where('worker_sid', '=', workerSid),
    ),
    /** Reservations of a task or a worker in some statuses, one compiled statement per combination. */
    reservations(by: 'task_sid' | 'worker_sid', statuses: readonly ReservationStatus[]) {
      const key = `${by} ${statuses.join(' ')}`;
      let q = reservationsBy.get(key);
      if (!q) {
        q = compiledOnce((sid) =>
          db
            .selectFrom('reservations')
            .selectAll()
            .where('reservation_status', 'in', statuses)
            .where(by, '=', sid)
            .orderBy('id'),
        );
        if (reservationsBy.size < 100) reservationsBy.set(key, q);
      }
      return q;
    },
  };
}

const compiledRouting = new WeakMap<Kysely<Database>, ReturnType<typeof routingLookups>>();

/**
 * Tasks, reservations and routing's worker loads, written once for both dialects (kept apart
 * from crud.ts). The stores extend this class, which completes the StoreTx.
 */
export abstract class RoutingQueries extends CrudQueries implements StoreTx {
  /** Routing's hot reads, built and compiled once per builder (see `compiledOnce`). */
  private get routing(): ReturnType<typeof routingLookups> {
    let known = compiledRouting.get(this.db);
    if (!known) compiledRouting.set(this.db, (known = routingLookups(this.db, this.select)));
    return known;
  }

  private taskSelect() {
    return taskSelect(this.db);
  }

  async getTask(workspaceSid: string, sid: string): Promise<Task | null> {
    const [r] = await this.rows(this.routing.task(workspaceSid, sid));
    return r ? toTask(r) : null;
  }

  async firstWorkflowSids(workspaceSid: string): Promise<string[]> {
    return (await this.rows(this.routing.workflowSids(workspaceSid))).map((r) => r.sid as string);
  }

  async hasWaitingTasks(workspaceSid: string): Promise<boolean> {
    return (await this.rows(this.routing.hasWaiting(workspaceSid))).length > 0;
  }

  async hasMultiReservedTasks(workspaceSid: string): Promise<boolean> {
    return (await this.rows(this.routing.hasMultiReserved(workspaceSid))).length > 0;
  }

  async listTasks(workspaceSid: string, filter: TaskFilter, query: PageQuery): Promise<Page<Task>> {
    let q = this.taskSelect().where('t.workspace_sid', '=', workspaceSid);
    if (filter.assignmentStatus !== undefined && filter.assignmentStatus.length > 0)
      q = q.where('t.assignment_status', 'in', filter.assignmentStatus);
    if (filter.workflowSid !== undefined) q = q.where('t.workflow_sid', '=', filter.workflowSid);
    if (filter.workflowName !== undefined) {
      const key = nameKey(filter.workflowName);
      q = q.where('t.workflow_sid', 'in', (eb) =>
        eb
          .selectFrom('workflows')
          .select('sid')
          .where('workspace_sid', '=', workspaceSid)
          .where('name_key', '=', key),
      );
    }
    if (filter.taskQueueSid !== undefined) q = q.where('t.task_queue_sid', '=', filter.taskQueueSid);
    if (filter.taskQueueName !== undefined) {
      const key = nameKey(filter.taskQueueName);
      q = q.where('t.task_queue_sid', 'in', (eb) =>
        eb
          .selectFrom('task_queues')
          .select('sid')
          .where('workspace_sid', '=', workspaceSid)
          .where('name_key', '=', key),
      );
    }
    if (filter.routingTarget !== undefined) q = q.where('t.routing_target', '=', filter.routingTarget);
    if (filter.priority !== undefined) q = q.where('t.priority', '=', filter.priority);
    const ordering = filter.ordering ?? [];
    if (ordering.length === 0) {
      return filter.matches
        ? this.scanPage(q, 't.id', query, toTask, filter.matches)
        : this.page(q, 't.id', query, toTask);
    }
    // Another order than creation: pages by offset (bounded like Page), tokens carry it.
    let offset: number;
    if (query.pageToken !== undefined && query.pageToken !== '') {
      const m = ORDERED_TOKEN.exec(query.pageToken);
      offset = m ? parseInt(m[1]!, 36) : NaN;
      if (!m || !Number.isSafeInteger(offset) || offset > MAX_PAGE_OFFSET)
        throw new InvalidParameterError('PageToken', `Invalid PageToken: ${query.pageToken.slice(0, 64)}`);
    } else {
      offset = checkPageOffset(query);
    }
    const column = {
      DateCreated: 't.created_ms',
      Priority: 't.priority',
      VirtualStartTime: 't.virtual_start_ms',
    } as const;
    for (const o of ordering) q = q.orderBy(column[o.key], o.direction);
    q = q.orderBy('t.id', 'asc');
    const kept: Task[] = [];
    let skip = offset;
    // Filtered in JavaScript when EvaluateTaskAttributes is given: read in chunks until the page is full.
    for (let at = 0; kept.length <= query.pageSize && at <= MAX_PAGE_OFFSET * 2;) {
      const chunk = filter.matches ? 500 : skip + query.pageSize + 1;
      const rows = await this.rows(q.limit(chunk).offset(filter.matches ? at : 0));
      for (const r of rows) {
        const task = toTask(r);
        if (filter.matches && !filter.matches(task)) continue;
        if (skip > 0) skip--;
        else kept.push(task);
      }
      if (!filter.matches || rows.length < chunk) break;
      at += chunk;
    }
    const hasMore = kept.length > query.pageSize;
    const items = kept.slice(0, query.pageSize);
    return {
      items,
      nextPageToken: hasMore ? `PO${(offset + query.pageSize).toString(36)}` : null,
      previousPageToken: offset > 0 ? `PO${Math.max(0, offset - query.pageSize).toString(36)}` : null,
    };
  }

  async tasksInQueues(
    queueSids: readonly string[],
    statuses: readonly TaskStatus[],
    limit: number,
  ): Promise<Task[]> {
    if (queueSids.length === 0 || statuses.length === 0) return [];
    const rows = await this.rows(
      this.taskSelect()
        .where('t.task_queue_sid', 'in', queueSids)
        .where('t.assignment_status', 'in', statuses)
        .orderBy('t.id')
        .limit(limit),
    );
    return rows.map(toTask);
  }

  async tasksOfWorkflow(
    workflowSid: string,
    statuses: readonly TaskStatus[],
    limit: number,
  ): Promise<Task[]> {
    const rows = await this.rows(
      this.taskSelect()
        .where('t.workflow_sid', '=', workflowSid)
        .where('t.assignment_status', 'in', statuses)
        .orderBy('t.id')
        .limit(limit),
    );
    return rows.map(toTask);
  }

  async getReservation(workspaceSid: string, sid: string): Promise<Reservation | null> {
    const [r] = await this.rows(
      this.db
        .selectFrom('reservations')
        .selectAll()
        .where('sid', '=', sid)
        .where('workspace_sid', '=', workspaceSid),
    );
    return r ? toReservation(r) : null;
  }

  listReservations(
    workspaceSid: string,
    filter: ReservationFilter,
    query: PageQuery,
  ): Promise<Page<Reservation>> {
    let q = this.db
      .selectFrom('reservations as r')
      .selectAll('r')
      .where('r.workspace_sid', '=', workspaceSid);
    if (filter.taskSid !== undefined) q = q.where('r.task_sid', '=', filter.taskSid);
    if (filter.workerSid !== undefined) q = q.where('r.worker_sid', '=', filter.workerSid);
    if (filter.status !== undefined) q = q.where('r.reservation_status', '=', filter.status);
    return this.page(q, 'r.id', query, toReservation);
  }

  async reservationsOf(
    of: { taskSid: string } | { workerSid: string },
    statuses: readonly ReservationStatus[],
  ): Promise<Reservation[]> {
    if (statuses.length === 0) return [];
    const q =
      'taskSid' in of
        ? this.routing.reservations('task_sid', statuses)(of.taskSid)
        : this.routing.reservations('worker_sid', statuses)(of.workerSid);
    return (await this.rows(q)).map(toReservation);
  }

  async workerLoads(workerSid: string): Promise<WorkerLoad[]> {
    return (await this.rows(this.routing.workerLoads(workerSid))).map(toWorkerLoad);
  }

  async workerLoadsOf(workerSids: readonly string[]): Promise<WorkerLoad[]> {
    const out: WorkerLoad[] = [];
    for (let i = 0; i < workerSids.length; i += LOAD_CHUNK) {
      const chunk = workerSids.slice(i, i + LOAD_CHUNK);
      const rows = await this.rows(
        this.db.selectFrom('worker_loads').selectAll().where('worker_sid', 'in', chunk),
      );
      out.push(...rows.map(toWorkerLoad));
    }
    return out;
  }

  async availableQueueMembers(queueSid: string): Promise<Worker[]> {
    return (await this.rows(this.routing.availableMembers(queueSid))).map(toWorker);
  }

  async idleQueueMembersOn(
    queueSid: string,
    taskChannelSid: string,
    after: IdleCursor | null,
  ): Promise<{ members: IdleQueueMember[]; next: IdleCursor | null }> {
    const q =
      after === null
        ? this.routing.idleMembersFirst(queueSid, taskChannelSid)
        : this.routing.idleMembersAfter(queueSid, taskChannelSid, String(after.idleMs), after.workerSid);
    const rows = await this.rows(q);
    const members = rows.map((r) => ({
      worker: toWorker(r),
      channel: channelOf(r),
      idleMs: num(r.idle_ms),
    }));
    const last = members.at(-1);
    const full = rows.length === (after === null ? IDLE_FIRST_PAGE : IDLE_PAGE);
    return {
      members,
      next: full && last ? { idleMs: last.idleMs, workerSid: last.worker.sid } : null,
    };
  }

  async availableQueueMembersOn(
    queueSid: string,
    taskChannelSid: string,
  ): Promise<{ worker: Worker; channel: { available: boolean; capacity: number } | null }[]> {
    const rows = await this.rows(this.routing.availableMembersOn(queueSid, taskChannelSid));
    return rows.map((r) => ({ worker: toWorker(r), channel: channelOf(r) }));
  }

  async queueMemberActivities(queueSid: string): Promise<{ activitySid: string; available: boolean }[]> {
    const rows = await this.rows(
      this.db
        .selectFrom('task_queue_members as m')
        .innerJoin('task_queues as q', 'q.id', 'm.queue_id')
        .innerJoin('workers as k', 'k.id', 'm.worker_id')
        .innerJoin('activities as a', 'a.sid', 'k.activity_sid')
        .select(['k.activity_sid', 'a.available'])
        .where('q.sid', '=', queueSid),
    );
    return rows.map((r) => ({ activitySid: r.activity_sid as string, available: bool(r.available) }));
  }

  async insertTask(t: NewTask): Promise<void> {
    await this.run(
      this.db.insertInto('tasks').values({
        sid: t.sid,
        account_sid: t.accountSid,
        workspace_sid: t.workspaceSid,
        attributes: t.attributes,
        assignment_status: 'pending',
        requested_priority: t.requestedPriority,
        priority: t.priority,
        reason: null,
        timeout: t.timeout,
        workflow_sid: t.workflowSid,
        task_queue_sid: t.taskQueueSid,
        task_channel_sid: t.taskChannelSid,
        routing_target: t.routingTarget,
        ignore_capacity: t.ignoreCapacity,
        created_ms: t.createdMs,
        virtual_start_ms: t.virtualStartMs,
        queue_entered_ms: t.queueEnteredMs,
        filter_index: 0,
        step_index: 0,
        version: 0,
        date_created: t.now,
        date_updated: t.now,
      }),
    );
  }

  async updateTask(sid: string, p: TaskPatch, now: Date): Promise<void> {
    await this.run(
      this.db
        .updateTable('tasks')
        .set((eb) => ({
          attributes: p.attributes,
          assignment_status: p.assignmentStatus,
          requested_priority: p.requestedPriority,
          priority: p.priority,
          reason: p.reason,
          task_queue_sid: p.taskQueueSid,
          task_channel_sid: p.taskChannelSid,
          virtual_start_ms: p.virtualStartMs,
          queue_entered_ms: p.queueEnteredMs,
          filter_index: p.filterIndex,
          step_index: p.stepIndex,
          version: eb('version', '+', 1),
          date_updated: now,
        }))
        .where('sid', '=', sid),
    );
  }

  async deleteTask(sid: string): Promise<void> {
    await this.run(this.db.deleteFrom('reservations').where('task_sid', '=', sid));
    await this.run(this.db.deleteFrom('tasks').where('sid', '=', sid));
  }

  async insertReservation(r: NewReservation): Promise<void> {
    await this.run(
      this.db.insertInto('reservations').values({
        sid: r.sid,
        account_sid: r.accountSid,
        workspace_sid: r.workspaceSid,
        task_sid: r.taskSid,
        worker_sid: r.workerSid,
        worker_name: r.workerName,
        task_channel_sid: r.taskChannelSid,
        reservation_status: 'pending',
        instruction: null,
        version: 0,
        date_created: r.now,
        date_updated: r.now,
      }),
    );
  }

  async updateReservation(
    sid: string,
    p: { status?: ReservationStatus; instruction?: string },
    now: Date,
  ): Promise<void> {
    await this.run(
      this.db
        .updateTable('reservations')
        .set((eb) => ({
          reservation_status: p.status,
          instruction: p.instruction,
          version: eb('version', '+', 1),
          date_updated: now,
        }))
        .where('sid', '=', sid),
    );
  }

  async addWorkerLoad(
    workspaceSid: string,
    workerSid: string,
    taskChannelSid: string,
    delta: { reserved?: number; assigned?: number; freedMs?: number },
  ): Promise<void> {
    const reserved = delta.reserved ?? 0;
    const assigned = delta.assigned ?? 0;
    await this.run(
      this.db
        .insertInto('worker_loads')
        .values({
          worker_sid: workerSid,
          task_channel_sid: taskChannelSid,
          workspace_sid: workspaceSid,
          reserved,
          assigned,
          freed_ms: delta.freedMs ?? 0,
        })
        .onConflict((oc) =>
          oc.columns(['worker_sid', 'task_channel_sid']).doUpdateSet((eb) => ({
            reserved: eb('worker_loads.reserved', '+', reserved),
            assigned: eb('worker_loads.assigned', '+', assigned),
            ...(delta.freedMs === undefined ? {} : { freed_ms: delta.freedMs }),
          })),
        ),
    );
  }

  async holdRouting(workspaceSid: string): Promise<void> {
    // A lock of its own, apart from the workspace hold that membership and limits take.
    await this.lockWorkspace(`routing|${workspaceSid}`, 'exclusive');
  }

  override async deleteWorker(sid: string): Promise<void> {
    await this.run(this.db.deleteFrom('worker_loads').where('worker_sid', '=', sid));
    await super.deleteWorker(sid);
  }

  override async deleteWorkspace(sid: string): Promise<void> {
    await this.run(this.db.deleteFrom('reservations').where('workspace_sid', '=', sid));
    await this.run(this.db.deleteFrom('tasks').where('workspace_sid', '=', sid));
    await this.run(this.db.deleteFrom('worker_loads').where('workspace_sid', '=', sid));
    await super.deleteWorkspace(sid);
  }
}
