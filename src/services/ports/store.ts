import type { AccountReads, AccountWrites } from './accounts.js';
import type { CommittedEventsListener, EventReads, EventWrites } from './events.js';
import type { ActivityReads, ActivityWrites } from './activities.js';
import type { RoutingReads, RoutingWrites } from './routing.js';
import type { ReclaimReads, ReclaimWrites } from './reclaims.js';
import type { StatisticsReads } from './statistics.js';
import type { StatisticsRollupReads, StatisticsRollupWrites } from './statistics-rollups.js';
import type { TaskChannelReads, TaskChannelWrites } from './task-channels.js';
import type { TaskQueueReads, TaskQueueWrites } from './task-queues.js';
import type { TimerReads, TimerWrites } from './timers.js';
import type { WorkerChannelReads, WorkerChannelWrites } from './worker-channels.js';
import type { WorkerReads, WorkerWrites } from './workers.js';
import type { WorkflowReads, WorkflowWrites } from './workflows.js';
import type { WorkspaceReads, WorkspaceWrites } from './workspaces.js';

export type * from './accounts.js';
export type * from './activities.js';
export type * from './events.js';
export type * from './paging.js';
export type * from './routing.js';
export type * from './reclaims.js';
export type * from './statistics.js';
export type * from './statistics-rollups.js';
export type * from './task-channels.js';
export type * from './task-queues.js';
export type * from './timers.js';
export type * from './worker-channels.js';
export type * from './workers.js';
export type * from './workflows.js';
export type * from './workspaces.js';

/** Reads see committed data (or, inside a transaction, that transaction's own writes). */
export interface StoreReader
  extends
    AccountReads,
    WorkspaceReads,
    ActivityReads,
    TaskChannelReads,
    TaskQueueReads,
    WorkflowReads,
    WorkerReads,
    WorkerChannelReads,
    StatisticsReads,
    StatisticsRollupReads,
    EventReads,
    TimerReads,
    RoutingReads,
    ReclaimReads {}

/** Writes run inside `Store.transaction`; SIDs and times are decided by the caller. */
export interface StoreTx
  extends
    StoreReader,
    AccountWrites,
    WorkspaceWrites,
    ActivityWrites,
    TaskChannelWrites,
    TaskQueueWrites,
    WorkflowWrites,
    WorkerWrites,
    WorkerChannelWrites,
    EventWrites,
    TimerWrites,
    RoutingWrites,
    ReclaimWrites,
    StatisticsRollupWrites {
  /** Runs after a successful commit, never after a rollback. */
  onCommit(effect: () => void): void;
}

/** The store the services are given; `createStore` picks its backend. */
export interface Store extends StoreReader {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * For stores that keep an exact read cache: a number that stays the same exactly as long as
   * nothing has been committed since it was last looked at (by this process or any other), so
   * that anything read under it may be answered again from memory. Undefined when the store
   * cannot tell, and every read must go to the store.
   */
  readGeneration?(): number | undefined;
  transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * The transactional outbox: after each commit, the events that transaction appended.
   * Returns the unsubscribe function.
   */
  onEvents(listener: CommittedEventsListener): () => void;
  close(): Promise<void>;
}
