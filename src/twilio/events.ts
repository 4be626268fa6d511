import type { DomainEvent } from '../services/ports/events.js';
import { twilioDate, workspaceUrl, type Urls } from './serialize.js';

/**
 * Events on the wire: the Event resource's JSON, its `event_data`, and the form parameters of
 * an event callback. The log keeps each resource's own fields (snake_case); Twilio names them
 * by resource (`worker_activity_name`, `task_queue_sid`, …), and callbacks carry the same
 * names in PascalCase (`WorkerActivityName`, `TaskQueueSid`, …).
 */

/** What a resource's fields are called in event data, by resource type; others keep their name. */
const FIELD_NAMES: Record<string, Record<string, string>> = {
  Worker: {
    friendly_name: 'worker_name',
    activity_sid: 'worker_activity_sid',
    activity_name: 'worker_activity_name',
    attributes: 'worker_attributes',
    available: 'worker_available',
    previous_activity_sid: 'worker_previous_activity_sid',
    previous_activity_name: 'worker_previous_activity_name',
    worker_channel_sid: 'worker_channel_sid',
    capacity: 'worker_channel_capacity',
    previous_capacity: 'worker_channel_previous_capacity',
    channel_available: 'worker_channel_available',
    assigned_tasks: 'worker_channel_task_count',
  },
  Activity: { friendly_name: 'activity_name', available: 'activity_available' },
  TaskChannel: { friendly_name: 'task_channel_name', unique_name: 'task_channel_unique_name' },
  TaskQueue: {
    friendly_name: 'task_queue_name',
    target_workers: 'task_queue_target_expression',
    previous_target_workers: 'task_queue_previous_target_expression',
    max_reserved_workers: 'task_queue_max_reserved_workers',
    task_order: 'task_queue_task_order',
    reservation_activity_sid: 'task_queue_reservation_activity_sid',
    assignment_activity_sid: 'task_queue_assignment_activity_sid',
  },
  Workflow: {
    friendly_name: 'workflow_name',
    assignment_callback_url: 'workflow_assignment_callback_url',
    fallback_assignment_callback_url: 'workflow_fallback_assignment_callback_url',
    task_reservation_timeout: 'workflow_task_reservation_timeout',
    filter_friendly_name: 'workflow_filter_name',
  },
  Workspace: { friendly_name: 'workspace_name' },
};

/** The prefix of a resource's other fields in event data; fields with a known prefix keep their name. */
const PREFIX: Record<string, string> = {
  Worker: 'worker_',
  Activity: 'activity_',
  TaskChannel: 'task_channel_',
  TaskQueue: 'task_queue_',
  Workflow: 'workflow_',
  Workspace: 'workspace_',
  Task: 'task_',
  Reservation: 'reservation_',
};
const KNOWN_PREFIXES = [
  'worker_',
  'task_',
  'reservation_',
  'workflow_',
  'workspace_',
  'activity_',
  'account_',
];

/** Names that differ from Twilio's whichever resource the event is about. */
const RENAMES: Record<string, string> = {
  task_queue_friendly_name: 'task_queue_name',
  workflow_friendly_name: 'workflow_name',
  instruction: 'reservation_instruction',
};

/** Fields that stay out of event data: the routing document is long and not Twilio's. */
const LEFT_OUT = new Set(['configuration', 'version', 'default_activity_sid', 'timeout_activity_sid']);

const SID_FIELD: Record<string, string> = {
  Worker: 'worker_sid',
  Activity: 'activity_sid',
  TaskChannel: 'task_channel_sid',
  TaskQueue: 'task_queue_sid',
  Workflow: 'workflow_sid',
  Workspace: 'workspace_sid',
  Task: 'task_sid',
  Reservation: 'reservation_sid',
};

/** Twilio's event data values are text: numbers and booleans as they print, objects as JSON. */
function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** `event_data` of an event, Twilio's names, every value text. */
export function eventData(e: DomainEvent, workspaceName: string): Record<string, string> {
  const out: Record<string, string> = {};
  const names = FIELD_NAMES[e.resourceType] ?? {};
  // A task's routing events (workflow.*, task-queue.entered, …) carry the task's fields.
  const aboutTask = typeof e.data.task_sid === 'string' && e.resourceType !== 'Worker';
  const prefix = aboutTask ? 'task_' : (PREFIX[e.resourceType] ?? '');
  const sidField = SID_FIELD[e.resourceType];
  if (sidField !== undefined) out[sidField] = e.resourceSid;
  for (const [key, value] of Object.entries(e.data)) {
    if (LEFT_OUT.has(key) || value === null || value === undefined) continue;
    if (key === 'time_in_previous_activity_ms') {
      out.worker_time_in_previous_activity = String(Math.floor(Number(value) / 1000));
      out.worker_time_in_previous_activity_ms = text(value);
      continue;
    }
    if (key === 'reason' && aboutTask) {
      out[e.type === 'task.completed' ? 'task_completed_reason' : 'task_canceled_reason'] = text(value);
      continue;
    }
    const name =
      RENAMES[key] ??
      (aboutTask ? undefined : names[key]) ??
      (KNOWN_PREFIXES.some((p) => key.startsWith(p)) ? key : `${prefix}${key}`);
    out[name] = text(value);
  }
  if (e.resourceType === 'Worker' && e.data.capacity !== undefined) {
    const capacity = Number(e.data.capacity);
    const assigned = Number(e.data.assigned_tasks ?? 0);
    out.worker_channel_available_capacity = String(
      capacity > 0 ? Math.max(0, Math.round((100 * (capacity - assigned)) / capacity)) : 0,
    );
  }
  out.workspace_sid = e.workspaceSid;
  out.workspace_name =
    e.resourceType === 'Workspace' ? text(e.data.friendly_name ?? workspaceName) : workspaceName;
  return out;
}

