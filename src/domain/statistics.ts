import { ACTIVE_TASK, ROUTABLE, taskAgeSeconds } from './tasks.js';
import type { ActivityCount, Task, TaskStatus } from './types.js';

export interface ActivityStatistic {
  sid: string;
  friendlyName: string;
  workers: number;
}

export interface WorkersRealTimeStatistics {
  totalWorkers: number;
  activityStatistics: ActivityStatistic[];
}

/**
 * Workers/RealTimeStatistics from the per-activity counts the store keeps
 * (every activity of the workspace, zeros included, in the store's stable order).
 * O(activities): the counts are maintained with each write, never recounted here.
 */
export function workersRealTimeStatistics(counts: readonly ActivityCount[]): WorkersRealTimeStatistics {
  let totalWorkers = 0;
  const activityStatistics = counts.map((c) => {
    totalWorkers += c.workers;
    return { sid: c.activitySid, friendlyName: c.friendlyName, workers: c.workers };
  });
  return { totalWorkers, activityStatistics };
}

/** Whether a worker channel counts towards statistics filtered by its task channel. */
export function isChannelEligible(channel: { available: boolean; capacity: number }): boolean {
  return channel.available && channel.capacity > 0;
}

/** Share of a channel's capacity still free, as Twilio reports it (0 when unavailable). */
export function availableCapacityPercentage(channel: {
  available: boolean;
  capacity: number;
  assignedTasks: number;
}): number {
  if (!channel.available || channel.capacity <= 0) return 0;
  const free = Math.max(0, channel.capacity - channel.assignedTasks);
  return Math.floor((free * 100) / channel.capacity);
}

/**
 * Statistics counted from the rows themselves: each worker in its activity and, for a task
 * channel, only when its channel for it is eligible. This is the rule; the stores keep the same
 * counts incrementally (triggers) and a test holds them to it. O(workers): for tests and checks.
 */
export function countWorkers(
  activities: readonly { sid: string; friendlyName: string }[],
  workers: readonly { sid: string; activitySid: string }[],
  channels: readonly { workerSid: string; taskChannelSid: string; available: boolean; capacity: number }[],
  taskChannelSid?: string,
): ActivityCount[] {
  const counted =
    taskChannelSid === undefined
      ? null
      : new Set(
          channels
            .filter((c) => c.taskChannelSid === taskChannelSid && isChannelEligible(c))
            .map((c) => c.workerSid),
        );
  const byActivity = new Map<string, number>();
  for (const w of workers) {
    if (counted && !counted.has(w.sid)) continue;
    byActivity.set(w.activitySid, (byActivity.get(w.activitySid) ?? 0) + 1);
  }
  return activities.map((a) => ({
    activitySid: a.sid,
    friendlyName: a.friendlyName,
    workers: byActivity.get(a.sid) ?? 0,
  }));
}

// ---- Real-time task and queue figures (Workspace, TaskQueue, Workflow RealTimeStatistics)

/** Live tasks of one (task channel, status, priority) of a scope, as the store keeps them. */
export interface TaskCount {
  status: TaskStatus;
  priority: number;
  tasks: number;
}

/** The task that has waited longest (pending or reserved), and since when (ms). */
export interface WaitingTask {
  sid: string;
  sinceMs: number;
}

/** A queue's members in one activity of the workspace (every activity, zeros included). */
export interface QueueActivityCount extends ActivityCount {
  available: boolean;
}

/** Statuses a task can be counted in: the four always present in `tasks_by_status`. */
export type LiveTaskStatus = 'pending' | 'reserved' | 'assigned' | 'wrapping';

export interface TaskFigures {
  totalTasks: number;
  /** Every live status, zeros included, in Twilio's order. */
  tasksByStatus: Record<LiveTaskStatus, number>;
  /** Priorities with live tasks only, ascending. */
  tasksByPriority: Record<string, number>;
  longestTaskWaitingAge: number;
  longestTaskWaitingSid: string | null;
}

export interface QueueWorkerFigures {
  totalEligibleWorkers: number;
  totalAvailableWorkers: number;
  activityStatistics: ActivityStatistic[];
}

export interface WorkspaceRealTimeStatistics extends TaskFigures {
  totalWorkers: number;
  activityStatistics: ActivityStatistic[];
}

export interface TaskQueueRealTimeStatistics extends TaskFigures, QueueWorkerFigures {
  taskQueueSid: string;
  longestRelativeTaskAgeInQueue: number;
  longestRelativeTaskSidInQueue: string | null;
}

export interface WorkflowRealTimeStatistics extends TaskFigures {
  workflowSid: string;
}

/** What the store reads for a scope's task figures: counts and the heads of the waiting indexes. */
export interface TaskReads {
  counts: readonly TaskCount[];
  longestWaiting: WaitingTask | null;
}

/** Whole seconds since `sinceMs` at `nowMs` (0 for none): the ages the statistics report. */
export function waitedSeconds(task: WaitingTask | null, nowMs: number): number {
  return task === null ? 0 : taskAgeSeconds({ createdMs: task.sinceMs }, nowMs);
}

