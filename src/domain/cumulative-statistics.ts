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
  | { kind: 'reservation-accepted'; waitSeconds: number; waitInQueueSeconds: number };

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
