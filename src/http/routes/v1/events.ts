import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidParameterError } from '../../../domain/errors.js';
import { lastEventIdOf, wantsEventStream } from '../../../live/sse.js';
import { SidPrefix } from '../../../domain/sid.js';
import type { EventDelivery } from '../../../services/ports/store.js';
import { eventCallbackParams, toEventJson } from '../../../twilio/events.js';
import { listResponse } from '../../../twilio/pagination.js';
import {
  optionalDate,
  optionalEnum,
  optionalInt,
  optionalSid,
  optionalString,
  parsePageQuery,
  type Params,
} from '../../../twilio/params.js';
import {
  bodyParams,
  echoFilters,
  listRequest,
  pathParams,
  pathSid,
  queryParams,
  type RouteDeps,
  workspaceOf,
} from '../../context.js';

/** Ten years: Minutes beyond that asks for more than any log holds. */
const MAX_MINUTES = 10 * 366 * 24 * 60;

const FILTERS = [
  'EventType',
  'Minutes',
  'StartDate',
  'EndDate',
  'ReservationSid',
  'TaskQueueSid',
  'TaskSid',
  'WorkerSid',
  'WorkflowSid',
  'TaskChannel',
  'Sid',
] as const;

function eventQuery(q: Params) {
  return {
    type: optionalString(q, 'EventType', 128),
    minutes: optionalInt(q, 'Minutes', 1, MAX_MINUTES),
    startDate: optionalDate(q, 'StartDate'),
    endDate: optionalDate(q, 'EndDate'),
    reservationSid: optionalSid(q, 'ReservationSid', SidPrefix.reservation),
    taskQueueSid: optionalSid(q, 'TaskQueueSid', SidPrefix.taskQueue),
    taskSid: optionalSid(q, 'TaskSid', SidPrefix.task),
    workerSid: optionalSid(q, 'WorkerSid', SidPrefix.worker),
    workflowSid: optionalSid(q, 'WorkflowSid', SidPrefix.workflow),
    taskChannel: optionalString(q, 'TaskChannel', 64),
    sid: optionalSid(q, 'Sid', SidPrefix.event),
  };
}

export function eventRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { events } = deps.services;
  const sidOf = (req: FastifyRequest) => pathSid(pathParams(req).Sid, SidPrefix.event, 'Event');
  const base = '/v1/Workspaces/:WorkspaceSid/Events';

  app.get(base, async (req, reply) => {
    const ws = workspaceOf(req);
    const q = queryParams(req);
    // HEAD is answered as the GET it stands for, never as a stream that would never end.
    if (req.method === 'GET' && wantsEventStream(req)) {
      const stream = await events.stream(req.accountSid, ws, eventQuery(q), lastEventIdOf(req));
      return app.eventStreams.open(reply, stream);
    }
    const page = parsePageQuery(q);
    const result = await events.list(req.accountSid, ws, eventQuery(q), page);
    return listResponse('events', result.page, listRequest(req, deps, echoFilters(q, FILTERS), page), (e) =>
      toEventJson(e, result.workspaceName, deps.urls),
    );
  });

  app.get(`${base}/:Sid`, async (req) => {
    const { event, workspaceName } = await events.fetch(req.accountSid, workspaceOf(req), sidOf(req));
    return toEventJson(event, workspaceName, deps.urls);
  });

  // Roster's own (not Twilio's): what became of the event callbacks, and replay.
  const deliveries = '/roster/v1/Workspaces/:WorkspaceSid/EventCallbacks';
  app.get(deliveries, async (req) => {
    const ws = workspaceOf(req);
    const q = queryParams(req);
    const page = parsePageQuery(q);
    const state = optionalEnum(q, 'State', ['pending', 'failed'] as const) ?? 'pending';
    const result = await events.deliveries(req.accountSid, ws, state, page);
    return listResponse(
      'event_callbacks',
      result,
      listRequest(req, deps, echoFilters(q, ['State']), page),
      (d: EventDelivery) => ({
        event_sid: d.event.sid,
        event_type: d.event.type,
        event_date_ms: d.event.timeMs,
        url: d.url,
        state: d.state,
        attempts: d.attempts,
        first_attempt_ms: d.firstAttemptMs,
        next_attempt_ms: d.state === 'pending' ? d.nextAttemptMs : null,
        last_status: d.lastStatus,
        last_error: d.lastError,
        parameters: eventCallbackParams(d.event, ''),
      }),
    );
  });

  app.post(`${deliveries}/Replay`, async (req) => {
    const ws = workspaceOf(req);
    const b = bodyParams(req);
    const start = optionalDate(b, 'StartDate');
    const end = optionalDate(b, 'EndDate');
    if (start === undefined)
      throw new InvalidParameterError('StartDate', 'Missing required parameter StartDate');
    const now = deps.services.clock.now();
    const queued = await events.replay(req.accountSid, ws, start.getTime(), end?.getTime() ?? now);
    return { workspace_sid: ws, queued };
  });
}
