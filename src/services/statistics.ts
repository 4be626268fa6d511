import {
  taskQueueRealTimeStatistics,
  workersRealTimeStatistics,
  workflowRealTimeStatistics,
  workspaceRealTimeStatistics,
  type QueueActivityCount,
  type TaskQueueRealTimeStatistics,
  type TaskReads,
  type WaitingTask,
  type WorkersRealTimeStatistics,
  type WorkflowRealTimeStatistics,
  type WorkspaceRealTimeStatistics,
  waitedSeconds,
} from '../domain/statistics.js';
import { requireWorkspace, type ServiceDeps } from './context.js';
import type { Store, StoreReader, WaitingScope } from './ports/store.js';
import { requireTaskChannel } from './task-channels.js';
import { requireTaskQueue } from './task-queues.js';
import { requireWorkflow } from './workflows.js';

/** Answers remembered at once; plenty for every workspace, queue and channel a node serves. */
const MEMO_LIMIT = 10_000;

/**
 * Values read under the store's read generation (see `Store.readGeneration`), each with the
 * account that may have it: exact for as long as the generation stays the same (any commit, by
 * this process or another, moves it). Empty for stores that cannot tell.
 */
class GenerationMemo {
  private entries = new Map<string, { accountSid: string; value: unknown }>();
  private generation: number | undefined;

  constructor(private readonly store: Store) {}

  /** The store's generation now: pass it to `set` for what is read from here on. */
  current(): number | undefined {
    return this.store.readGeneration?.();
  }

  get<T>(accountSid: string, key: string): T | undefined {
    const generation = this.current();
    if (generation === undefined) return undefined;
    if (generation !== this.generation) {
      this.entries = new Map();
      this.generation = generation;
      return undefined;
    }
    const known = this.entries.get(key);
    // Another account asking about this workspace goes to the store (and gets its 404).
    return known?.accountSid === accountSid ? (known.value as T) : undefined;
  }

  /** Remembers what was read under `generation`, if nothing was committed while it was read. */
  set(accountSid: string, key: string, value: unknown, generation: number | undefined): void {
    if (generation === undefined || this.current() !== generation) return;
    if (generation !== this.generation || this.entries.size >= MEMO_LIMIT) {
      this.entries = new Map();
      this.generation = generation;
    }
    this.entries.set(key, { accountSid, value });
  }

  /** `read()`'s value, from memory when nothing was committed since it was last read. */
  async read<T>(accountSid: string, key: string, read: () => Promise<T>): Promise<T> {
    const known = this.get<T>(accountSid, key);
    if (known !== undefined) return known;
    const generation = this.current();
    const value = await read();
    this.set(accountSid, key, value, generation);
    return value;
  }
}

/** What a queue's figures are computed from (read once, shaped with the time of each answer). */
interface QueueReads {
  members: QueueActivityCount[];
  tasks: TaskReads & { longestInQueue: WaitingTask | null };
}

export class StatisticsService {
  /**
   * The answer last shaped from a store read (a remembered one, or counts a caching store hands
   * back unchanged), with the ages in whole seconds it shows: while both are the same, the same
   * object is answered again without shaping it, and the wire layer reuses its encoded body.
   * Exact: an answer is a function of the read and its ages alone.
   */
  private readonly shaped = new WeakMap<object, { ages: string; stats: object }>();
  private readonly memo: GenerationMemo;

  constructor(private readonly deps: ServiceDeps) {
    this.memo = new GenerationMemo(deps.store);
  }

  /**
   * The answer `workersRealTime` would give, from memory, when nothing has been committed since
   * it was read for this account; otherwise undefined (then call `workersRealTime`).
   */
  remembered(
    accountSid: string,
    workspaceSid: string,
    taskChannel?: string,
  ): WorkersRealTimeStatistics | undefined {
    return this.memo.get(accountSid, memoKey('Workers', workspaceSid, taskChannel));
  }

  /** O(activities): reads the counts the store keeps, never the workers. */
  async workersRealTime(
    accountSid: string,
    workspaceSid: string,
    taskChannel?: string,
  ): Promise<WorkersRealTimeStatistics> {
    const store = this.deps.store;
    const generation = this.memo.current();
    await requireWorkspace(store, accountSid, workspaceSid);
    const channelSid = await this.channelSid(workspaceSid, taskChannel);
    const counts = await store.activityCounts(workspaceSid, channelSid);
    const stats = this.shape(counts, [], () => workersRealTimeStatistics(counts));
    this.memo.set(accountSid, memoKey('Workers', workspaceSid, taskChannel), stats, generation);
    return stats;
  }

  /**
   * Workspace RealTimeStatistics: the workers per activity and the workspace's live tasks.
   * O(activities + count rows + task channels): counts kept by the store and one index seek per channel.
   */
  async workspaceRealTime(
    accountSid: string,
    workspaceSid: string,
    taskChannel?: string,
  ): Promise<WorkspaceRealTimeStatistics> {
    const reads = await this.memo.read(accountSid, memoKey('', workspaceSid, taskChannel), async () => {
      const store = this.deps.store;
      await requireWorkspace(store, accountSid, workspaceSid);
      const channelSid = await this.channelSid(workspaceSid, taskChannel);
      const workers = await store.activityCounts(workspaceSid, channelSid);
      return {
        workers,
        tasks: await taskReads(store, workspaceSid, { workspaceSid, taskChannelSid: channelSid }),
      };
    });
    const now = this.deps.clock.now();
    return this.shape(reads, [waitedSeconds(reads.tasks.longestWaiting, now)], () =>
      workspaceRealTimeStatistics(reads.workers, reads.tasks, now),
    );
  }

