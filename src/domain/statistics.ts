import type { ActivityCount } from './types.js';

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
