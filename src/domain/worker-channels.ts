import { isChannelEligible } from './statistics.js';

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
