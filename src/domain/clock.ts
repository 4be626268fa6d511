/**
 * Time, injected: services and timers ask a clock, never `Date.now()`, so tests can set it.
 * Times are ms since the epoch.
 */
export interface Clock {
  now(): number;
  /** Calls `fire` once the clock reaches `at` (at once if it has); returns a cancel function. */
  setTimer(at: number, fire: () => void): () => void;
}

/** A clock that moves only when told to: `advance` fires the timers that come due, in time order. */
export class ManualClock implements Clock {
  private timers: { at: number; seq: number; fire: () => void }[] = [];
  private seq = 0;

  constructor(private time = 0) {}

  now(): number {
    return this.time;
  }

  setTimer(at: number, fire: () => void): () => void {
    const timer = { at, seq: this.seq++, fire };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by `ms`, firing each timer due by then at its own time. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.fire();
    }
    this.time = until;
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.length;
  }
}
