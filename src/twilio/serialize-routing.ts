import { taskAgeSeconds } from '../domain/tasks.js';
import type { Reservation, Task } from '../domain/types.js';
import { twilioDate, workspaceUrl, type Urls } from './serialize.js';

/** A Task as Twilio answers it; `age` is its age at `nowMs` (the clock's). */
export function toTaskJson(t: Task, urls: Urls, nowMs: number) {
  const ws = workspaceUrl(urls, t.workspaceSid);
  const url = `${ws}/Tasks/${t.sid}`;
  return {
    account_sid: t.accountSid,
    age: taskAgeSeconds(t, nowMs),
    assignment_status: t.assignmentStatus,
    attributes: t.attributes,
    addons: null,
    date_created: twilioDate(t.dateCreated),
    date_updated: twilioDate(t.dateUpdated),
    task_queue_entered_date: t.queueEnteredMs === null ? null : twilioDate(new Date(t.queueEnteredMs)),
    priority: t.priority,
    reason: t.reason,
    sid: t.sid,
    task_queue_sid: t.taskQueueSid,
    task_queue_friendly_name: t.taskQueueFriendlyName,
    task_channel_sid: t.taskChannelSid,
    task_channel_unique_name: t.taskChannelUniqueName,
    timeout: t.timeout,
    workflow_sid: t.workflowSid,
    workflow_friendly_name: t.workflowFriendlyName,
    workspace_sid: t.workspaceSid,
    url,
    links: {
      ...(t.taskQueueSid === null ? {} : { task_queue: `${ws}/TaskQueues/${t.taskQueueSid}` }),
      ...(t.workflowSid === null ? {} : { workflow: `${ws}/Workflows/${t.workflowSid}` }),
      workspace: ws,
      reservations: `${url}/Reservations`,
    },
    virtual_start_time: twilioDate(new Date(t.virtualStartMs)),
    ignore_capacity: t.ignoreCapacity,
    routing_target: t.routingTarget,
  };
}

function reservationJson(r: Reservation, urls: Urls, url: string) {
  const ws = workspaceUrl(urls, r.workspaceSid);
  return {
    account_sid: r.accountSid,
    date_created: twilioDate(r.dateCreated),
    date_updated: twilioDate(r.dateUpdated),
    reservation_status: r.reservationStatus,
    sid: r.sid,
    task_sid: r.taskSid,
    worker_name: r.workerName,
    worker_sid: r.workerSid,
    workspace_sid: r.workspaceSid,
    url,
    links: {
      task: `${ws}/Tasks/${r.taskSid}`,
      worker: `${ws}/Workers/${r.workerSid}`,
      workspace: ws,
    },
  };
}

/** A reservation seen from its task: /Tasks/{WT}/Reservations/{WR}. */
export function toTaskReservationJson(r: Reservation, urls: Urls) {
  return reservationJson(
    r,
    urls,
    `${workspaceUrl(urls, r.workspaceSid)}/Tasks/${r.taskSid}/Reservations/${r.sid}`,
  );
}

/** A reservation seen from its worker: /Workers/{WK}/Reservations/{WR}. */
export function toWorkerReservationJson(r: Reservation, urls: Urls) {
  return reservationJson(
    r,
    urls,
    `${workspaceUrl(urls, r.workspaceSid)}/Workers/${r.workerSid}/Reservations/${r.sid}`,
  );
}
