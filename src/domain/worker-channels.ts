import { isChannelEligible } from './statistics.js';
import { isSid, SidPrefix } from './sid.js';
import { DEFAULT_WORKER_CHANNEL } from './defaults.js';

export interface WorkerChannelState {
  capacity: number;
  available: boolean;
}

/**
 * What a worker channel update changes: the events it causes (Twilio's names; none for a value
 * the channel has already, so an update that changes nothing has no events) and whether the
 * channel moves in or out of its task channel's statistics.
 */
export function workerChannelChange(
  before: WorkerChannelState,
  patch: Partial<WorkerChannelState>,
): { after: WorkerChannelState; eventTypes: string[]; eligibilityChanged: boolean } {
  const after = {
    capacity: patch.capacity ?? before.capacity,
    available: patch.available ?? before.available,
  };
  const eventTypes: string[] = [];
  if (after.capacity !== before.capacity) eventTypes.push('worker.capacity.update');
  if (after.available !== before.available) eventTypes.push('worker.channel.availability.update');
  return { after, eventTypes, eligibilityChanged: isChannelEligible(before) !== isChannelEligible(after) };
}

const hex8 = (s: string, at: number): number => parseInt(s.slice(at, at + 8), 16);

/** The 32 hex digits after two SIDs' prefixes, XORed (lower case). */
function xorBodies(a: string, b: string): string {
  let out = '';
  for (let at = 2; at < 34; at += 8) {
    out += ((hex8(a, at) ^ hex8(b, at)) >>> 0).toString(16).padStart(8, '0');
  }
  return out;
}

/**
 * A worker channel's SID, derived from its worker's and task channel's SIDs (WC, then their
 * 32 hex digits XORed): a worker channel at its defaults has no row of its own, yet its SID
 * stays the same at every read, and from the worker's SID it gives back its task channel's
 * (`taskChannelOfWorkerChannel`). Distinct per worker, since its task channels' SIDs are.
 */
export function workerChannelSid(workerSid: string, taskChannelSid: string): string {
  return SidPrefix.workerChannel + xorBodies(workerSid.toLowerCase(), taskChannelSid.toLowerCase());
}

/** The task channel SID a worker channel SID stands for, for that worker; null if it is no WC SID. */
export function taskChannelOfWorkerChannel(workerSid: string, workerChannelSid: string): string | null {
  if (!isSid(workerChannelSid, SidPrefix.workerChannel) || !isSid(workerSid, SidPrefix.worker)) return null;
  return SidPrefix.taskChannel + xorBodies(workerSid.toLowerCase(), workerChannelSid.toLowerCase());
}

/** Whether a worker channel has the defaults, and so needs no row of its own. */
export function isDefaultChannel(c: {
  capacity: number;
  available: boolean;
  assignedTasks?: number;
}): boolean {
  return (
    c.capacity === DEFAULT_WORKER_CHANNEL.capacity &&
    c.available === DEFAULT_WORKER_CHANNEL.available &&
    (c.assignedTasks ?? 0) === 0
  );
}
