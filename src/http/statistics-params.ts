import type { CumulativeParams } from '../services/cumulative-statistics.js';
import { optionalDate, optionalInt, optionalString, type Params } from '../twilio/params.js';

/** Ten years: Minutes beyond that asks for more than any log holds (as the Events list). */
const MAX_MINUTES = 10 * 366 * 24 * 60;

/**
 * The window and channel parameters every cumulative (and combined) statistics request takes;
 * `SplitByWaitTime` only where the spec has it.
 */
export function cumulativeParams(q: Params, split: boolean): CumulativeParams {
  const taskChannel = optionalString(q, 'TaskChannel', 64);
  return {
    minutes: optionalInt(q, 'Minutes', 1, MAX_MINUTES),
    startDate: optionalDate(q, 'StartDate'),
    endDate: optionalDate(q, 'EndDate'),
    taskChannel: taskChannel === '' ? undefined : taskChannel,
    splitByWaitTime: split ? optionalString(q, 'SplitByWaitTime', 1024) : undefined,
  };
}
