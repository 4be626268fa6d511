/**
 * A routing step's `skip_if`: evaluated only when no reservation was created as the task entered
 * the step, over counts of the step queue's members by activity (docs/routing.md, "skip_if").
 */
import type { Fields } from '../expressions/index.js';
import type { WorkflowTarget } from '../workflows/configuration.js';

/** The step queue's members, counted by activity. */
export interface QueueActivityCounts {
  /** Members in an available activity, whatever their capacity or reservations. */
  readonly available: number;
  readonly unavailable: number;
  /** Members per activity SID; every activity of the workspace has an entry, zero included. */
  readonly byActivity: ReadonlyMap<string, number>;
}

export interface MemberActivity {
  readonly activitySid: string;
  readonly available: boolean;
}

/**
 * Counts a queue's members. Every activity of the workspace starts at zero, so
 * `workers.WA… < 2` is true for an activity no member is in (rather than NULL, which would
 * make it false).
 */
export function countQueueMembers(
  members: Iterable<MemberActivity>,
  workspaceActivitySids: Iterable<string>,
): QueueActivityCounts {
  const byActivity = new Map<string, number>();
  for (const sid of workspaceActivitySids) byActivity.set(sid, 0);
  let available = 0;
  let unavailable = 0;
  for (const member of members) {
    if (member.available) available++;
    else unavailable++;
    byActivity.set(member.activitySid, (byActivity.get(member.activitySid) ?? 0) + 1);
  }
  return { available, unavailable, byActivity };
}

/** The fields `skip_if` reads: `workers.available`, `workers.unavailable`, `workers.WA…`. */
export function skipIfFields(counts: QueueActivityCounts): Fields {
  const workers: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [sid, count] of counts.byActivity) workers[sid] = count;
  // The two counters win over an activity SID of the same name (none can have it).
  workers['available'] = counts.available;
  workers['unavailable'] = counts.unavailable;
  return { workers };
}

/**
 * Whether the task skips this step: only when the step has a `skip_if`, no reservation was
 * created when the task entered it, and the expression is true. Task attributes are not in
 * scope: Twilio documents only the `workers.*` counters.
 */
export function shouldSkipStep(
  target: WorkflowTarget,
  counts: QueueActivityCounts,
  reservationCreated: boolean,
): boolean {
  if (target.skipIf === undefined || reservationCreated) return false;
  return target.skipIf.test(undefined, skipIfFields(counts));
}