  /**
   * TaskQueue RealTimeStatistics. TaskChannel narrows the task figures only: the worker figures
   * are the queue's members whatever their channels (see README, Differences from Twilio).
   */
  async taskQueueRealTime(
    accountSid: string,
    workspaceSid: string,
    taskQueueSid: string,
    taskChannel?: string,
  ): Promise<TaskQueueRealTimeStatistics> {
    const [stats] = await this.taskQueuesRealTime(
      accountSid,
      workspaceSid,
      [taskQueueSid],
      taskChannel,
      true,
    );
    return stats!;
  }

  /**
   * The bulk TaskQueues RealTimeStatistics: the queues asked for, in the order asked, each once;
   * SIDs that name no queue of the workspace are left out (or, with `requireAll`, a 404).
   */
  async taskQueuesRealTime(
    accountSid: string,
    workspaceSid: string,
    taskQueueSids: readonly string[],
    taskChannel?: string,
    requireAll = false,
  ): Promise<TaskQueueRealTimeStatistics[]> {
    const store = this.deps.store;
    const channelSid = await this.memo.read(accountSid, memoKey('?', workspaceSid, taskChannel), async () => {
      await requireWorkspace(store, accountSid, workspaceSid);
      return (await this.channelSid(workspaceSid, taskChannel)) ?? null;
    });
    const now = this.deps.clock.now();
    const out: TaskQueueRealTimeStatistics[] = [];
    for (const sid of new Set(taskQueueSids)) {
      const reads = await this.memo.read(
        accountSid,
        memoKey(sid, workspaceSid, taskChannel),
        async (): Promise<QueueReads | null> => {
          const queue = await store.getTaskQueue(workspaceSid, sid);
          if (!queue) return null;
          const scope = { workspaceSid, taskQueueSid: sid, taskChannelSid: channelSid ?? undefined };
          return {
            members: await store.queueActivityCounts(workspaceSid, sid),
            tasks: {
              ...(await taskReads(store, sid, scope)),
              longestInQueue: await store.longestWaiting({ ...scope, since: 'queueEntered' }),
            },
          };
        },
      );
      if (reads) {
        const ages = [
          waitedSeconds(reads.tasks.longestWaiting, now),
          waitedSeconds(reads.tasks.longestInQueue, now),
        ];
        out.push(
          this.shape(reads, ages, () => taskQueueRealTimeStatistics(sid, reads.members, reads.tasks, now)),
        );
      } else if (requireAll) await requireTaskQueue(store, workspaceSid, sid);
    }
    return out;
  }

  /** Workflow RealTimeStatistics: the live tasks of the workflow. */
  async workflowRealTime(
    accountSid: string,
    workspaceSid: string,
    workflowSid: string,
    taskChannel?: string,
  ): Promise<WorkflowRealTimeStatistics> {
    const reads = await this.memo.read(
      accountSid,
      memoKey(workflowSid, workspaceSid, taskChannel),
      async () => {
        const store = this.deps.store;
        await requireWorkspace(store, accountSid, workspaceSid);
        await requireWorkflow(store, workspaceSid, workflowSid);
        const channelSid = await this.channelSid(workspaceSid, taskChannel);
        return taskReads(store, workflowSid, { workspaceSid, workflowSid, taskChannelSid: channelSid });
      },
    );
    const now = this.deps.clock.now();
    return this.shape(reads, [waitedSeconds(reads.longestWaiting, now)], () =>
      workflowRealTimeStatistics(workflowSid, reads, now),
    );
  }

  private shape<T extends object>(reads: object, ages: readonly number[], build: () => T): T {
    const key = ages.join(',');
    const known = this.shaped.get(reads);
    if (known?.ages === key) return known.stats as T;
    const stats = build();
    this.shaped.set(reads, { ages: key, stats });
    return stats;
  }

  private async channelSid(
    workspaceSid: string,
    taskChannel: string | undefined,
  ): Promise<string | undefined> {
    return taskChannel === undefined
      ? undefined
      : (await requireTaskChannel(this.deps.store, workspaceSid, taskChannel)).sid;
  }
}

/** A scope's kept task counts and its longest waiting task by creation. */
async function taskReads(
  store: StoreReader,
  scopeSid: string,
  scope: Omit<WaitingScope, 'since'>,
): Promise<TaskReads> {
  return {
    counts: await store.taskCounts(scopeSid, scope.taskChannelSid),
    longestWaiting: await store.longestWaiting({ ...scope, since: 'created' }),
  };
}

/** What is remembered: `what` (Workers, a queue or workflow SID, '' for the workspace) of a workspace and channel. */
function memoKey(what: string, workspaceSid: string, taskChannel: string | undefined): string {
  return `${what}\n${workspaceSid}\n${taskChannel ?? ''}`;
}
