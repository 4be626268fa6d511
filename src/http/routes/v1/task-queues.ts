import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SidPrefix } from '../../../domain/sid.js';
import { MAX_RESERVED_WORKERS } from '../../../domain/task-queues.js';
import type { TaskQueue } from '../../../domain/types.js';
import { listResponse } from '../../../twilio/pagination.js';
import {
  MAX_ATTRIBUTES_LENGTH,
  optionalEnum,
  optionalInt,
  optionalJsonObject,
  optionalName,
  optionalOrdering,
  optionalSid,
  optionalString,
  parsePageQuery,
  requiredName,
  type Params,
} from '../../../twilio/params.js';
import { toTaskQueueJson } from '../../../twilio/serialize.js';
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

const FILTERS = ['FriendlyName', 'EvaluateWorkerAttributes', 'WorkerSid', 'Ordering'] as const;
const TASK_ORDERS = ['FIFO', 'LIFO'] as const;
/** TaskQueues are listed in creation order (Twilio's default), or by last update; either way. */
const ORDERINGS = ['DateCreated', 'DateUpdated'] as const;

/** The parameters a create and an update share. */
function queueParams(b: Params) {
  return {
    targetWorkers: optionalString(b, 'TargetWorkers', MAX_ATTRIBUTES_LENGTH),
    maxReservedWorkers: optionalInt(b, 'MaxReservedWorkers', 1, MAX_RESERVED_WORKERS),
    taskOrder: optionalEnum(b, 'TaskOrder', TASK_ORDERS),
    reservationActivitySid: optionalSid(b, 'ReservationActivitySid', SidPrefix.activity),
    assignmentActivitySid: optionalSid(b, 'AssignmentActivitySid', SidPrefix.activity),
  };
}

export function taskQueueRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { taskQueues } = deps.services;
  const json = (q: TaskQueue) => toTaskQueueJson(q, deps.urls);
  const sidOf = (req: FastifyRequest) => pathSid(pathParams(req).Sid, SidPrefix.taskQueue, 'TaskQueue');
  const base = '/v1/Workspaces/:WorkspaceSid/TaskQueues';

  app.get(base, async (req) => {
    const ws = workspaceOf(req);
    const q = queryParams(req);
    const page = parsePageQuery(q);
    const ordering = optionalOrdering(q, ORDERINGS);
    const filter = {
      order: ordering && {
        by: ordering.attribute === 'DateCreated' ? ('dateCreated' as const) : ('dateUpdated' as const),
        direction: ordering.direction,
      },
      friendlyName: optionalString(q, 'FriendlyName'),
      workerSid: optionalSid(q, 'WorkerSid', SidPrefix.worker),
      evaluateWorkerAttributes: optionalJsonObject(q, 'EvaluateWorkerAttributes'),
    };
    const result = await taskQueues.list(req.accountSid, ws, filter, page);
    return listResponse('task_queues', result, listRequest(req, deps, echoFilters(q, FILTERS), page), json);
  });

  app.post(base, async (req, reply) => {
    const ws = workspaceOf(req);
    const b = bodyParams(req);
    const queue = await taskQueues.create(req.accountSid, ws, {
      friendlyName: requiredName(b, 'FriendlyName'),
      ...queueParams(b),
    });
    return reply.code(201).send(json(queue));
  });

  app.get(`${base}/:Sid`, async (req) =>
    json(await taskQueues.fetch(req.accountSid, workspaceOf(req), sidOf(req))),
  );

  app.post(`${base}/:Sid`, async (req) => {
    const ws = workspaceOf(req);
    const sid = sidOf(req);
    const b = bodyParams(req);
    const input = { friendlyName: optionalName(b, 'FriendlyName'), ...queueParams(b) };
    return json(await taskQueues.update(req.accountSid, ws, sid, input));
  });

  app.delete(`${base}/:Sid`, async (req, reply) => {
    await taskQueues.remove(req.accountSid, workspaceOf(req), sidOf(req));
    return reply.code(204).send();
  });
}
