import {
  activityDurations,
  addFact,
  cumulativeFigures,
  emptyTally,
  factsOf,
  FACT_EVENT_TYPES,
  mergeTally,
  parseWaitThresholds,
  planWindow,
  queueEntryMs,
  statisticsWindow,
  tallyFromText,
  taskSidOf,
  type ActivityDuration,
  type CumulativeFigures,
  type CumulativeTally,
  type StatisticsWindow,
  workerActivityMs,
  workersScopeSid,
} from '../domain/cumulative-statistics.js';
import { NotFoundError } from '../domain/errors.js';
import {
  countWorkers,
  workersRealTimeStatistics,
  type WorkersRealTimeStatistics,
} from '../domain/statistics.js';
import type { Worker } from '../domain/types.js';
import { requireWorkspace, type ServiceDeps } from './context.js';
import type { LoggedEvent, StoreReader, WorkerFilter } from './ports/store.js';
import { requireTaskChannel } from './task-channels.js';
import { requireTaskQueue } from './task-queues.js';

export const MINUTE_MS = 60_000;
/** The spans of rollups, in minutes: each made of the one before it (a day of hours, an hour of minutes). */
export const ROLLUP_SPANS = [1, 60, 1440] as const;
/** Scopes per rollup read (an IN list), well under either database's parameter limit. */
const SCOPE_CHUNK = 500;
/** Workers read per page while gathering a filtered set. */
const WORKER_PAGE = 1_000;
/** The last time a Date can hold: "from then on" reads every event after a time. */
const LAST_MS = 8.64e15 - 1;

/** A cumulative statistics request's parameters, as given (strings parsed by the wire layer). */
export interface CumulativeParams {
  minutes?: number;
  startDate?: Date;
  endDate?: Date;
  /** A task channel's SID or unique name. */
  taskChannel?: string;
  /** `SplitByWaitTime` as given: a comma list of seconds. */
  splitByWaitTime?: string;
}

export interface CumulativeAnswer {
  window: StatisticsWindow;
  figures: CumulativeFigures;
}

export interface WorkersCumulativeAnswer {
  window: StatisticsWindow;
  figures: CumulativeFigures;
  activityDurations: ActivityDuration[];
}

/** Workers/Statistics's filters: they narrow the workers counted (realtime) and summed (cumulative). */
export interface WorkersStatisticsFilter {
  friendlyName?: string;
  taskQueueSid?: string;
  taskQueueName?: string;
}

/**
 * Cumulative statistics (issue 14): the figures of a window are the facts of the events logged
 * in it (`factsOf`), summed from the per-minute rollups for the whole minutes the roller has
 * folded (whole days and hours from daily and hourly rollups) and from the raw events for the
 * rest (the window's partial first and last minutes, and minutes not rolled yet). Exact at any
 * time, rolled or not: the rollups only make it cheap, O(days + 2 × 23 hours + 2 × 59 minutes)
 * rollup rows plus the events of a few minutes.
 * Windows include their end: an event logged at the very time of the read counts.
 */
export class CumulativeStatisticsService {
  constructor(private readonly deps: ServiceDeps) {}

  async workspace(
    accountSid: string,
    workspaceSid: string,
    params: CumulativeParams,
  ): Promise<CumulativeAnswer> {
    const store = this.deps.store;
    await requireWorkspace(store, accountSid, workspaceSid);
    return this.scoped(workspaceSid, [workspaceSid], params);
  }

  async taskQueue(
    accountSid: string,
    workspaceSid: string,
    queueSid: string,
    params: CumulativeParams,
  ): Promise<CumulativeAnswer> {
    const store = this.deps.store;
    await requireWorkspace(store, accountSid, workspaceSid);
    await requireTaskQueue(store, workspaceSid, queueSid);
    return this.scoped(workspaceSid, [queueSid], params);
  }

  async workflow(
    accountSid: string,
    workspaceSid: string,
    workflowSid: string,
    params: CumulativeParams,
  ): Promise<CumulativeAnswer> {
    const store = this.deps.store;
    await requireWorkspace(store, accountSid, workspaceSid);
    if (!(await store.getWorkflow(workspaceSid, workflowSid)))
      throw new NotFoundError('Workflow', workflowSid);
    return this.scoped(workspaceSid, [workflowSid], params);
  }

