import type { Clock } from '../domain/clock.js';
import {
  emptyTally,
  FACT_EVENT_TYPES,
  mergeTally,
  tallyByMinute,
  tallyFromText,
  tallyToText,
  type CumulativeTally,
} from '../domain/cumulative-statistics.js';
import { MINUTE_MS, ROLLUP_SPANS, withQueueEntries } from './cumulative-statistics.js';
import type { RollupRow, Store, StoreTx } from './ports/store.js';

export interface StatisticsRollerOptions {
  /**
   * A minute is rolled once it ended this long ago (default 5 s): the time between an event's
   * timestamp and its INSERT in its transaction is far shorter, so no event of a rolled minute
   * can arrive after its roll (PostgreSQL's roll also waits for transactions appending events).
   */
  graceMs?: number;
  /** Minutes folded per transaction at most (default 360: a long log catches up in few transactions). */
  maxMinutesPerRoll?: number;
  /** About how many events a roll's transaction folds: its minutes adapt to it (default 10,000). */
  eventsPerRoll?: number;
}

/**
 * Folds the event log's closed minutes into per-minute tallies (statistics_rollups), so that
 * cumulative statistics read O(minutes) rows instead of every event. A roll is one transaction
 * with its watermark: a crash leaves the minutes either rolled with it or not at all. Reads are
 * exact without it (they read the log from the watermark on); it only makes them cheap. So it
 * needs no timer of its own: it rolls at start, and then when a commit finds a minute closed
 * since the last roll (a quiet log leaves nothing unrolled to read). On PostgreSQL every node
 * rolls after its own commits; the watermark row makes them take turns, the later one finds
 * the minutes rolled.
 */
export class StatisticsRoller {
  private running: Promise<void> = Promise.resolve();
  private busy = false;
  private again = false;
  private stopped = false;
  /** When the next minute closes (after the grace), so that a commit then starts a roll. */
  private nextDueMs = -Infinity;
  private unsubscribe: (() => void) | undefined;
  /** Minutes per roll: halved after a roll that read too many events, doubled after one that read few. */
  private chunkMinutes = 60;

  constructor(
    private readonly deps: { store: Store; clock: Clock; onError?: (err: unknown) => void },
    private readonly options: StatisticsRollerOptions = {},
  ) {}

  start(): void {
    if (this.unsubscribe) return;
    this.stopped = false;
    this.unsubscribe = this.deps.store.onEvents(() => {
      if (this.deps.clock.now() >= this.nextDueMs) this.kick();
    });
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.running;
  }

  /** Resolves once the roll under way (if any) is over. */
  idle(): Promise<void> {
    return this.running;
  }

  private kick(): void {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    this.running = this.rollOnce().then(
      () => undefined,
      (err: unknown) => this.deps.onError?.(err),
    );
    void this.running.then(() => {
      this.busy = false;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Rolls every closed minute (in transactions of a bounded size); resolves with how many rows it wrote. */
  async rollOnce(): Promise<number> {
    let written = 0;
    for (;;) {
      const { rows, more } = await this.deps.store.transaction((tx) => this.rollSome(tx));
      written += rows;
      if (!more || this.stopped) return written;
    }
  }

  private async rollSome(tx: StoreTx) {
    const graceMs = this.options.graceMs ?? 5_000;
    const maxMinutes = this.options.maxMinutesPerRoll ?? 360;
    const from = await tx.beginStatisticsRoll();
    const target = Math.floor((this.deps.clock.now() - graceMs) / MINUTE_MS) * MINUTE_MS;
    this.nextDueMs = target + MINUTE_MS + graceMs;
    if (target <= from) return { rows: 0, more: false };
    const workspaces = await tx.statisticsWorkspaces();
    // Minutes without events are skipped: the roll starts at the first event's minute.
    let first = Infinity;
    for (const ws of workspaces) first = Math.min(first, (await tx.firstEventTime(ws, from)) ?? Infinity);
    if (first >= target) {
      await tx.setStatisticsRolledUntil(target);
      return { rows: await this.rollSpans(tx, from, target), more: false };
    }
    const start = Math.floor(first / MINUTE_MS) * MINUTE_MS;
    const end = Math.min(target, start + Math.min(maxMinutes, this.chunkMinutes) * MINUTE_MS);
    const rows: RollupRow[] = [];
    let read = 0;
    for (const workspaceSid of workspaces) {
      const events = await tx.statisticsEvents({
        workspaceSid,
        fromMs: start,
        toMs: end,
        types: FACT_EVENT_TYPES,
      });
      read += events.length;
      if (events.length === 0) continue;
      for (const r of tallyByMinute(workspaceSid, await withQueueEntries(tx, events), MINUTE_MS).values()) {
        rows.push({
          scopeSid: r.scopeSid,
          taskChannelSid: r.taskChannelSid,
          spanMinutes: 1,
          bucket: r.minute,
          tally: tallyToText(r.tally),
        });
      }
    }
    await tx.insertStatisticsRollups(rows);
    await tx.setStatisticsRolledUntil(end);
    // Catching up keeps each transaction short (writers wait for it), whatever the events' density.
    const budget = this.options.eventsPerRoll ?? 10_000;
    if (read > budget) this.chunkMinutes = Math.max(1, Math.floor(this.chunkMinutes / 2));
    else if (read < budget / 4) this.chunkMinutes = Math.min(maxMinutes, this.chunkMinutes * 2);
    return { rows: rows.length + (await this.rollSpans(tx, from, end)), more: end < target };
  }

  /**
   * The hours and days that the watermark's move from `from` to `to` completed get their rows:
   * each the merge of the rows of the span below it (of an hour's minutes, a day's hours). The
   * minutes of the hour `from` was in were rolled before or now, and every earlier hour was
   * complete already (the same for days). Returns how many rows it wrote.
   */
  private async rollSpans(tx: StoreTx, from: number, to: number): Promise<number> {
    let written = 0;
    for (let i = 1; i < ROLLUP_SPANS.length; i++) {
      const below = ROLLUP_SPANS[i - 1]!;
      const span = ROLLUP_SPANS[i]!;
      const spanMs = span * MINUTE_MS;
      const first = Math.floor(from / spanMs);
      const end = Math.floor(to / spanMs);
      if (end <= first) continue;
      const merged = new Map<string, RollupRow & { merged: CumulativeTally }>();
      const per = span / below;
      for (const r of await tx.statisticsSpanRows(below, first * per, end * per)) {
        const bucket = Math.floor(r.bucket / per);
        const key = `${r.scopeSid}\n${r.taskChannelSid}\n${bucket}`;
        const row = merged.get(key) ?? { ...r, spanMinutes: span, bucket, merged: emptyTally() };
        merged.set(key, row);
        mergeTally(row.merged, tallyFromText(r.tally));
      }
      const rows = [...merged.values()].map(({ merged: tally, ...row }) => ({
        ...row,
        tally: tallyToText(tally),
      }));
      await tx.insertStatisticsRollups(rows);
      written += rows.length;
    }
    return written;
  }
}
