import type { Clock } from '../domain/clock.js';

/** setTimeout's longest delay; longer waits re-arm. */
const MAX_DELAY = 2 ** 31 - 1;

/** The real clock. Its timers do not keep the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(at, fire) {
    let handle: NodeJS.Timeout;
    const arm = () => {
      const wait = at - Date.now();
      if (wait <= 0) return fire();
      handle = setTimeout(arm, Math.min(wait, MAX_DELAY));
      handle.unref();
    };
    handle = setTimeout(arm, 0);
    handle.unref();
    return () => clearTimeout(handle);
  },
};
