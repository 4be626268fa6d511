import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidParameterError } from '../../../domain/errors.js';
import { ErrorCode, twilioError } from '../../../twilio/errors.js';
import type { Params } from '../../../twilio/params.js';
import { bodyParams, type RouteDeps } from '../../context.js';
import { HttpError } from '../../errors.js';

/** Seconds as Advance takes them: a non-negative decimal, to the millisecond. */
const SECONDS = /^\d{1,10}(\.\d{1,3})?$/;
/** An ISO 8601 date and time with its offset (Z or ±hh:mm). */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** ms since the epoch of an ISO 8601 date-time, or NaN (also for a day the month lacks, e.g. 02-31). */
function parseIsoDateTime(value: string): number {
  if (!ISO_DATE_TIME.test(value)) return NaN;
  const [y, m, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  if (day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) return NaN;
  return Date.parse(value);
}

function oneString(params: Params, name: string): string | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new InvalidParameterError(name, `${name} must be given once, as a string`);
  return v;
}

/**
 * Roster's own clock (beyond Twilio): read it, and, when Roster runs with ROSTER_CLOCK=manual,
 * move it forward. A move answers once the timers due on the way (task TTLs, reservation
 * timeouts, workflow step timeouts) have fired, so a test can move the clock and then read.
 */
export function clockRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { clock, time } = deps.services;
  const url = `${deps.publicUrl}/roster/v1/Clock`;
  const json = (now: number) => ({
    mode: time ? 'manual' : 'system',
    now: new Date(now).toISOString(),
    now_ms: now,
    url,
  });
  const path = '/roster/v1/Clock';

  app.get(path, async () => json(clock.now()));

  app.post(path, async (req: FastifyRequest) => {
    if (!time) {
      throw new HttpError(
        twilioError(
          403,
          ErrorCode.forbidden,
          'The clock is the system clock: start Roster with ROSTER_CLOCK=manual to move it',
        ),
      );
    }
    const b = bodyParams(req);
    const advance = oneString(b, 'Advance');
    const at = oneString(b, 'Time');
    if ((advance === undefined) === (at === undefined)) {
      throw new InvalidParameterError(
        'Advance',
        'Send either Advance (seconds) or Time (ISO 8601), not both',
      );
    }
    if (advance !== undefined) {
      if (!SECONDS.test(advance)) {
        throw new InvalidParameterError(
          'Advance',
          `Advance must be a number of seconds (e.g. 30 or 0.25), got "${advance}"`,
        );
      }
      return json(await time.advance(Math.round(Number(advance) * 1000)));
    }
    const ms = parseIsoDateTime(at!);
    if (Number.isNaN(ms)) {
      throw new InvalidParameterError(
        'Time',
        `Time must be an ISO 8601 date and time with an offset (e.g. 2025-01-01T10:00:00Z), got "${at}"`,
      );
    }
    return json(await time.setTime(ms));
  });
}
