/**
 * Twilio's time-of-day keys for workflow expressions (time-of-day-routing): `taskrouter.currentTime`
 * (HHMM as an integer), `taskrouter.currentHour` ('HH'), `taskrouter.currentMin` ('MM') and
 * `taskrouter.dayOfWeek` ('Mon'…'Sun'), all in UTC, computed from the `now` passed in.
 */
import type { CompiledExpression, Fields } from '../expressions/index.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

/** Fields holding `taskrouter.*` at `now`, to sit beside a document's attributes. */
export function timeOfDayFields(now: Date): Fields {
  const hour = now.getUTCHours();
  const minute = now.getUTCMinutes();
  return {
    taskrouter: {
      currentTime: hour * 100 + minute,
      currentHour: String(hour).padStart(2, '0'),
      currentMin: String(minute).padStart(2, '0'),
      dayOfWeek: DAYS[now.getUTCDay()],
    },
  };
}

/** Whether the expression reads `taskrouter.*` from the given document (`worker`, `task`). */
export function readsTimeOfDay(expression: CompiledExpression | undefined, document: string): boolean {
  return expression?.keys.some((key) => key.document === document && key.path[0] === 'taskrouter') ?? false;
}
