import { availableCapacityPercentage, type WorkersRealTimeStatistics } from '../domain/statistics.js';
import type {
  Activity,
  TaskChannel,
  TaskQueue,
  Worker,
  WorkerChannel,
  Workflow,
  Workspace,
} from '../domain/types.js';

/** ISO 8601 UTC without milliseconds, as Twilio writes dates. */
export function twilioDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Builds absolute URLs: `v1` is the public base URL followed by `/v1`. */
export interface Urls {
  v1: string;
}

export function workspaceUrl(urls: Urls, sid: string): string {
  return `${urls.v1}/Workspaces/${sid}`;
}

export function toWorkspaceJson(ws: Workspace, urls: Urls) {
  const url = workspaceUrl(urls, ws.sid);
  return {
    account_sid: ws.accountSid,
    date_created: twilioDate(ws.dateCreated),
    date_updated: twilioDate(ws.dateUpdated),
    default_activity_name: ws.defaultActivityName,
    default_activity_sid: ws.defaultActivitySid,
    event_callback_url: ws.eventCallbackUrl,
    events_filter: ws.eventsFilter,
    friendly_name: ws.friendlyName,
    multi_task_enabled: ws.multiTaskEnabled,
    prioritize_queue_order: ws.prioritizeQueueOrder,
    sid: ws.sid,
    timeout_activity_name: ws.timeoutActivityName,
    timeout_activity_sid: ws.timeoutActivitySid,
    url,
    links: {
      activities: `${url}/Activities`,
      statistics: `${url}/Statistics`,
      real_time_statistics: `${url}/RealTimeStatistics`,
      cumulative_statistics: `${url}/CumulativeStatistics`,
      task_queues: `${url}/TaskQueues`,
      tasks: `${url}/Tasks`,
      workers: `${url}/Workers`,
      workflows: `${url}/Workflows`,
      task_channels: `${url}/TaskChannels`,
      events: `${url}/Events`,
    },
  };
}

export function toActivityJson(a: Activity, urls: Urls) {
  const ws = workspaceUrl(urls, a.workspaceSid);
  return {
    account_sid: a.accountSid,
    available: a.available,
    date_created: twilioDate(a.dateCreated),
    date_updated: twilioDate(a.dateUpdated),
    friendly_name: a.friendlyName,
    sid: a.sid,
    workspace_sid: a.workspaceSid,
    url: `${ws}/Activities/${a.sid}`,
    links: { workspace: ws },
  };
}

export function toTaskChannelJson(c: TaskChannel, urls: Urls) {
  const ws = workspaceUrl(urls, c.workspaceSid);
  return {
    account_sid: c.accountSid,
    date_created: twilioDate(c.dateCreated),
    date_updated: twilioDate(c.dateUpdated),
    friendly_name: c.friendlyName,
    sid: c.sid,
    unique_name: c.uniqueName,
    workspace_sid: c.workspaceSid,
    channel_optimized_routing: c.channelOptimizedRouting,
    url: `${ws}/TaskChannels/${c.sid}`,
    links: { workspace: ws },
  };
}

export function toTaskQueueJson(q: TaskQueue, urls: Urls) {
  const ws = workspaceUrl(urls, q.workspaceSid);
  const url = `${ws}/TaskQueues/${q.sid}`;
  return {
    account_sid: q.accountSid,
    assignment_activity_sid: q.assignmentActivitySid,
    assignment_activity_name: q.assignmentActivityName,
    date_created: twilioDate(q.dateCreated),
    date_updated: twilioDate(q.dateUpdated),
    friendly_name: q.friendlyName,
    max_reserved_workers: q.maxReservedWorkers,
    reservation_activity_sid: q.reservationActivitySid,
    reservation_activity_name: q.reservationActivityName,
    sid: q.sid,
    target_workers: q.targetWorkers,
    task_order: q.taskOrder,
    url,
    workspace_sid: q.workspaceSid,
    // Activity links only for the activities the queue names.
    links: {
      ...(q.assignmentActivitySid === null
        ? {}
        : { assignment_activity: `${ws}/Activities/${q.assignmentActivitySid}` }),
      ...(q.reservationActivitySid === null
        ? {}
        : { reservation_activity: `${ws}/Activities/${q.reservationActivitySid}` }),
      workspace: ws,
      statistics: `${url}/Statistics`,
      real_time_statistics: `${url}/RealTimeStatistics`,
      cumulative_statistics: `${url}/CumulativeStatistics`,
      list_statistics: `${ws}/TaskQueues/Statistics`,
      bulk_real_time_statistics: `${ws}/TaskQueues/RealTimeStatistics`,
    },
  };
}