const LABEL: Record<string, string> = {
  Worker: 'Worker',
  Activity: 'Activity',
  TaskChannel: 'TaskChannel',
  TaskQueue: 'TaskQueue',
  Workflow: 'Workflow',
  Workspace: 'Workspace',
  Task: 'Task',
  Reservation: 'Reservation',
};

/** A sentence about the event, as Twilio's `description` (e.g. "Worker Alice updated to Available Activity"). */
export function eventDescription(e: DomainEvent): string {
  const label = LABEL[e.resourceType] ?? e.resourceType;
  const name = typeof e.data.friendly_name === 'string' ? e.data.friendly_name : e.resourceSid;
  const what = e.type.slice(e.type.indexOf('.') + 1);
  switch (e.type) {
    case 'worker.activity.update':
      return `Worker ${name} updated to ${text(e.data.activity_name)} Activity`;
    case 'worker.attributes.update':
      return `Worker ${name} attributes updated`;
    case 'worker.capacity.update':
      return `Worker ${name} ${text(e.data.task_channel_unique_name)} channel capacity updated to ${text(e.data.capacity)}`;
    case 'worker.channel.availability.update':
      return `Worker ${name} ${text(e.data.task_channel_unique_name)} channel availability updated to ${text(e.data.channel_available)}`;
    case 'task-queue.expression.updated':
      return `TaskQueue ${name} target expression updated`;
    default:
      return `${label} ${name} ${what.replace(/[.-]/g, ' ')}`;
  }
}

/** The URL of the resource an event is about (null for one Roster has no route for). */
export function resourceUrl(e: DomainEvent, urls: Urls): string | null {
  const ws = workspaceUrl(urls, e.workspaceSid);
  switch (e.resourceType) {
    case 'Workspace':
      return ws;
    case 'Worker':
      return `${ws}/Workers/${e.resourceSid}`;
    case 'Activity':
      return `${ws}/Activities/${e.resourceSid}`;
    case 'TaskChannel':
      return `${ws}/TaskChannels/${e.resourceSid}`;
    case 'TaskQueue':
      return `${ws}/TaskQueues/${e.resourceSid}`;
    case 'Workflow':
      return `${ws}/Workflows/${e.resourceSid}`;
    case 'Task':
      return `${ws}/Tasks/${e.resourceSid}`;
    case 'Reservation':
      return typeof e.data.task_sid === 'string'
        ? `${ws}/Tasks/${e.data.task_sid}/Reservations/${e.resourceSid}`
        : null;
    default:
      return null;
  }
}

const SYSTEM = 'system';

export function toEventJson(e: DomainEvent, workspaceName: string, urls: Urls) {
  const ws = workspaceUrl(urls, e.workspaceSid);
  // Changes made through the API are the account's; those Roster makes itself (timers,
  // routing) are the workspace's, as Twilio's examples show them.
  const bySystem = e.actor === SYSTEM;
  return {
    account_sid: e.accountSid,
    actor_sid: bySystem ? e.workspaceSid : e.actor,
    actor_type: bySystem ? 'workspace' : 'account',
    actor_url: bySystem ? ws : null,
    description: eventDescription(e),
    event_data: eventData(e, workspaceName),
    event_date: twilioDate(new Date(e.timeMs)),
    event_date_ms: e.timeMs,
    event_type: e.type,
    resource_sid: e.resourceSid,
    resource_type: e.resourceType.toLowerCase(),
    resource_url: resourceUrl(e, urls),
    sid: e.sid,
    source: bySystem ? 'twilio' : 'api',
    source_ip_address: e.sourceIp,
    workspace_sid: e.workspaceSid,
    url: `${ws}/Events/${e.sid}`,
  };
}

/** `worker_activity_name` → `WorkerActivityName`. */
export function pascalCase(snake: string): string {
  return snake
    .split('_')
    .map((w) => (w === '' ? '' : w[0]!.toUpperCase() + w.slice(1)))
    .join('');
}

/** The form parameters of an event callback, as Twilio POSTs them to EventCallbackUrl. */
export function eventCallbackParams(e: DomainEvent, workspaceName: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(eventData(e, workspaceName))) params[pascalCase(k)] = v;
  return {
    ...params,
    EventType: e.type,
    AccountSid: e.accountSid,
    WorkspaceSid: e.workspaceSid,
    WorkspaceName: workspaceName,
    EventDescription: eventDescription(e),
    ResourceType: e.resourceType,
    ResourceSid: e.resourceSid,
    Sid: e.sid,
    Timestamp: String(Math.floor(e.timeMs / 1000)),
    TimestampMs: String(e.timeMs),
  };
}
