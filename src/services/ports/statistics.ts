import type { QueueActivityCount, TaskCount, WaitingTask } from '../../domain/statistics.js';
import type { ActivityCount } from '../../domain/types.js';

/** Which waiting tasks a `longestWaiting` read looks at. */
export interface WaitingScope {
  workspaceSid: string;
  /** The queue's or the workflow's tasks; the workspace's without either. */
  taskQueueSid?: string;
  workflowSid?: string;
  taskChannelSid?: string;
  /** By creation (`longest_task_waiting_*`), or by entry into the queue (`longest_relative_*`). */
  since: 'created' | 'queueEntered';
}

export interface StatisticsReads {
  /**
   * Live worker counts per activity, every activity of the workspace in creation order.
   * With a task channel: only workers whose channel for it is eligible (`isChannelEligible`).
   * Costs O(activities): the counts are kept up to date by every write.
   */
  activityCounts(workspaceSid: string, taskChannelSid?: string): Promise<ActivityCount[]>;
  /**
   * Live tasks (pending, reserved, assigned, wrapping) of a workspace, task queue or workflow
   * (`scopeSid`) by status and priority, on one task channel or all. Costs O(count rows): kept by
   * triggers (migration 012).
   */
  taskCounts(scopeSid: string, taskChannelSid?: string): Promise<TaskCount[]>;
  /**
   * The pending or reserved task of the scope that has waited longest: one index seek per task
   * channel of the workspace (one with a task channel).
   */
  longestWaiting(scope: WaitingScope): Promise<WaitingTask | null>;
  /** A queue's members per activity: every activity of the workspace, zeros included, in creation order. */
  queueActivityCounts(workspaceSid: string, taskQueueSid: string): Promise<QueueActivityCount[]>;
}
