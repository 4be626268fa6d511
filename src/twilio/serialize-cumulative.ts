import type {
  ActivityDuration,
  CumulativeFigures,
  DurationFigures,
  StatisticsWindow,
} from '../domain/cumulative-statistics.js';
import type { WorkersRealTimeStatistics } from '../domain/statistics.js';
import { twilioDate, workspaceUrl, type Urls } from './serialize.js';

/**
 * Cumulative statistics on the wire. `split_by_wait_time` is an object keyed by threshold (as
 * Twilio's examples and answers show it, though the spec calls it a list), or null when no
 * `SplitByWaitTime` was asked for.
 */

function windowJson(w: StatisticsWindow) {
  return { start_time: twilioDate(new Date(w.startMs)), end_time: twilioDate(new Date(w.endMs)) };
}

function durationJson(d: DurationFigures) {
  return { avg: d.avg, min: d.min, max: d.max, total: d.total };
}

function reservationsJson(f: CumulativeFigures) {
  return {
    reservations_created: f.reservationsCreated,
    reservations_accepted: f.reservationsAccepted,
    reservations_rejected: f.reservationsRejected,
    reservations_timed_out: f.reservationsTimedOut,
    reservations_canceled: f.reservationsCanceled,
    reservations_rescinded: f.reservationsRescinded,
  };
}

function splitJson(f: CumulativeFigures) {
  if (f.splitByWaitTime === null) return null;
  const split: Record<string, unknown> = {};
  for (const s of f.splitByWaitTime) {
    split[String(s.threshold)] = {
      above: { tasks_canceled: s.above.tasksCanceled, reservations_accepted: s.above.reservationsAccepted },
      below: { tasks_canceled: s.below.tasksCanceled, reservations_accepted: s.below.reservationsAccepted },
    };
  }
  return split;
}

/** What the workspace, queue and workflow answers share. */
function taskFiguresJson(f: CumulativeFigures, w: StatisticsWindow) {
  return {
    avg_task_acceptance_time: f.avgTaskAcceptanceTime,
    ...windowJson(w),
    ...reservationsJson(f),
    split_by_wait_time: splitJson(f),
    wait_duration_until_accepted: durationJson(f.waitDurationUntilAccepted),
    wait_duration_until_canceled: durationJson(f.waitDurationUntilCanceled),
    tasks_canceled: f.tasksCanceled,
    tasks_completed: f.tasksCompleted,
    tasks_deleted: f.tasksDeleted,
    tasks_moved: f.tasksMoved,
  };
}

export function toWorkspaceCumulativeJson(
  a: { figures: CumulativeFigures; window: StatisticsWindow },
  accountSid: string,
  workspaceSid: string,
  urls: Urls,
) {
  return {
    account_sid: accountSid,
    ...taskFiguresJson(a.figures, a.window),
    tasks_created: a.figures.tasksCreated,
    tasks_timed_out_in_workflow: a.figures.tasksTimedOutInWorkflow,
    workspace_sid: workspaceSid,
    url: `${workspaceUrl(urls, workspaceSid)}/CumulativeStatistics`,
  };
}

export function toTaskQueueCumulativeJson(
  a: { figures: CumulativeFigures; window: StatisticsWindow },
  accountSid: string,
  workspaceSid: string,
  queueSid: string,
  urls: Urls,
) {
  return {
    account_sid: accountSid,
    ...taskFiguresJson(a.figures, a.window),
    wait_duration_in_queue_until_accepted: durationJson(a.figures.waitDurationInQueueUntilAccepted),
    tasks_entered: a.figures.tasksEntered,
    task_queue_sid: queueSid,
    workspace_sid: workspaceSid,
    url: `${workspaceUrl(urls, workspaceSid)}/TaskQueues/${queueSid}/CumulativeStatistics`,
  };
}

export function toWorkflowCumulativeJson(
  a: { figures: CumulativeFigures; window: StatisticsWindow },
  accountSid: string,
  workspaceSid: string,
  workflowSid: string,
  urls: Urls,
) {
  return {
    account_sid: accountSid,
    ...taskFiguresJson(a.figures, a.window),
    tasks_entered: a.figures.tasksEntered,
    tasks_timed_out_in_workflow: a.figures.tasksTimedOutInWorkflow,
    workflow_sid: workflowSid,
    workspace_sid: workspaceSid,
    url: `${workspaceUrl(urls, workspaceSid)}/Workflows/${workflowSid}/CumulativeStatistics`,
  };
}

/** The workers' figures: reservations and time in each activity (every activity, zeros included). */
function workersFiguresJson(a: {
  figures: CumulativeFigures;
  window: StatisticsWindow;
  activityDurations: readonly ActivityDuration[];
}) {
  return {
    ...windowJson(a.window),
    ...reservationsJson(a.figures),
    activity_durations: a.activityDurations.map((d) => ({
      sid: d.sid,
      friendly_name: d.friendlyName,
      avg: d.avg,
      min: d.min,
      max: d.max,
      total: d.total,
    })),
  };
}

type WorkersAnswer = Parameters<typeof workersFiguresJson>[0];

export function toWorkersCumulativeJson(
  a: WorkersAnswer,
  accountSid: string,
  workspaceSid: string,
  urls: Urls,
) {
  return {
    account_sid: accountSid,
    ...workersFiguresJson(a),
    workspace_sid: workspaceSid,
    url: `${workspaceUrl(urls, workspaceSid)}/Workers/CumulativeStatistics`,
  };
}

export function toWorkersStatisticsJson(
  a: WorkersAnswer,
  realtime: WorkersRealTimeStatistics,
  accountSid: string,
  workspaceSid: string,
  urls: Urls,
) {
  return {
    account_sid: accountSid,
    cumulative: workersFiguresJson(a),
    realtime: {
      total_workers: realtime.totalWorkers,
      activity_statistics: realtime.activityStatistics.map((s) => ({
        sid: s.sid,
        friendly_name: s.friendlyName,
        workers: s.workers,
      })),
    },
    workspace_sid: workspaceSid,
    url: `${workspaceUrl(urls, workspaceSid)}/Workers/Statistics`,
  };
}

export function toWorkerStatisticsJson(
  a: WorkersAnswer,
  accountSid: string,
  workspaceSid: string,
  workerSid: string,
  urls: Urls,
) {
  return {
    account_sid: accountSid,
    cumulative: workersFiguresJson(a),
    worker_sid: workerSid,
    workspace_sid: workspaceSid,
    url: `${workspaceUrl(urls, workspaceSid)}/Workers/${workerSid}/Statistics`,
  };
}
