/** A durable timer: fires once when its due time has come, even across restarts. */
export interface NewTimer {
  workspaceSid: string;
  /** What firing does, e.g. `task.ttl` or `reservation.timeout`: the TimerService handler's name. */
  kind: string;
  /** The resource it is for; one timer per kind and resource (scheduling again moves it). */
  resourceSid: string;
  /** When, in ms since the epoch. */
  dueAtMs: number;
}

export interface Timer extends NewTimer {
  id: number;
}

export interface TimerReads {
  /** The earliest due time of any timer, or null when there is none. */
  nextTimerDue(): Promise<number | null>;
}

export interface TimerWrites {
  scheduleTimer(timer: NewTimer): Promise<void>;
  cancelTimer(kind: string, resourceSid: string): Promise<void>;
  /**
   * Takes up to `limit` timers due at `nowMs` (earliest first) out of the table for this
   * transaction: gone if it commits, back if it rolls back. While it runs, another node's
   * transaction passes them by (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite has one writer).
   */
  claimDueTimers(nowMs: number, limit: number): Promise<Timer[]>;
}
