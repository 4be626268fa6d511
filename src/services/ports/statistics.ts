import type { ActivityCount } from '../../domain/types.js';

export interface StatisticsReads {
  /**
   * Live worker counts per activity, every activity of the workspace in creation order.
   * With a task channel: only workers whose channel for it is eligible (`isChannelEligible`).
   * Costs O(activities): the counts are kept up to date by every write.
   */
  activityCounts(workspaceSid: string, taskChannelSid?: string): Promise<ActivityCount[]>;
}
