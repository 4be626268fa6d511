import { workersRealTimeStatistics, type WorkersRealTimeStatistics } from '../domain/statistics.js';
import { requireWorkspace, type ServiceDeps } from './context.js';
import { requireTaskChannel } from './task-channels.js';

export class StatisticsService {
  constructor(private readonly deps: ServiceDeps) {}

  /** O(activities): reads the counts the store keeps, never the workers. */
  async workersRealTime(
    accountSid: string,
    workspaceSid: string,
    taskChannel?: string,
  ): Promise<WorkersRealTimeStatistics> {
    const store = this.deps.store;
    await requireWorkspace(store, accountSid, workspaceSid);
    const channelSid =
      taskChannel === undefined
        ? undefined
        : (await requireTaskChannel(store, workspaceSid, taskChannel)).sid;
    return workersRealTimeStatistics(await store.activityCounts(workspaceSid, channelSid));
  }
}
