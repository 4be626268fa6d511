import type { StatisticsEvent } from '../../domain/cumulative-statistics.js';

/** A logged event as cumulative statistics read it (what `StatisticsEvent` needs, and its log id). */
export interface LoggedEvent extends StatisticsEvent {
  id: number;
}

/** One minute's (or hour's) tally of one scope and task channel, as the roller writes it. */
export interface RollupRow {
  scopeSid: string;
  taskChannelSid: string;
  /** 1 (a minute), 60 (an hour) or 1440 (a day). */
  spanMinutes: number;
  /** time_ms / (spanMinutes × 60,000), whole. */
  bucket: number;
  /** `tallyToText` of the tally. */
  tally: string;
}

/** Which events to read: a workspace's (or one worker's) of these types in [fromMs, toMs), in log order. */
export interface StatisticsEventQuery {
  workspaceSid: string;
  workerSid?: string;
  fromMs: number;
  toMs: number;
  types: readonly string[];
}

export interface StatisticsRollupReads {
  /** Every event logged before this time (ms, a whole minute) is in the rollups; later ones are not. */
  statisticsRolledUntil(): Promise<number>;
  /**
   * The tallies (`tallyToText`) of these scopes for buckets of this span in [fromBucket,
   * toBucket), of one task channel or all: at most scopes × buckets × channels rows, one index
   * range per scope.
   */
  statisticsRollups(
    scopeSids: readonly string[],
    taskChannelSid: string | undefined,
    spanMinutes: number,
    fromBucket: number,
    toBucket: number,
  ): Promise<string[]>;
  /** Every scope's rows of this span for buckets in [fromBucket, toBucket) (the roller makes the next span's of them). */
  statisticsSpanRows(spanMinutes: number, fromBucket: number, toBucket: number): Promise<RollupRow[]>;
  /** Events by time (the workspace's or the worker's time index), oldest first. */
  statisticsEvents(query: StatisticsEventQuery): Promise<LoggedEvent[]>;
  /** A task's last queue entry (task-queue.entered or .moved) logged at or before `atMs`, if the log has it. */
  lastQueueEntry(taskSid: string, atMs: number): Promise<LoggedEvent | null>;
  /** Every workspace's SID (the roller folds each workspace's events through its time index). */
  statisticsWorkspaces(): Promise<string[]>;
  /** The time of a workspace's first event at or after `fromMs`, null when none. */
  firstEventTime(workspaceSid: string, fromMs: number): Promise<number | null>;
}

export interface StatisticsRollupWrites {
  /**
   * Starts a roll in this transaction: holds the watermark (another node's roll waits, then
   * finds the minutes rolled) and, on PostgreSQL, waits for transactions appending events to
   * end (SHARE lock on the log) so that no event of a minute being rolled is still uncommitted.
   * Returns the watermark.
   */
  beginStatisticsRoll(): Promise<number>;
  insertStatisticsRollups(rows: readonly RollupRow[]): Promise<void>;
  setStatisticsRolledUntil(ms: number): Promise<void>;
}
