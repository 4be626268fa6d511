import type {
  ActivityStatistic,
  TaskFigures,
  TaskQueueRealTimeStatistics,
  WorkflowRealTimeStatistics,
  WorkspaceRealTimeStatistics,
} from '../domain/statistics.js';
import { workspaceUrl, type Urls } from './serialize.js';

/** The real-time statistics of workspaces, task queues and workflows as Twilio answers them. */

function activityStatisticsJson(activities: readonly ActivityStatistic[]) {
  return activities.map((a) => ({ sid: a.sid, friendly_name: a.friendlyName, workers: a.workers }));
}

function taskFiguresJson(t: TaskFigures) {
  return {
    longest_task_waiting_age: t.longestTaskWaitingAge,
    longest_task_waiting_sid: t.longestTaskWaitingSid,
    tasks_by_priority: t.tasksByPriority,
    tasks_by_status: t.tasksByStatus,
    total_tasks: t.totalTasks,
  };
}

export function toWorkspaceRealTimeStatisticsJson(
  stats: WorkspaceRealTimeStatistics,
  accountSid: string,
  workspaceSid: string,
  urls: Urls,
) {
  return {
    account_sid: accountSid,
    activity_statistics: activityStatisticsJson(stats.activityStatistics),
    ...taskFiguresJson(stats),
    total_workers: stats.totalWorkers,
    workspace_sid: workspaceSid,
    url: `${workspaceUrl(urls, workspaceSid)}/RealTimeStatistics`,
  };
}

export function toTaskQueueRealTimeStatisticsJson(
  stats: TaskQueueRealTimeStatistics,
  accountSid: string,
  workspaceSid: string,
  urls: Urls,
) {
  return {
    account_sid: accountSid,
    activity_statistics: activityStatisticsJson(stats.activityStatistics),
    ...taskFiguresJson(stats),
    longest_relative_task_age_in_queue: stats.longestRelativeTaskAgeInQueue,
    longest_relative_task_sid_in_queue: stats.longestRelativeTaskSidInQueue,
    task_queue_sid: stats.taskQueueSid,
    total_available_workers: stats.totalAvailableWorkers,
    total_eligible_workers: stats.totalEligibleWorkers,
    workspace_sid: workspaceSid,
    url: `${workspaceUrl(urls, workspaceSid)}/TaskQueues/${stats.taskQueueSid}/RealTimeStatistics`,
  };
}

/** The bulk answer: each queue as its own RealTimeStatistics, in the order asked. */
export function toTaskQueuesBulkRealTimeStatisticsJson(
  queues: readonly TaskQueueRealTimeStatistics[],
  accountSid: string,
  workspaceSid: string,
  urls: Urls,
) {
  return {
    account_sid: accountSid,
    task_queue_data: queues.map((q) => toTaskQueueRealTimeStatisticsJson(q, accountSid, workspaceSid, urls)),
    task_queue_response_count: queues.length,
    workspace_sid: workspaceSid,
    url: `${workspaceUrl(urls, workspaceSid)}/TaskQueues/RealTimeStatistics`,
  };
}

export function toWorkflowRealTimeStatisticsJson(
  stats: WorkflowRealTimeStatistics,
  accountSid: string,
  workspaceSid: string,
  urls: Urls,
) {
  return {
    account_sid: accountSid,
    ...taskFiguresJson(stats),
    workflow_sid: stats.workflowSid,
    workspace_sid: workspaceSid,
    url: `${workspaceUrl(urls, workspaceSid)}/Workflows/${stats.workflowSid}/RealTimeStatistics`,
  };
}
