import { InvalidParameterError } from './errors.js';

/**
 * TaskRouter's cumulative statistics (workspace, queue and workflow `CumulativeStatistics`) as
 * pure functions. Each event of the log contributes at most one fact; facts are summed into a
 * tally that merges exactly (counts and totals add, minimums and maximums combine), so a window's
 * figures can come from per-minute tallies plus the raw events at its two edges, at a cost of
 * O(minutes in the window) rather than O(events). Durations are whole seconds.
 */
export type CumulativeFact =
  | {
      kind:
        | 'task-created'
        | 'task-entered'
        | 'task-completed'
        | 'task-deleted'
        | 'task-moved'
        | 'task-timed-out-in-workflow'
        | 'reservation-created'
        | 'reservation-rejected'
        | 'reservation-timed-out'
        | 'reservation-canceled'
        | 'reservation-rescinded';
    }
  /** A task canceled, `waitSeconds` after it was created. */
  | { kind: 'task-canceled'; waitSeconds: number }
  /** A reservation accepted, that long after its task was created and after it entered its queue. */
  | { kind: 'reservation-accepted'; waitSeconds: number; waitInQueueSeconds: number }
  /** A worker event that begins or ends a stint (see `WorkerStints`). */
  | {
      kind: 'worker-event';
      workerSid: string;
      at: EventOrder;
      /** The stint it ends: its activity and length (created: none). */
      closes: { activitySid: string; ms: number } | null;
      /** The activity the worker is in after it (deleted: none). */
      now: string | null;
    };

/** Where an event is in the log: its time, then its id (0 when unknown). */
export interface EventOrder {
  t: number;
  id: number;
}

/**
 * One worker's stints as far as some events tell (a minute's, an hour's, a window's): the total
 * length of the stints they end, by activity, and the first and last of them. Merges exactly, so
 * that a window's time in each activity comes from rollups: the stints ended in the window, less
 * the part before the window of the first one (the one the worker was in at the window's start),
 * plus the stint the last one began, up to the window's end (see `workerActivityMs`).
 */
export interface WorkerStints {
  /** Activity SID → ms of the stints ended, in whole. */
  ms: Record<string, number>;
  first: { at: EventOrder; closes: { activitySid: string; startMs: number } | null };
  last: { at: EventOrder; now: string | null };
}

export interface DurationTally {
  count: number;
  total: number;
  /** Meaningless while `count` is 0. */
  min: number;
  max: number;
}

export interface CumulativeTally {
  tasksCreated: number;
  tasksEntered: number;
  tasksCompleted: number;
  tasksCanceled: number;
  tasksDeleted: number;
  tasksMoved: number;
  tasksTimedOutInWorkflow: number;
  reservationsCreated: number;
  reservationsAccepted: number;
  reservationsRejected: number;
  reservationsTimedOut: number;
  reservationsCanceled: number;
  reservationsRescinded: number;
  waitUntilAccepted: DurationTally;
  waitInQueueUntilAccepted: DurationTally;
  waitUntilCanceled: DurationTally;
  /**
   * How many accepted reservations and canceled tasks waited each whole number of seconds, so that
   * `SplitByWaitTime` can take any thresholds after the fact and stay exact. Sparse: one entry per
   * distinct wait, not per task.
   */
  acceptedByWait: Map<number, number>;
  canceledByWait: Map<number, number>;
  /** Worker SID → its stints (activity durations), for the workers whose events were tallied. */
  workers: Map<string, WorkerStints>;
}

export function emptyTally(): CumulativeTally {
  return {
    tasksCreated: 0,
    tasksEntered: 0,
    tasksCompleted: 0,
    tasksCanceled: 0,
    tasksDeleted: 0,
    tasksMoved: 0,
    tasksTimedOutInWorkflow: 0,
    reservationsCreated: 0,
    reservationsAccepted: 0,
    reservationsRejected: 0,
    reservationsTimedOut: 0,
    reservationsCanceled: 0,
    reservationsRescinded: 0,
    waitUntilAccepted: emptyDuration(),
    waitInQueueUntilAccepted: emptyDuration(),
    waitUntilCanceled: emptyDuration(),
    acceptedByWait: new Map(),
    canceledByWait: new Map(),
    workers: new Map(),
  };
}

