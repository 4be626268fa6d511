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
