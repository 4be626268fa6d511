import { workersRealTimeStatistics, type WorkersRealTimeStatistics } from '../domain/statistics.js';
import type { ActivityCount } from '../domain/types.js';
import { requireWorkspace, type ServiceDeps } from './context.js';
import { requireTaskChannel } from './task-channels.js';

export class StatisticsService {
  /**
   * A store that caches (SQLite) hands back the same counts until something changes; the same
   * statistics object then lets the wire layer reuse its encoded body too.
   */
  private readonly computed = new WeakMap<readonly ActivityCount[], WorkersRealTimeStatistics>();

  constructor(private readonly deps: ServiceDeps) {}

  /**
   * The store's read generation (see `Store.readGeneration`): while it stays the same, a
   * statistics answer read under it is still exact. Undefined when the store cannot tell.
   */
  generation(): number | undefined {
    return this.deps.store.readGeneration?.();
  }

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
    const counts = await store.activityCounts(workspaceSid, channelSid);
    let stats = this.computed.get(counts);
    if (!stats) {
      stats = workersRealTimeStatistics(counts);
      this.computed.set(counts, stats);
    }
    return stats;
  }
}
