/**
 * Which resources an event pertains to, for the Events list's filters (TaskSid, WorkerSid, …):
 * the resource itself, and the SIDs its data names (a reservation's task, worker, queue and
 * workflow; a worker channel's task channel).
 */
export interface EventRefs {
  taskSid: string | null;
  reservationSid: string | null;
  workerSid: string | null;
  taskQueueSid: string | null;
  workflowSid: string | null;
  taskChannelSid: string | null;
}

const REFS: ReadonlyArray<[keyof EventRefs, resourceType: string, dataKey: string]> = [
  ['taskSid', 'Task', 'task_sid'],
  ['reservationSid', 'Reservation', 'reservation_sid'],
  ['workerSid', 'Worker', 'worker_sid'],
  ['taskQueueSid', 'TaskQueue', 'task_queue_sid'],
  ['workflowSid', 'Workflow', 'workflow_sid'],
  ['taskChannelSid', 'TaskChannel', 'task_channel_sid'],
];

export function eventRefs(e: {
  resourceType: string;
  resourceSid: string;
  data: Record<string, unknown>;
}): EventRefs {
  const refs = {} as EventRefs;
  for (const [key, resourceType, dataKey] of REFS) {
    const value = e.resourceType === resourceType ? e.resourceSid : e.data[dataKey];
    refs[key] = typeof value === 'string' && value !== '' ? value : null;
  }
  return refs;
}

/**
 * Whether a workspace's EventsFilter lets an event type through to its EventCallbackUrl: every
 * type when there is no filter, otherwise the types it lists (comma-separated). The store's
 * trigger that queues deliveries applies the same rule in SQL (migration 010).
 */
export function passesEventsFilter(filter: string | null, type: string): boolean {
  if (filter === null || filter.trim() === '') return true;
  return filter
    .split(',')
    .map((t) => t.trim())
    .includes(type);
}

/** Retries of a failed callback: doubling from `baseMs`, at most `maxMs` apart. */
export function nextRetryDelay(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(30, attempts - 1)));
}