const COUNTED = {
  'task-created': 'tasksCreated',
  'task-entered': 'tasksEntered',
  'task-completed': 'tasksCompleted',
  'task-deleted': 'tasksDeleted',
  'task-moved': 'tasksMoved',
  'task-timed-out-in-workflow': 'tasksTimedOutInWorkflow',
  'reservation-created': 'reservationsCreated',
  'reservation-rejected': 'reservationsRejected',
  'reservation-timed-out': 'reservationsTimedOut',
  'reservation-canceled': 'reservationsCanceled',
  'reservation-rescinded': 'reservationsRescinded',
} as const satisfies Record<string, keyof CumulativeTally>;

/** Adds one fact to a tally (in place: tallies are built up event by event). */
export function addFact(tally: CumulativeTally, fact: CumulativeFact): void {
  switch (fact.kind) {
    case 'task-canceled': {
      const wait = wholeSeconds(fact.waitSeconds);
      tally.tasksCanceled += 1;
      addDuration(tally.waitUntilCanceled, wait);
      bump(tally.canceledByWait, wait, 1);
      return;
    }
    case 'reservation-accepted': {
      const wait = wholeSeconds(fact.waitSeconds);
      tally.reservationsAccepted += 1;
      addDuration(tally.waitUntilAccepted, wait);
      addDuration(tally.waitInQueueUntilAccepted, wholeSeconds(fact.waitInQueueSeconds));
      bump(tally.acceptedByWait, wait, 1);
      return;
    }
    case 'worker-event': {
      const closes = fact.closes;
      mergeStints(tally.workers, fact.workerSid, {
        ms: closes === null ? {} : { [closes.activitySid]: closes.ms },
        first: {
          at: fact.at,
          closes:
            closes === null ? null : { activitySid: closes.activitySid, startMs: fact.at.t - closes.ms },
        },
        last: { at: fact.at, now: fact.now },
      });
      return;
    }
    default:
      tally[COUNTED[fact.kind]] += 1;
  }
}

/** Adds `from` into `into` (in place); the result is the tally of both sets of facts. */
export function mergeTally(into: CumulativeTally, from: CumulativeTally): void {
  for (const key of Object.values(COUNTED)) into[key] += from[key];
  into.tasksCanceled += from.tasksCanceled;
  into.reservationsAccepted += from.reservationsAccepted;
  mergeDuration(into.waitUntilAccepted, from.waitUntilAccepted);
  mergeDuration(into.waitInQueueUntilAccepted, from.waitInQueueUntilAccepted);
  mergeDuration(into.waitUntilCanceled, from.waitUntilCanceled);
  for (const [wait, n] of from.acceptedByWait) bump(into.acceptedByWait, wait, n);
  for (const [wait, n] of from.canceledByWait) bump(into.canceledByWait, wait, n);
  for (const [workerSid, stints] of from.workers) mergeStints(into.workers, workerSid, stints);
}

function mergeStints(into: Map<string, WorkerStints>, workerSid: string, from: WorkerStints): void {
  const mine = into.get(workerSid);
  if (mine === undefined) {
    into.set(workerSid, { ms: { ...from.ms }, first: from.first, last: from.last });
    return;
  }
  for (const [activitySid, ms] of Object.entries(from.ms))
    mine.ms[activitySid] = (mine.ms[activitySid] ?? 0) + ms;
  if (before(from.first.at, mine.first.at)) mine.first = from.first;
  if (before(mine.last.at, from.last.at)) mine.last = from.last;
}