export function toWorkflowJson(f: Workflow, urls: Urls) {
  const ws = workspaceUrl(urls, f.workspaceSid);
  const url = `${ws}/Workflows/${f.sid}`;
  return {
    account_sid: f.accountSid,
    assignment_callback_url: f.assignmentCallbackUrl,
    configuration: f.configuration,
    date_created: twilioDate(f.dateCreated),
    date_updated: twilioDate(f.dateUpdated),
    document_content_type: 'application/json',
    fallback_assignment_callback_url: f.fallbackAssignmentCallbackUrl,
    friendly_name: f.friendlyName,
    sid: f.sid,
    task_reservation_timeout: f.taskReservationTimeout,
    workspace_sid: f.workspaceSid,
    url,
    links: {
      statistics: `${url}/Statistics`,
      real_time_statistics: `${url}/RealTimeStatistics`,
      cumulative_statistics: `${url}/CumulativeStatistics`,
    },
  };
}

export function toWorkerJson(w: Worker, urls: Urls) {
  const ws = workspaceUrl(urls, w.workspaceSid);
  const url = `${ws}/Workers/${w.sid}`;
  return {
    account_sid: w.accountSid,
    activity_name: w.activityName,
    activity_sid: w.activitySid,
    attributes: w.attributes,
    available: w.available,
    date_created: twilioDate(w.dateCreated),
    date_status_changed: twilioDate(w.dateStatusChanged),
    date_updated: twilioDate(w.dateUpdated),
    friendly_name: w.friendlyName,
    sid: w.sid,
    workspace_sid: w.workspaceSid,
    url,
    // Twilio's nine: `statistics` is the workspace's Workers/Statistics, `worker_statistics` this worker's.
    links: {
      channels: `${url}/Channels`,
      activity: `${ws}/Activities/${w.activitySid}`,
      workspace: ws,
      reservations: `${url}/Reservations`,
      statistics: `${ws}/Workers/Statistics`,
      real_time_statistics: `${ws}/Workers/RealTimeStatistics`,
      cumulative_statistics: `${ws}/Workers/CumulativeStatistics`,
      worker_statistics: `${url}/Statistics`,
      worker_channels: `${url}/Channels`,
    },
  };
}

/**
 * A worker in a list page. Twilio shows `attributes` only when a single worker is answered
 * (fetch, create, update); in list pages the spec has it null, and the SDK passes that on.
 */
export function toWorkerListItemJson(w: Worker, urls: Urls) {
  return { ...toWorkerJson(w, urls), attributes: null };
}

export function toWorkerChannelJson(c: WorkerChannel, urls: Urls) {
  return {
    account_sid: c.accountSid,
    assigned_tasks: c.assignedTasks,
    available: c.available,
    available_capacity_percentage: availableCapacityPercentage(c),
    configured_capacity: c.capacity,
    date_created: twilioDate(c.dateCreated),
    date_updated: twilioDate(c.dateUpdated),
    sid: c.sid,
    task_channel_sid: c.taskChannelSid,
    task_channel_unique_name: c.taskChannelUniqueName,
    worker_sid: c.workerSid,
    workspace_sid: c.workspaceSid,
    url: `${workspaceUrl(urls, c.workspaceSid)}/Workers/${c.workerSid}/Channels/${c.sid}`,
  };
}

export function toWorkersRealTimeStatisticsJson(
  stats: WorkersRealTimeStatistics,
  accountSid: string,
  workspaceSid: string,
  urls: Urls,
) {
  return {
    account_sid: accountSid,
    activity_statistics: stats.activityStatistics.map((a) => ({
      sid: a.sid,
      friendly_name: a.friendlyName,
      workers: a.workers,
    })),
    total_workers: stats.totalWorkers,
    workspace_sid: workspaceSid,
    url: `${workspaceUrl(urls, workspaceSid)}/Workers/RealTimeStatistics`,
  };
}

/**
 * JSON bodies kept by the answer object they encode (weakly): an answer a service hands out again,
 * unchanged, is encoded once. The caller keys by an object that fixes everything the body shows.
 */
export function bodyCache(): (answer: object, toJson: () => unknown) => string {
  const bodies = new WeakMap<object, string>();
  return (answer, toJson) => {
    let body = bodies.get(answer);
    if (body === undefined) {
      body = JSON.stringify(toJson());
      bodies.set(answer, body);
    }
    return body;
  };
}

/**
 * The statistics body, encoded once per statistics object: every way of serving the statistics
 * (the route and the event streams) sends exactly this text.
 */
export function statisticsEncoder(urls: Urls) {
  const encode = bodyCache();
  return (stats: WorkersRealTimeStatistics, accountSid: string, workspaceSid: string): string =>
    encode(stats, () => toWorkersRealTimeStatisticsJson(stats, accountSid, workspaceSid, urls));
}
