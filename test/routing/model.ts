/**
 * A small reference model of TaskRouter routing, written from the documented semantics
 * (/work/shared/reference/routing.md, docs/routing.md), not from Roster's engine: the model
 * test drives Roster and this model with the same steps and compares them after every one.
 *
 * It covers what the model test's workspace uses: a multitasking workspace, workflow filters
 * with steps (queue, cumulative timeout by task age, priority override, `order_by` on a numeric
 * worker attribute, then longest idle first), known-worker steps (by SID or friendly name),
 * `skip_if` on the queue's available members, worker attribute updates that move workers in and
 * out of queues, queues whose membership is a predicate on the worker, one reservation per
 * task at a time (`max_reserved_workers` 1), reservation timeouts, task TTLs and workflow
 * timeouts. Time is in ms.
 */

export type ActivityName = 'Offline' | 'Available' | 'Unavailable';
export type Channel = 'voice' | 'chat';
export type TaskStatus = 'pending' | 'reserved' | 'assigned' | 'wrapping' | 'completed' | 'canceled';
export type ReservationStatus =
  'pending' | 'accepted' | 'rejected' | 'timeout' | 'canceled' | 'rescinded' | 'wrapping' | 'completed';

export interface ModelWorker {
  sid: string;
  name: string;
  level: number;
  skills: string[];
  activity: ActivityName;
  capacity: Record<Channel, number>;
  /** When its activity last changed (whole seconds, as Roster keeps date_status_changed). */
  statusChangedAt?: number;
  /** When it last let go of a task (a reservation of its ended), ms. */
  freedAt?: number;
}

export interface ModelStep {
  queue: string;
  /** Seconds; the step ends when the task's age reaches the sum of this and the earlier steps' timeouts. */
  timeout?: number;
  priority?: number;
  /** order_by `worker.level DESC` or `ASC` (then longest idle first); `idle`: no order_by, longest idle first. */
  order: 'asc' | 'desc' | 'idle';
  /** known_worker_sid `task.agent` or known_worker_friendly_name `task.agent_name`: only that worker. */
  known?: 'sid' | 'name';
  /** skip_if `workers.available == 0`: skipped on entry when no member of the queue is in an available activity. */
  skipIfNoneAvailable?: boolean;
}

export interface ModelFilter {
  matches: (attributes: Record<string, unknown>) => boolean;
  steps: ModelStep[];
}

export interface ModelConfig {
  filters: ModelFilter[];
  /** Queue membership: which workers each queue targets. */
  queues: Record<string, (w: ModelWorker) => boolean>;
  reservationTimeoutS: number;
  /** Where a worker goes when its reservation times out (the workspace's timeout activity). */
  timeoutActivity: ActivityName;
  /** What a pending reservation becomes when its task moves to the next step. */
  movedReservationStatus: ReservationStatus;
  /** The workspace's multi_task_enabled (default true); single-tasking: a worker holds one task at most. */
  multitasking?: boolean;
  /** Single-tasking: the activities a queue moves a worker to when reserved and when assigned. */
  queueActivities?: Record<string, { reservation?: ActivityName; assignment?: ActivityName }>;
  /** Queues' max_reserved_workers above 1 (others: 1). */
  maxReserved?: Record<string, number>;
}

export interface ModelTask {
  sid: string;
  attributes: Record<string, unknown>;
  priority: number;
  channel: Channel;
  createdAt: number;
  ttlS: number;
  status: TaskStatus;
  /** The filter and step it is in; null when no filter matches (it then waits for its TTL). */
  route: { filter: number; step: number } | null;
}

export interface ModelReservation {
  /** Learnt from Roster when the model's expected reservation is found there. */
  sid: string | undefined;
  taskSid: string;
  workerSid: string;
  status: ReservationStatus;
  createdAt: number;
}

const wholeSecond = (ms: number) => Math.floor(ms / 1000) * 1000;

const AVAILABLE: Record<ActivityName, boolean> = { Offline: false, Available: true, Unavailable: false };

type Route = { kind: 'step'; filter: number; step: number } | { kind: 'timed-out' } | { kind: 'unrouted' };

export class RoutingModel {
  readonly workers = new Map<string, ModelWorker>();
  readonly tasks = new Map<string, ModelTask>();
  readonly reservations: ModelReservation[] = [];

  constructor(
    readonly config: ModelConfig,
    public now: number,
  ) {}