function before(a: EventOrder, b: EventOrder): boolean {
  return a.t < b.t || (a.t === b.t && a.id < b.id);
}

export interface DurationFigures {
  avg: number;
  min: number;
  max: number;
  total: number;
}

export interface WaitSplit {
  threshold: number;
  /** Waited longer than the threshold. */
  above: { tasksCanceled: number; reservationsAccepted: number };
  /** Waited no longer than the threshold (within it, as a service level counts). */
  below: { tasksCanceled: number; reservationsAccepted: number };
}

export interface CumulativeFigures {
  tasksCreated: number;
  tasksEntered: number;
  tasksCompleted: number;
  tasksCanceled: number;
  tasksDeleted: number;
  tasksMoved: number;
  tasksTimedOutInWorkflow: number;
  reservationsCreated: number;
  reservationsAccepted: number;
  reservationsRejected: number;
  reservationsTimedOut: number;
  reservationsCanceled: number;
  reservationsRescinded: number;
  /** Whole seconds, rounded: the spec types it as an integer. */
  avgTaskAcceptanceTime: number;
  waitDurationUntilAccepted: DurationFigures;
  waitDurationInQueueUntilAccepted: DurationFigures;
  waitDurationUntilCanceled: DurationFigures;
  /** Null when no thresholds were asked for, as Twilio answers then. */
  splitByWaitTime: WaitSplit[] | null;
}

/** The figures Twilio reports, from a window's tally and the `SplitByWaitTime` thresholds asked for. */
export function cumulativeFigures(tally: CumulativeTally, thresholds: readonly number[]): CumulativeFigures {
  const accepted = durationFigures(tally.waitUntilAccepted);
  return {
    tasksCreated: tally.tasksCreated,
    tasksEntered: tally.tasksEntered,
    tasksCompleted: tally.tasksCompleted,
    tasksCanceled: tally.tasksCanceled,
    tasksDeleted: tally.tasksDeleted,
    tasksMoved: tally.tasksMoved,
    tasksTimedOutInWorkflow: tally.tasksTimedOutInWorkflow,
    reservationsCreated: tally.reservationsCreated,
    reservationsAccepted: tally.reservationsAccepted,
    reservationsRejected: tally.reservationsRejected,
    reservationsTimedOut: tally.reservationsTimedOut,
    reservationsCanceled: tally.reservationsCanceled,
    reservationsRescinded: tally.reservationsRescinded,
    avgTaskAcceptanceTime: accepted.avg,
    waitDurationUntilAccepted: accepted,
    waitDurationInQueueUntilAccepted: durationFigures(tally.waitInQueueUntilAccepted),
    waitDurationUntilCanceled: durationFigures(tally.waitUntilCanceled),
    splitByWaitTime:
      thresholds.length === 0
        ? null
        : thresholds.map((threshold) => {
            const accepted = splitAt(tally.acceptedByWait, threshold);
            const canceled = splitAt(tally.canceledByWait, threshold);
            return {
              threshold,
              above: { tasksCanceled: canceled.above, reservationsAccepted: accepted.above },
              below: { tasksCanceled: canceled.below, reservationsAccepted: accepted.below },
            };
          }),
  };
}

/**
 * `SplitByWaitTime`: a comma-separated list of thresholds in whole seconds; answered in the order
 * given, each once.
 */
export function parseWaitThresholds(text: string | undefined): number[] {
  if (text === undefined || text.trim() === '') return [];
  const thresholds: number[] = [];
  for (const part of text.split(',')) {
    const trimmed = part.trim();
    if (!/^\d{1,9}$/.test(trimmed)) {
      throw new InvalidParameterError(
        'SplitByWaitTime',
        `SplitByWaitTime must be a comma-separated list of whole seconds; '${part}' is not`,
      );
    }
    const seconds = Number(trimmed);
    if (!thresholds.includes(seconds)) thresholds.push(seconds);
  }
  return thresholds;
}

export interface StatisticsWindow {
  startMs: number;
  endMs: number;
}