/** Task figures from the kept counts: O(count rows), never the tasks. */
export function taskFigures(reads: TaskReads, nowMs: number): TaskFigures {
  const tasksByStatus: Record<LiveTaskStatus, number> = { pending: 0, reserved: 0, assigned: 0, wrapping: 0 };
  const byPriority = new Map<number, number>();
  let totalTasks = 0;
  for (const c of reads.counts) {
    if (c.tasks === 0 || !(ACTIVE_TASK as readonly string[]).includes(c.status)) continue;
    tasksByStatus[c.status as LiveTaskStatus] += c.tasks;
    byPriority.set(c.priority, (byPriority.get(c.priority) ?? 0) + c.tasks);
    totalTasks += c.tasks;
  }
  const tasksByPriority: Record<string, number> = {};
  for (const p of [...byPriority.keys()].sort((a, b) => a - b)) {
    const n = byPriority.get(p)!;
    if (n !== 0) tasksByPriority[String(p)] = n;
  }
  return {
    totalTasks,
    tasksByStatus,
    tasksByPriority,
    longestTaskWaitingAge: waitedSeconds(reads.longestWaiting, nowMs),
    longestTaskWaitingSid: reads.longestWaiting?.sid ?? null,
  };
}

/** A queue's worker figures from its members per activity: eligible = members, available = in an available activity. */
export function queueWorkerFigures(counts: readonly QueueActivityCount[]): QueueWorkerFigures {
  let totalEligibleWorkers = 0;
  let totalAvailableWorkers = 0;
  const activityStatistics = counts.map((c) => {
    totalEligibleWorkers += c.workers;
    if (c.available) totalAvailableWorkers += c.workers;
    return { sid: c.activitySid, friendlyName: c.friendlyName, workers: c.workers };
  });
  return { totalEligibleWorkers, totalAvailableWorkers, activityStatistics };
}

export function workspaceRealTimeStatistics(
  workers: readonly ActivityCount[],
  tasks: TaskReads,
  nowMs: number,
): WorkspaceRealTimeStatistics {
  return { ...workersRealTimeStatistics(workers), ...taskFigures(tasks, nowMs) };
}

export function taskQueueRealTimeStatistics(
  taskQueueSid: string,
  members: readonly QueueActivityCount[],
  tasks: TaskReads & { longestInQueue: WaitingTask | null },
  nowMs: number,
): TaskQueueRealTimeStatistics {
  return {
    taskQueueSid,
    ...taskFigures(tasks, nowMs),
    ...queueWorkerFigures(members),
    longestRelativeTaskAgeInQueue: waitedSeconds(tasks.longestInQueue, nowMs),
    longestRelativeTaskSidInQueue: tasks.longestInQueue?.sid ?? null,
  };
}

export function workflowRealTimeStatistics(
  workflowSid: string,
  tasks: TaskReads,
  nowMs: number,
): WorkflowRealTimeStatistics {
  return { workflowSid, ...taskFigures(tasks, nowMs) };
}

/** Which tasks a scope holds: the workspace's, a queue's or a workflow's, on one channel or all. */
export interface TaskScope {
  taskQueueSid?: string;
  workflowSid?: string;
  taskChannelSid?: string;
}

type CountedTask = Pick<
  Task,
  | 'sid'
  | 'assignmentStatus'
  | 'priority'
  | 'taskQueueSid'
  | 'workflowSid'
  | 'taskChannelSid'
  | 'createdMs'
  | 'queueEnteredMs'
>;

/**
 * The rule the stores keep incrementally, computed from the tasks themselves: the live tasks of
 * the scope by status and priority, and the longest waiting ones (by creation, and by entry into
 * the queue; ties by the earlier SID order given). O(tasks): for tests and checks.
 */
export function countTasks(
  tasks: readonly CountedTask[],
  scope: TaskScope,
): TaskReads & { longestInQueue: WaitingTask | null } {
  const counts = new Map<string, TaskCount>();
  let longestWaiting: WaitingTask | null = null;
  let longestInQueue: WaitingTask | null = null;
  for (const t of tasks) {
    if (scope.taskQueueSid !== undefined && t.taskQueueSid !== scope.taskQueueSid) continue;
    if (scope.workflowSid !== undefined && t.workflowSid !== scope.workflowSid) continue;
    if (scope.taskChannelSid !== undefined && t.taskChannelSid !== scope.taskChannelSid) continue;
    if (!ACTIVE_TASK.includes(t.assignmentStatus)) continue;
    const key = `${t.assignmentStatus}|${t.priority}`;
    const c = counts.get(key) ?? { status: t.assignmentStatus, priority: t.priority, tasks: 0 };
    c.tasks++;
    counts.set(key, c);
    if (!ROUTABLE.includes(t.assignmentStatus)) continue;
    if (longestWaiting === null || t.createdMs < longestWaiting.sinceMs) {
      longestWaiting = { sid: t.sid, sinceMs: t.createdMs };
    }
    if (t.queueEnteredMs !== null && (longestInQueue === null || t.queueEnteredMs < longestInQueue.sinceMs)) {
      longestInQueue = { sid: t.sid, sinceMs: t.queueEnteredMs };
    }
  }
  return { counts: [...counts.values()], longestWaiting, longestInQueue };
}