  // ---- the steps

  addWorker(w: ModelWorker): void {
    w.statusChangedAt = wholeSecond(this.now);
    w.freedAt = 0;
    this.workers.set(w.sid, w);
    this.settle();
  }

  createTask(t: Omit<ModelTask, 'status' | 'route' | 'createdAt'>): void {
    const task: ModelTask = { ...t, createdAt: this.now, status: 'pending', route: null };
    this.tasks.set(task.sid, task);
    this.reroute(task);
    this.settle();
  }

  setActivity(workerSid: string, activity: ActivityName): void {
    const w = this.workers.get(workerSid)!;
    this.move(w, activity);
    if (!AVAILABLE[activity]) {
      // Sent with RejectPendingReservations=true when it has any.
      for (const r of this.pendingOf(workerSid)) this.endReservation(r, 'rejected');
    }
    this.settle();
  }

  accept(r: ModelReservation): void {
    r.status = 'accepted';
    const task = this.tasks.get(r.taskSid)!;
    task.status = 'assigned';
    // The task's other pending reservations (max_reserved_workers > 1) are rescinded.
    for (const other of this.pendingOfTask(task.sid)) {
      other.status = 'rescinded';
      this.workers.get(other.workerSid)!.freedAt = this.now;
    }
    const assignment = this.queueActivity(task, 'assignment');
    if (assignment) this.move(this.workers.get(r.workerSid)!, assignment);
    this.settle();
  }

  reject(r: ModelReservation, activity?: ActivityName): void {
    this.endReservation(r, 'rejected');
    if (activity) this.move(this.workers.get(r.workerSid)!, activity);
    this.settle();
  }

  wrap(r: ModelReservation): void {
    r.status = 'wrapping';
    this.tasks.get(r.taskSid)!.status = 'wrapping';
    this.settle();
  }

  complete(r: ModelReservation): void {
    r.status = 'completed';
    this.workers.get(r.workerSid)!.freedAt = this.now;
    this.tasks.get(r.taskSid)!.status = 'completed';
    this.settle();
  }

  cancelTask(sid: string): void {
    this.cancel(this.tasks.get(sid)!);
    this.settle();
  }

  /** New attributes for a worker: its queues and its level change (its pending reservations stay). */
  updateWorker(workerSid: string, change: { skills: string[]; level: number }): void {
    const w = this.workers.get(workerSid)!;
    w.skills = change.skills;
    w.level = change.level;
    this.settle();
  }

  /** New attributes for a task: it is routed again from the first filter, at its age. */
  updateAttributes(sid: string, attributes: Record<string, unknown>): void {
    const task = this.tasks.get(sid)!;
    task.attributes = attributes;
    if (task.status === 'pending') this.reroute(task);
    this.settle();
  }

  /** Moves time forward, firing every timer on the way at its own time, in time order. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const next = this.nextEvent();
      if (!next || next.at > until) break;
      this.now = next.at;
      next.fire();
      this.settle();
    }
    this.now = until;
  }

  // ---- what the model knows

  /** The reservations of a task or worker that are pending. */
  pendingOf(workerSid: string): ModelReservation[] {
    return this.reservations.filter((r) => r.workerSid === workerSid && r.status === 'pending');
  }

  pendingOfTask(taskSid: string): ModelReservation[] {
    return this.reservations.filter((r) => r.taskSid === taskSid && r.status === 'pending');
  }

  /** The reservation through which a task is assigned or wrapping. */
  holderOf(taskSid: string): ModelReservation | undefined {
    return this.reservations.find(
      (r) => r.taskSid === taskSid && (r.status === 'accepted' || r.status === 'wrapping'),
    );
  }

  /** Tasks on a worker's channel: pending reservations, and tasks assigned or wrapping. */
  load(workerSid: string, channel: Channel): number {
    return this.reservations.filter(
      (r) =>
        r.workerSid === workerSid &&
        (r.status === 'pending' || r.status === 'accepted' || r.status === 'wrapping') &&
        this.tasks.get(r.taskSid)!.channel === channel,
    ).length;
  }

  /** Assigned (or wrapping) tasks on a worker's channel: its `assigned_tasks`. */
  assigned(workerSid: string, channel: Channel): number {
    return this.reservations.filter(
      (r) =>
        r.workerSid === workerSid &&
        (r.status === 'accepted' || r.status === 'wrapping') &&
        this.tasks.get(r.taskSid)!.channel === channel,
    ).length;
  }