/**
 * The window a cumulative statistics request covers: it ends at `EndDate` or now; it starts at
 * `StartDate` when given, else `Minutes` (default 15) before its end. A window that would end
 * after now ends now; one that starts after it ends is a 400.
 */
export function statisticsWindow(
  params: { minutes?: number; startDate?: Date; endDate?: Date },
  nowMs: number,
): StatisticsWindow {
  if (params.minutes !== undefined && !(Number.isInteger(params.minutes) && params.minutes > 0)) {
    throw new InvalidParameterError('Minutes', 'Minutes must be a positive whole number');
  }
  const endMs = Math.min(params.endDate?.getTime() ?? nowMs, nowMs);
  const startMs = params.startDate?.getTime() ?? endMs - (params.minutes ?? 15) * 60_000;
  if (startMs > endMs) {
    throw new InvalidParameterError('StartDate', 'StartDate must not be after EndDate (or now)');
  }
  return { startMs, endMs };
}

export interface WindowPlan {
  /** Whole buckets inside the window, as bucket numbers (time / bucket size): [first, end). */
  firstBucket: number;
  endBucket: number;
  /** The parts of the window outside whole buckets, read from the raw log: [startMs, endMs) each. */
  edges: StatisticsWindow[];
}

/**
 * Splits a window [startMs, endMs) into whole buckets (read from rollups) and at most two edges
 * (read from raw events), which together cover every millisecond of it exactly once.
 */
export function planWindow(window: StatisticsWindow, bucketMs = 60_000): WindowPlan {
  const firstBucket = Math.ceil(window.startMs / bucketMs);
  const endBucket = Math.floor(window.endMs / bucketMs);
  if (endBucket <= firstBucket) {
    return { firstBucket, endBucket: firstBucket, edges: nonEmpty([window]) };
  }
  return {
    firstBucket,
    endBucket,
    edges: nonEmpty([
      { startMs: window.startMs, endMs: firstBucket * bucketMs },
      { startMs: endBucket * bucketMs, endMs: window.endMs },
    ]),
  };
}

function nonEmpty(windows: StatisticsWindow[]): StatisticsWindow[] {
  return windows.filter((w) => w.endMs > w.startMs);
}

function emptyDuration(): DurationTally {
  return { count: 0, total: 0, min: 0, max: 0 };
}

function addDuration(d: DurationTally, seconds: number): void {
  d.min = d.count === 0 ? seconds : Math.min(d.min, seconds);
  d.max = d.count === 0 ? seconds : Math.max(d.max, seconds);
  d.count += 1;
  d.total += seconds;
}

function mergeDuration(into: DurationTally, from: DurationTally): void {
  if (from.count === 0) return;
  into.min = into.count === 0 ? from.min : Math.min(into.min, from.min);
  into.max = into.count === 0 ? from.max : Math.max(into.max, from.max);
  into.count += from.count;
  into.total += from.total;
}

function durationFigures(d: DurationTally): DurationFigures {
  if (d.count === 0) return { avg: 0, min: 0, max: 0, total: 0 };
  return { avg: Math.round(d.total / d.count), min: d.min, max: d.max, total: d.total };
}

function splitAt(byWait: ReadonlyMap<number, number>, threshold: number): { above: number; below: number } {
  let above = 0;
  let below = 0;
  for (const [wait, n] of byWait) {
    if (wait > threshold) above += n;
    else below += n;
  }
  return { above, below };
}

