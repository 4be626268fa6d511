import type { ManualClock } from '../domain/clock.js';
import { InvalidParameterError } from '../domain/errors.js';
import type { Store } from '../services/ports/store.js';
import type { TimerService } from './timer-service.js';

/** The farthest one move may take the clock: a century, in ms. */
const MAX_MOVE_MS = 100 * 365.25 * 24 * 3600 * 1000;

/**
 * Moves a manual clock on request (`ROSTER_CLOCK=manual`, `POST /roster/v1/Clock`) and fires
 * the durable timers that come due on the way, each at its own time and in time order, before
 * the move resolves: a timer that fires at 10:00:30 and schedules another for 10:00:45 sees both
 * fire by a move to 10:01, at 10:00:30 and 10:00:45, exactly as the system clock would have.
 * Moves are taken one at a time; the clock never goes back.
 */
export class TimeControl {
  private moving: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: { clock: ManualClock; store: Store; timers: TimerService }) {}

  now(): number {
    return this.deps.clock.now();
  }

  /** Moves the clock forward by `ms`; resolves with the new time once the timers due by then fired. */
  advance(ms: number): Promise<number> {
    if (!Number.isFinite(ms) || ms < 0 || ms > MAX_MOVE_MS) {
      return Promise.reject(
        new InvalidParameterError('Advance', 'Advance must be a number of seconds from 0 to 3155760000'),
      );
    }
    return this.serially(() => this.moveTo(this.deps.clock.now() + ms));
  }

  /** Moves the clock to `at` (not before its time now); resolves as `advance` does. */
  setTime(at: number): Promise<number> {
    return this.serially(() => {
      const now = this.deps.clock.now();
      if (at < now) {
        throw new InvalidParameterError(
          'Time',
          `Time must not be before the clock's time ${new Date(now).toISOString()}: the clock only moves forward`,
        );
      }
      if (at - now > MAX_MOVE_MS) throw new InvalidParameterError('Time', 'Time is too far ahead');
      return this.moveTo(at);
    });
  }

  private serially(move: () => Promise<number>): Promise<number> {
    const result = this.moving.then(move);
    this.moving = result.catch(() => undefined);
    return result;
  }

  private async moveTo(target: number): Promise<number> {
    const { clock, store, timers } = this.deps;
    for (;;) {
      await timers.check(); // what is due at the clock's time now
      const next = await store.nextTimerDue();
      // Nothing (more) due on the way; or a timer due already did not fire (its firing failed and
      // is retried later, or another node holds it): go on rather than wait for it.
      if (next === null || next > target || next <= clock.now()) break;
      clock.advance(next - clock.now());
    }
    if (target > clock.now()) clock.advance(target - clock.now());
    await timers.check();
    return clock.now();
  }
}