  stepOf(task: ModelTask): ModelStep | undefined {
    return task.route ? this.config.filters[task.route.filter]!.steps[task.route.step] : undefined;
  }

  effectivePriority(task: ModelTask): number {
    return this.stepOf(task)?.priority ?? task.priority;
  }

  /**
   * When the worker became idle, for "longest idle first" (Roster decides, docs/routing.md): the
   * later of its last activity change and the last time a reservation of its ended.
   */
  idleSince(w: ModelWorker): number {
    return Math.max(w.statusChangedAt ?? 0, w.freedAt ?? 0);
  }

  /** Every task the worker holds, on any channel (single-tasking's measure). */
  held(workerSid: string): number {
    return this.reservations.filter(
      (r) =>
        r.workerSid === workerSid &&
        (r.status === 'pending' || r.status === 'accepted' || r.status === 'wrapping'),
    ).length;
  }

  eligible(w: ModelWorker, task: ModelTask): boolean {
    const step = this.stepOf(task);
    if (!step) return false;
    return (
      // A worker who turned the task down is not offered it again (Roster decides: Twilio "moves
      // on to the next worker in the event of a rejection"); nor one it is already offered to.
      !this.reservations.some(
        (r) =>
          r.taskSid === task.sid &&
          r.workerSid === w.sid &&
          (r.status === 'rejected' || r.status === 'pending'),
      ) &&
      this.config.queues[step.queue]!(w) &&
      (step.known === undefined ||
        (step.known === 'sid' ? task.attributes.agent === w.sid : task.attributes.agent_name === w.name)) &&
      AVAILABLE[w.activity] &&
      (this.config.multitasking === false
        ? this.held(w.sid) === 0
        : this.load(w.sid, task.channel) < w.capacity[task.channel])
    );
  }

  // ---- rules

  private route(task: ModelTask): Route {
    const filter = this.config.filters.findIndex((f) => f.matches(task.attributes));
    if (filter === -1) return { kind: 'unrouted' };
    const steps = this.config.filters[filter]!.steps;
    const age = this.now - task.createdAt;
    let end = 0;
    for (let step = 0; step < steps.length; step++) {
      const timeout = steps[step]!.timeout;
      if (timeout === undefined) return { kind: 'step', filter, step };
      end += timeout * 1000;
      if (age < end) return { kind: 'step', filter, step };
    }
    return { kind: 'timed-out' };
  }

  /**
   * Where the task is now, by its attributes and age; past the last step it is canceled. A step
   * it enters with `skip_if` true (no member of the queue available) passes it to the next step
   * of its filter (the model never skips a filter's last step).
   */
  private reroute(task: ModelTask): void {
    const route = this.route(task);
    if (route.kind === 'timed-out') {
      this.cancel(task);
      return;
    }
    if (route.kind !== 'step') {
      task.route = null;
      return;
    }
    const steps = this.config.filters[route.filter]!.steps;
    let step = route.step;
    while (steps[step]!.skipIfNoneAvailable && !this.anyMemberAvailable(steps[step]!.queue)) step++;
    task.route = { filter: route.filter, step };
  }

  private anyMemberAvailable(queue: string): boolean {
    return [...this.workers.values()].some((w) => this.config.queues[queue]!(w) && AVAILABLE[w.activity]);
  }

  /** When the task's step ends, or undefined when it never does. */
  private stepEnd(task: ModelTask): number | undefined {
    if (!task.route) return undefined;
    const steps = this.config.filters[task.route.filter]!.steps;
    let end = 0;
    for (let step = 0; step <= task.route.step; step++) {
      const timeout = steps[step]!.timeout;
      if (timeout === undefined) return undefined;
      end += timeout * 1000;
    }
    return task.createdAt + end;
  }

  private cancel(task: ModelTask): void {
    task.status = 'canceled';
    for (const pending of this.pendingOfTask(task.sid)) {
      pending.status = 'canceled';
      this.workers.get(pending.workerSid)!.freedAt = this.now;
    }
  }

  /** The activity the task's queue moves a worker to (single-tasking only). */
  private queueActivity(task: ModelTask, when: 'reservation' | 'assignment'): ActivityName | undefined {
    if (this.config.multitasking !== false) return undefined;
    const queue = this.stepOf(task)?.queue;
    return queue === undefined ? undefined : this.config.queueActivities?.[queue]?.[when];
  }