function bump(map: Map<number, number>, key: number, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/** Waits count in whole seconds, truncated: 4.9 s waited is 4 s, as second-resolution timestamps show it. */
function wholeSeconds(seconds: number): number {
  return Math.max(0, Math.floor(seconds));
}

// ---- facts from the event log

/** What a cumulative statistic needs of a logged event. */
export interface StatisticsEvent {
  /** The event's log id, which orders events of the same time (0 when unknown). */
  id?: number;
  type: string;
  resourceSid: string;
  timeMs: number;
  data: Record<string, unknown>;
}

/** A fact and where it counts: a scope (workspace, queue, workflow or worker SID) and a task channel. */
export interface ScopedFact {
  scopeSid: string;
  /** The task's channel ('' when the event names none). */
  taskChannelSid: string;
  fact: CumulativeFact;
}

/** The event types that contribute facts; no other event is read for cumulative statistics. */
export const FACT_EVENT_TYPES = [
  'task.created',
  'task.canceled',
  'task.completed',
  'task.deleted',
  'task-queue.entered',
  'task-queue.moved',
  'workflow.entered',
  'workflow.timeout',
  'reservation.created',
  'reservation.accepted',
  'reservation.rejected',
  'reservation.timeout',
  'reservation.canceled',
  'reservation.rescinded',
  'worker.created',
  'worker.activity.update',
  'worker.deleted',
] as const;

/** The queue entries of a task, which set where its wait in queue starts. */
export const QUEUE_ENTRY_TYPES = ['task-queue.entered', 'task-queue.moved'] as const;

const RESERVATION_FACTS: Record<string, CumulativeFact['kind']> = {
  'reservation.created': 'reservation-created',
  'reservation.rejected': 'reservation-rejected',
  'reservation.timeout': 'reservation-timed-out',
  'reservation.canceled': 'reservation-canceled',
  'reservation.rescinded': 'reservation-rescinded',
};

const TASK_FACTS: Record<string, CumulativeFact['kind']> = {
  'task.created': 'task-created',
  'task.completed': 'task-completed',
  'task.deleted': 'task-deleted',
};

/**
 * The facts an event contributes, each in the scopes it counts in. A task's events count in
 * the workspace, the task's queue and its workflow; a reservation's also in its worker. Entering
 * counts only where the task entered (`task-queue.entered` in the queue, `workflow.entered` in
 * the workflow); a move counts as moved in the workspace, the workflow and the queue the task
 * left, and as entered in the queue it moved to. `queueEnteredMs` is for `reservation.accepted`
 * only: when its task entered the queue it was accepted from (from the log: the task's last
 * `task-queue.entered` or `task-queue.moved`), null when the log no longer has it (the wait in
 * queue is then the wait since creation).
 */
export function factsOf(
  workspaceSid: string,
  e: StatisticsEvent,
  queueEnteredMs: number | null = null,
): ScopedFact[] {
  const d = e.data;
  const channel = sidOrEmpty(d.task_channel_sid);
  const queue = sidOrEmpty(d.task_queue_sid);
  const workflow = sidOrEmpty(d.workflow_sid);
  const at = (scopes: readonly string[], fact: CumulativeFact): ScopedFact[] =>
    scopes.filter((s) => s !== '').map((scopeSid) => ({ scopeSid, taskChannelSid: channel, fact }));
  const taskScopes = [workspaceSid, queue, workflow];
  const taskFact = TASK_FACTS[e.type];
  if (taskFact !== undefined) return at(taskScopes, { kind: taskFact } as CumulativeFact);
  const reservationScopes = [...taskScopes, sidOrEmpty(d.worker_sid)];
  const reservationFact = RESERVATION_FACTS[e.type];
  if (reservationFact !== undefined)
    return at(reservationScopes, { kind: reservationFact } as CumulativeFact);
  switch (e.type) {
    case 'task.canceled':
      return at(taskScopes, { kind: 'task-canceled', waitSeconds: numberOr(d.age, 0) });
    case 'task-queue.entered':
      return at([e.resourceSid], { kind: 'task-entered' });
    case 'task-queue.moved':
      return [
        ...at([workspaceSid, sidOrEmpty(d.task_queue_sid_previous), workflow], { kind: 'task-moved' }),
        ...at([e.resourceSid], { kind: 'task-entered' }),
      ];
    case 'workflow.entered':
      return at([e.resourceSid], { kind: 'task-entered' });
    case 'workflow.timeout':
      return at(taskScopes, { kind: 'task-timed-out-in-workflow' });
    case 'worker.created':
    case 'worker.activity.update':
    case 'worker.deleted':
      return at([workersScopeSid(workspaceSid), e.resourceSid], workerFact(e));
    case 'reservation.accepted': {
      const waitSeconds = numberOr(d.task_age, 0);
      const waitInQueueSeconds =
        queueEnteredMs === null ? waitSeconds : Math.floor((e.timeMs - queueEnteredMs) / 1000);
      return at(reservationScopes, { kind: 'reservation-accepted', waitSeconds, waitInQueueSeconds });
    }
    default:
      return [];
  }
}

/**
 * Where the stints of a workspace's workers are tallied, apart from its own scope so that the
 * workspace's other figures do not read them.
 */
export function workersScopeSid(workspaceSid: string): string {
  return `${workspaceSid}/Workers`;
}

/**
 * A worker event's part in its stints: `worker.activity.update` ends a stint in the activity it
 * names as previous, `time_in_previous_activity_ms` long, and begins one in its activity;
 * `worker.created` begins one; `worker.deleted` ends one in its activity,
 * `time_in_activity_ms` long (0 in logs older than that field).
 */
function workerFact(e: StatisticsEvent): CumulativeFact {
  const d = e.data;
  const at = { t: e.timeMs, id: e.id ?? 0 };
  const activity = sidOrEmpty(d.activity_sid);
  const ends = (activitySid: string, ms: number) =>
    activitySid === '' ? null : { activitySid, ms: Math.max(0, ms) };
  switch (e.type) {
    case 'worker.created':
      return { kind: 'worker-event', workerSid: e.resourceSid, at, closes: null, now: activity || null };
    case 'worker.deleted':
      return {
        kind: 'worker-event',
        workerSid: e.resourceSid,
        at,
        closes: ends(activity, numberOr(d.time_in_activity_ms, 0)),
        now: null,
      };
    default:
      return {
        kind: 'worker-event',
        workerSid: e.resourceSid,
        at,
        closes: ends(sidOrEmpty(d.previous_activity_sid), numberOr(d.time_in_previous_activity_ms, 0)),
        now: activity || null,
      };
  }
}

/** When a queue entry event says its task entered the queue (its data's date, else the event's time). */
export function queueEntryMs(e: StatisticsEvent): number {
  const date = e.data.task_queue_entered_date;
  const ms = typeof date === 'string' ? Date.parse(date) : NaN;
  return Number.isFinite(ms) ? ms : e.timeMs;
}

/** A task's SID in an event's data ('' when none). */
export function taskSidOf(e: StatisticsEvent): string {
  return sidOrEmpty(e.data.task_sid);
}

/** Tallies by key `scope \n channel \n minute`, from events (any order). */
export function tallyByMinute(
  workspaceSid: string,
  events: readonly (StatisticsEvent & { queueEnteredMs?: number | null })[],
  bucketMs = 60_000,
): Map<string, { scopeSid: string; taskChannelSid: string; minute: number; tally: CumulativeTally }> {
  const out = new Map<
    string,
    { scopeSid: string; taskChannelSid: string; minute: number; tally: CumulativeTally }
  >();
  for (const e of events) {
    const minute = Math.floor(e.timeMs / bucketMs);
    for (const f of factsOf(workspaceSid, e, e.queueEnteredMs ?? null)) {
      const key = `${f.scopeSid}\n${f.taskChannelSid}\n${minute}`;
      let row = out.get(key);
      if (!row) {
        row = { scopeSid: f.scopeSid, taskChannelSid: f.taskChannelSid, minute, tally: emptyTally() };
        out.set(key, row);
      }
      addFact(row.tally, f.fact);
    }
  }
  return out;
}

/** A tally as stored text (JSON; the wait maps as [wait, count] pairs). */
export function tallyToText(t: CumulativeTally): string {
  return JSON.stringify({
    ...t,
    acceptedByWait: [...t.acceptedByWait],
    canceledByWait: [...t.canceledByWait],
    workers: [...t.workers],
  });
}

export function tallyFromText(text: string): CumulativeTally {
  const raw = JSON.parse(text) as Omit<CumulativeTally, 'acceptedByWait' | 'canceledByWait' | 'workers'> & {
    acceptedByWait: [number, number][];
    canceledByWait: [number, number][];
    workers?: [string, WorkerStints][];
  };
  return {
    ...emptyTally(),
    ...raw,
    acceptedByWait: new Map(raw.acceptedByWait),
    canceledByWait: new Map(raw.canceledByWait),
    workers: new Map(raw.workers ?? []),
  };
}

// ---- activity durations

/**
 * The ms one worker spent in each activity within the window [startMs, endMs] (its end
 * included), from `inWindow`, the stints its events in the window tell (undefined: it had none),
 * and, for a worker without any, `across`: the stint it was in all through the window, from its
 * first event after the window (`after`, which ends that stint or creates the worker) or else
 * the worker as it is now (`current`; undefined: deleted). Each stint is clipped to the window:
 * the stints ended in it count whole, less the part before the window of the first (the one the
 * worker was in at its start); the stint begun by the last runs to the window's end.
 */
export function workerActivityMs(
  inWindow: WorkerStints | undefined,
  after: WorkerStints | undefined,
  current: { activitySid: string; sinceMs: number } | undefined,
  window: StatisticsWindow,
): Map<string, number> {
  const out = new Map<string, number>();
  const add = (activitySid: string, ms: number) => {
    if (ms > 0) out.set(activitySid, (out.get(activitySid) ?? 0) + ms);
  };
  if (inWindow !== undefined) {
    const spent = { ...inWindow.ms };
    const first = inWindow.first.closes;
    if (first !== null && first.startMs < window.startMs) {
      spent[first.activitySid] = (spent[first.activitySid] ?? 0) - (window.startMs - first.startMs);
    }
    for (const [activitySid, ms] of Object.entries(spent)) add(activitySid, ms);
    if (inWindow.last.now !== null) add(inWindow.last.now, window.endMs - inWindow.last.at.t);
    return out;
  }
  const across =
    after !== undefined
      ? after.first.closes
      : current === undefined
        ? null
        : { activitySid: current.activitySid, startMs: current.sinceMs };
  if (across !== null) add(across.activitySid, window.endMs - Math.max(across.startMs, window.startMs));
  return out;
}

export interface ActivityDuration {
  sid: string;
  friendlyName: string;
  avg: number;
  min: number;
  max: number;
  total: number;
}

/**
 * `activity_durations`: for every activity (in the order given, zeros included), the seconds
 * each worker spent in it inside the window (`workerActivityMs` of each worker, whole seconds),
 * as the total over workers and the avg/min/max per worker that spent any time in it. One
 * worker's figures are then avg = min = max = total, as Twilio shows them.
 */
export function activityDurations(
  perWorker: Iterable<ReadonlyMap<string, number>>,
  activities: readonly { sid: string; friendlyName: string }[],
): ActivityDuration[] {
  const byActivity = new Map<string, DurationTally>();
  for (const spent of perWorker) {
    for (const [activitySid, ms] of spent) {
      if (ms <= 0) continue;
      let d = byActivity.get(activitySid);
      if (!d) byActivity.set(activitySid, (d = emptyDuration()));
      addDuration(d, Math.floor(ms / 1000));
    }
  }
  return activities.map((a) => ({
    sid: a.sid,
    friendlyName: a.friendlyName,
    ...durationFigures(byActivity.get(a.sid) ?? emptyDuration()),
  }));
}

function sidOrEmpty(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function numberOr(v: unknown, fallback: number): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : fallback;
}