  /**
   * Workers/CumulativeStatistics (no filter) or Workers/Statistics: reservations of the workers
   * and their time in each activity. Without a filter the reservations come from the workspace's
   * rollups and every worker, deleted ones included, counts; a filter narrows both to the
   * workers it selects now (so deleted workers are left out), and its cost grows with them.
   * `realtime` is given for a filter only (counts of the filtered workers by activity); without
   * one the caller reads the store's counts.
   */
  async workers(
    accountSid: string,
    workspaceSid: string,
    params: CumulativeParams,
    filter: WorkersStatisticsFilter = {},
  ): Promise<WorkersCumulativeAnswer & { realtime?: WorkersRealTimeStatistics }> {
    const store = this.deps.store;
    await requireWorkspace(store, accountSid, workspaceSid);
    const filtered =
      filter.friendlyName !== undefined ||
      filter.taskQueueSid !== undefined ||
      filter.taskQueueName !== undefined;
    const ask = await this.request(workspaceSid, params);
    const activities = await store.activityCounts(workspaceSid);
    // Read before the log: an event committed since is then in the tallies read after.
    const workers = await allWorkers(store, workspaceSid, filtered ? filter : {});
    const scopes = filtered ? workers.map((w) => w.sid) : [workspaceSid];
    const tally = await this.tally(workspaceSid, scopes, ask.channelSid, ask.window);
    const answer = {
      window: ask.window,
      figures: cumulativeFigures(tally, []),
      activityDurations: await this.durations(
        workspaceSid,
        filtered ? scopes : [workersScopeSid(workspaceSid)],
        filtered ? tally : undefined,
        ask,
        workers,
        activities,
      ),
    };
    if (!filtered) return answer;
    const counts = countWorkers(
      activities.map((a) => ({ sid: a.activitySid, friendlyName: a.friendlyName })),
      workers.map((w) => ({ sid: w.sid, activitySid: w.activitySid })),
      [],
    );
    return { ...answer, realtime: workersRealTimeStatistics(counts) };
  }

  /** Workers/{WK}/Statistics: one worker's reservations and time in each activity. */
  async worker(
    accountSid: string,
    workspaceSid: string,
    workerSid: string,
    params: CumulativeParams,
  ): Promise<WorkersCumulativeAnswer> {
    const store = this.deps.store;
    await requireWorkspace(store, accountSid, workspaceSid);
    const worker = await store.getWorker(workspaceSid, workerSid);
    if (!worker) throw new NotFoundError('Worker', workerSid);
    const ask = await this.request(workspaceSid, params);
    const tally = await this.tally(workspaceSid, [workerSid], ask.channelSid, ask.window);
    const activities = await store.activityCounts(workspaceSid);
    return {
      window: ask.window,
      figures: cumulativeFigures(tally, []),
      activityDurations: await this.durations(workspaceSid, [workerSid], tally, ask, [worker], activities),
    };
  }

  /**
   * `activity_durations` of the workers of these scopes (the workspace's workers, or workers),
   * from the same rollups as the other figures: the window's tally (`tally` when it was read of
   * these scopes, unless for a task channel: worker events have none) and, for the workers
   * without events in it, the tally from the window's end on (nothing to read when the window
   * ends now) or else the worker as it is now (`workers`, read before either tally).
   */
  private async durations(
    workspaceSid: string,
    scopes: readonly string[],
    tally: CumulativeTally | undefined,
    ask: { window: StatisticsWindow; channelSid: string | undefined },
    workers: readonly Worker[],
    activities: readonly { activitySid: string; friendlyName: string }[],
  ): Promise<ActivityDuration[]> {
    const { window } = ask;
    const inWindow =
      tally !== undefined && ask.channelSid === undefined
        ? tally
        : await this.tally(workspaceSid, scopes, undefined, window);
    const after = await this.tally(workspaceSid, scopes, undefined, {
      startMs: window.endMs + 1,
      endMs: LAST_MS,
    });
    const current = new Map(workers.map((w) => [w.sid, w]));
    const sids = new Set([...inWindow.workers.keys(), ...after.workers.keys(), ...current.keys()]);
    const perWorker = [...sids].map((sid) => {
      const w = current.get(sid);
      return workerActivityMs(
        inWindow.workers.get(sid),
        after.workers.get(sid),
        w === undefined ? undefined : { activitySid: w.activitySid, sinceMs: w.dateStatusChanged.getTime() },
        window,
      );
    });
    return activityDurations(
      perWorker,
      activities.map((a) => ({ sid: a.activitySid, friendlyName: a.friendlyName })),
    );
  }

  private async scoped(
    workspaceSid: string,
    scopes: string[],
    params: CumulativeParams,
  ): Promise<CumulativeAnswer> {
    const ask = await this.request(workspaceSid, params);
    const thresholds = parseWaitThresholds(params.splitByWaitTime);
    const tally = await this.tally(workspaceSid, scopes, ask.channelSid, ask.window);
    return { window: ask.window, figures: cumulativeFigures(tally, thresholds) };
  }

