import { workersRealTimeStatistics, type WorkersRealTimeStatistics } from '../domain/statistics.js';
import type { ActivityCount } from '../domain/types.js';
import { requireWorkspace, type ServiceDeps } from './context.js';
import { requireTaskChannel } from './task-channels.js';

/** Answers remembered at once; plenty for every workspace and channel a node serves. */
const MEMO_LIMIT = 10_000;

export class StatisticsService {
  /**
   * A store that caches (SQLite) hands back the same counts until something changes; the same
   * statistics object then lets the wire layer reuse its encoded body too.
   */
  private readonly computed = new WeakMap<readonly ActivityCount[], WorkersRealTimeStatistics>();
  /**
   * Answers by workspace and TaskChannel as asked, with the account that owns the workspace, read
   * under `memoGeneration`: exact for as long as the store's read generation stays the same (any
   * commit, by this process or another, moves it). Empty for stores that cannot tell.
   */
  private memo = new Map<string, { accountSid: string; stats: WorkersRealTimeStatistics }>();
  private memoGeneration: number | undefined;

  constructor(private readonly deps: ServiceDeps) {}

  /**
   * The answer `workersRealTime` would give, from memory, when nothing has been committed since
   * it was read for this account; otherwise undefined (then call `workersRealTime`).
   */
  remembered(
    accountSid: string,
    workspaceSid: string,
    taskChannel?: string,
  ): WorkersRealTimeStatistics | undefined {
    const generation = this.deps.store.readGeneration?.();
    if (generation === undefined) return undefined;
    if (generation !== this.memoGeneration) {
      this.memo = new Map();
      this.memoGeneration = generation;
      return undefined;
    }
    const known = this.memo.get(memoKey(workspaceSid, taskChannel));
    // Another account asking about this workspace goes to the store (and gets its 404).
    return known?.accountSid === accountSid ? known.stats : undefined;
  }

  /** O(activities): reads the counts the store keeps, never the workers. */
  async workersRealTime(
    accountSid: string,
    workspaceSid: string,
    taskChannel?: string,
  ): Promise<WorkersRealTimeStatistics> {
    const store = this.deps.store;
    const generation = store.readGeneration?.();
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
    // Remembered only if nothing was committed while it was read.
    if (generation !== undefined && store.readGeneration?.() === generation) {
      if (generation !== this.memoGeneration || this.memo.size >= MEMO_LIMIT) {
        this.memo = new Map();
        this.memoGeneration = generation;
      }
      this.memo.set(memoKey(workspaceSid, taskChannel), { accountSid, stats });
    }
    return stats;
  }
}

function memoKey(workspaceSid: string, taskChannel: string | undefined): string {
  return taskChannel === undefined ? workspaceSid : `${workspaceSid}\n${taskChannel}`;
}