  private maxReserved(task: ModelTask): number {
    const queue = this.stepOf(task)?.queue;
    return (queue === undefined ? undefined : this.config.maxReserved?.[queue]) ?? 1;
  }

  /** A worker's activity changes (its status change time only when it is another activity). */
  private move(w: ModelWorker, activity: ActivityName): void {
    if (w.activity !== activity) w.statusChangedAt = wholeSecond(this.now);
    w.activity = activity;
  }

  /** A pending reservation ends without acceptance: the task waits again unless another is pending. */
  private endReservation(r: ModelReservation, status: ReservationStatus): void {
    r.status = status;
    this.workers.get(r.workerSid)!.freedAt = this.now;
    const task = this.tasks.get(r.taskSid)!;
    if (task.status === 'reserved' && this.pendingOfTask(task.sid).length === 0) task.status = 'pending';
  }

  private nextEvent(): { at: number; fire: () => void } | undefined {
    let best: { at: number; order: number; fire: () => void } | undefined;
    const consider = (at: number, order: number, fire: () => void) => {
      if (!best || at < best.at || (at === best.at && order < best.order)) best = { at, order, fire };
    };
    for (const r of this.reservations) {
      if (r.status !== 'pending') continue;
      consider(r.createdAt + this.config.reservationTimeoutS * 1000, 0, () => {
        this.endReservation(r, 'timeout');
        this.move(this.workers.get(r.workerSid)!, this.config.timeoutActivity);
      });
    }
    for (const task of this.tasks.values()) {
      if (task.status !== 'pending' && task.status !== 'reserved') continue;
      const end = this.stepEnd(task);
      if (end !== undefined) {
        consider(end, 1, () => {
          for (const pending of this.pendingOfTask(task.sid)) {
            this.endReservation(pending, this.config.movedReservationStatus);
          }
          this.reroute(task);
        });
      }
      consider(task.createdAt + task.ttlS * 1000, 2, () => this.cancel(task));
    }
    return best;
  }

  /**
   * Routes until nothing more can be: the waiting task that comes first (higher effective
   * priority, then older, then the smaller SID) that some worker can take gets the workers that
   * come first by the step's order_by, then longest idle first, then the smaller SID (as many as
   * its queue's max_reserved_workers); once no waiting task can be offered, a reserved task with
   * fewer pending reservations than that takes one more, in the same task order; and again.
   */
  private settle(): void {
    const taskOrder = (a: ModelTask, b: ModelTask) =>
      this.effectivePriority(b) - this.effectivePriority(a) ||
      a.createdAt - b.createdAt ||
      (a.sid < b.sid ? -1 : 1);
    for (;;) {
      const open = [...this.tasks.values()].filter(
        (t) => (t.status === 'pending' || t.status === 'reserved') && t.route,
      );
      const waiting = open.filter((t) => t.status === 'pending').sort(taskOrder);
      const reserved = open
        .filter((t) => t.status === 'reserved' && this.pendingOfTask(t.sid).length < this.maxReserved(t))
        .sort(taskOrder);
      let offered = false;
      for (const task of [...waiting, ...reserved]) {
        const room = this.maxReserved(task) - this.pendingOfTask(task.sid).length;
        const workers = this.candidates(task).slice(0, task.status === 'pending' ? room : 1);
        if (workers.length === 0) continue;
        for (const worker of workers) {
          this.reservations.push({
            sid: undefined,
            taskSid: task.sid,
            workerSid: worker.sid,
            status: 'pending',
            createdAt: this.now,
          });
          const activity = this.queueActivity(task, 'reservation');
          if (activity) this.move(worker, activity);
        }
        task.status = 'reserved';
        offered = true;
        break;
      }
      if (!offered) return;
    }
  }

  /** The workers eligible for the task, best first. */
  private candidates(task: ModelTask): ModelWorker[] {
    const step = this.stepOf(task)!;
    return [...this.workers.values()]
      .filter((w) => this.eligible(w, task))
      .sort(
        (a, b) =>
          (step.order === 'idle' ? 0 : step.order === 'desc' ? b.level - a.level : a.level - b.level) ||
          this.idleSince(a) - this.idleSince(b) ||
          (a.sid < b.sid ? -1 : 1),
      );
  }
}