  private async request(workspaceSid: string, params: CumulativeParams) {
    const window = statisticsWindow(params, this.deps.clock.now());
    const channelSid =
      params.taskChannel === undefined
        ? undefined
        : (await requireTaskChannel(this.deps.store, workspaceSid, params.taskChannel)).sid;
    return { window, channelSid };
  }

  /**
   * The tally of these scopes over [startMs, endMs] (the end included): rolled whole minutes
   * from the rollups, everything else from the log. The watermark is read first; minutes before
   * it never change again, and every event from it on is read raw, so a roll committing during
   * the read changes nothing.
   */
  private async tally(
    workspaceSid: string,
    scopes: readonly string[],
    channelSid: string | undefined,
    window: StatisticsWindow,
  ): Promise<CumulativeTally> {
    const store = this.deps.store;
    const rolledUntil = await store.statisticsRolledUntil();
    const range = { startMs: window.startMs, endMs: window.endMs + 1 };
    const plan = planWindow(range, MINUTE_MS);
    const tally = emptyTally();
    const raw: StatisticsWindow[] = [];
    const merge = async (span: number, from: number, to: number) => {
      for (let i = 0; i < scopes.length && to > from; i += SCOPE_CHUNK) {
        const chunk = scopes.slice(i, i + SCOPE_CHUNK);
        for (const text of await store.statisticsRollups(chunk, channelSid, span, from, to)) {
          mergeTally(tally, tallyFromText(text));
        }
      }
    };
    /** Rolled whole minutes [from, to): the longest spans' rows that fit, the shorter ones around them. */
    const cover = async (from: number, to: number, spans: readonly number[]): Promise<void> => {
      const [span, ...shorter] = spans;
      if (span === undefined || to <= from) return;
      if (shorter.length === 0) return merge(span, from, to);
      const first = Math.ceil(from / span);
      const end = Math.floor(to / span);
      if (end <= first) return cover(from, to, shorter);
      await merge(span, first, end);
      await cover(from, first * span, shorter);
      await cover(end * span, to, shorter);
    };
    if (plan.endBucket > plan.firstBucket) {
      // A span's row exists once all its minutes are rolled: every one before rolledEnd.
      const rolledEnd = Math.min(
        plan.endBucket,
        Math.max(plan.firstBucket, Math.floor(rolledUntil / MINUTE_MS)),
      );
      await cover(plan.firstBucket, rolledEnd, [...ROLLUP_SPANS].reverse());
      raw.push(
        { startMs: range.startMs, endMs: plan.firstBucket * MINUTE_MS },
        { startMs: rolledEnd * MINUTE_MS, endMs: range.endMs },
      );
    } else {
      raw.push(range);
    }
    const wanted = new Set(scopes);
    for (const part of raw) {
      if (part.endMs <= part.startMs) continue;
      const events = await store.statisticsEvents({
        workspaceSid,
        fromMs: part.startMs,
        toMs: part.endMs,
        types: FACT_EVENT_TYPES,
      });
      for (const e of await withQueueEntries(store, events)) {
        for (const f of factsOf(workspaceSid, e, e.queueEnteredMs)) {
          if (wanted.has(f.scopeSid) && (channelSid === undefined || f.taskChannelSid === channelSid)) {
            addFact(tally, f.fact);
          }
        }
      }
    }
    return tally;
  }
}

/**
 * The events with, for each `reservation.accepted`, when its task entered the queue it was
 * accepted from (its last queue entry in the log, one index seek; null if retention took it).
 */
export async function withQueueEntries(
  store: StoreReader,
  events: readonly LoggedEvent[],
): Promise<(LoggedEvent & { queueEnteredMs: number | null })[]> {
  const out: (LoggedEvent & { queueEnteredMs: number | null })[] = [];
  for (const e of events) {
    let queueEnteredMs: number | null = null;
    if (e.type === 'reservation.accepted') {
      const entry = await store.lastQueueEntry(taskSidOf(e), e.timeMs);
      queueEnteredMs = entry === null ? null : queueEntryMs(entry);
    }
    out.push({ ...e, queueEnteredMs });
  }
  return out;
}

/** The workers a filter selects now (all of them without one), by pages of the store's list. */
async function allWorkers(store: StoreReader, workspaceSid: string, filter: WorkerFilter): Promise<Worker[]> {
  const workers: Worker[] = [];
  let pageToken: string | undefined;
  for (;;) {
    const page = await store.listWorkers(workspaceSid, filter, { pageSize: WORKER_PAGE, page: 0, pageToken });
    workers.push(...page.items);
    if (page.nextPageToken === null || page.items.length === 0) return workers;
    pageToken = page.nextPageToken;
  }
}
