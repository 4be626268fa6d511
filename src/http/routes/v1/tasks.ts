import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { compileExpression, TASK_SCOPE } from '../../../domain/expressions/index.js';
import { InvalidParameterError } from '../../../domain/errors.js';
import { SidPrefix } from '../../../domain/sid.js';
import { MAX_TASK_TIMEOUT, versionEtag } from '../../../domain/tasks.js';
import type { Task, TaskStatus } from '../../../domain/types.js';
import { MAX_PRIORITY } from '../../../domain/workflows/configuration.js';
import type { TaskFilter, TaskOrderingKey } from '../../../services/ports/store.js';
import { listResponse } from '../../../twilio/pagination.js';
import {
  MAX_ATTRIBUTES_LENGTH,
  optionalDate,
  optionalEnum,
  optionalInt,
  optionalJsonObject,
  optionalLenientBool,
  optionalList,
  optionalSid,
  optionalString,
  parsePageQuery,
  type Params,
} from '../../../twilio/params.js';
import { toTaskJson } from '../../../twilio/serialize-routing.js';
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

export const TASK_STATUSES: readonly TaskStatus[] = [
  'pending',
  'reserved',
  'assigned',
  'canceled',
  'completed',
  'wrapping',
];
const TASK_FILTERS = [
  'Priority',
  'AssignmentStatus',
  'WorkflowSid',
  'WorkflowName',
  'TaskQueueSid',
  'TaskQueueName',
  'EvaluateTaskAttributes',
  'RoutingTarget',
  'Ordering',
  'HasAddons',
] as const;
const ORDERING_KEYS: readonly TaskOrderingKey[] = ['DateCreated', 'Priority', 'VirtualStartTime'];

export function ifMatchHeader(req: FastifyRequest): string | undefined {
  const v = req.headers['if-match'];
  return Array.isArray(v) ? v.join(',') : v;
}

/** `Ordering=Priority:desc,DateCreated:asc`; DateCreated with VirtualStartTime is refused (Twilio's rule). */
function parseOrdering(q: Params): TaskFilter['ordering'] {
  const text = optionalString(q, 'Ordering', 200);
  if (text === undefined || text.trim() === '') return undefined;
  const out: { key: TaskOrderingKey; direction: 'asc' | 'desc' }[] = [];
  for (const part of text.split(',')) {
    const [key, direction = 'asc', extra] = part.trim().split(':');
    if (
      extra !== undefined ||
      !ORDERING_KEYS.includes(key as TaskOrderingKey) ||
      (direction !== 'asc' && direction !== 'desc')
    ) {
      throw new InvalidParameterError(
        'Ordering',
        `Invalid parameter Ordering: ${part.trim().slice(0, 64)} is not Attribute:asc|desc with Attribute one of ${ORDERING_KEYS.join(', ')}`,
      );
    }
    if (out.some((o) => o.key === key))
      throw new InvalidParameterError('Ordering', `Invalid parameter Ordering: ${key} is given twice`);
    out.push({ key: key as TaskOrderingKey, direction });
  }
  const keys = out.map((o) => o.key);
  if (keys.includes('DateCreated') && keys.includes('VirtualStartTime')) {
    throw new InvalidParameterError(
      'Ordering',
      'Invalid parameter Ordering: DateCreated and VirtualStartTime cannot be paired',
    );
  }
  return out;
}

function statuses(q: Params): TaskStatus[] | undefined {
  const list = optionalList(q, 'AssignmentStatus');
  if (list === undefined) return undefined;
  for (const s of list) {
    if (!TASK_STATUSES.includes(s as TaskStatus)) {
      throw new InvalidParameterError(
        'AssignmentStatus',
        `Invalid parameter AssignmentStatus: expected one of ${TASK_STATUSES.join(', ')}`,
      );
    }
  }
  return list as TaskStatus[];
}

function attributesTest(source: string | undefined): ((t: Task) => boolean) | undefined {
  if (source === undefined || source.trim() === '') return undefined;
  const expression = compileExpression(source, { parameter: 'EvaluateTaskAttributes', scope: TASK_SCOPE });
  return (t) => expression.test(JSON.parse(t.attributes) as unknown, { sid: t.sid });
}

export function taskRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { tasks, clock } = deps.services;
  const base = '/v1/Workspaces/:WorkspaceSid/Tasks';
  const sidOf = (req: FastifyRequest) => pathSid(pathParams(req).Sid, SidPrefix.task, 'Task');
  const json = (t: Task) => toTaskJson(t, deps.urls, clock.now());
  const send = (reply: FastifyReply, t: Task, status = 200) =>
    reply.code(status).header('ETag', versionEtag(t)).send(json(t));

  app.get(base, async (req) => {
    const ws = workspaceOf(req);
    const q = queryParams(req);
    const page = parsePageQuery(q);
    const hasAddons = optionalLenientBool(q, 'HasAddons');
    const matches = attributesTest(optionalString(q, 'EvaluateTaskAttributes', MAX_ATTRIBUTES_LENGTH));
    const filter: TaskFilter = {
      assignmentStatus: statuses(q),
      workflowSid: optionalSid(q, 'WorkflowSid', SidPrefix.workflow),
      workflowName: optionalString(q, 'WorkflowName'),
      taskQueueSid: optionalSid(q, 'TaskQueueSid', SidPrefix.taskQueue),
      taskQueueName: optionalString(q, 'TaskQueueName'),
      routingTarget: optionalString(q, 'RoutingTarget'),
      priority: optionalInt(q, 'Priority', 0, MAX_PRIORITY),
      ordering: parseOrdering(q),
      // Roster has no Add-ons: HasAddons=true finds no task.
      matches: hasAddons === true ? () => false : matches,
    };
    const result = await tasks.list(req.accountSid, ws, filter, page);
    const filters = echoFilters(q, TASK_FILTERS);
    const status = statuses(q);
    if (status !== undefined) filters['AssignmentStatus'] = status.join(',');
    return listResponse('tasks', result, listRequest(req, deps, filters, page), json);
  });

  app.post(base, async (req, reply) => {
    const ws = workspaceOf(req);
    const b = bodyParams(req);
    const task = await tasks.create(req.accountSid, ws, {
      attributes: optionalJsonObject(b, 'Attributes'),
      workflowSid: optionalSid(b, 'WorkflowSid', SidPrefix.workflow),
      taskChannel: optionalString(b, 'TaskChannel'),
      priority: optionalInt(b, 'Priority', 0, MAX_PRIORITY),
      timeout: optionalInt(b, 'Timeout', 1, MAX_TASK_TIMEOUT),
      virtualStartTime: optionalDate(b, 'VirtualStartTime'),
      routingTarget: optionalString(b, 'RoutingTarget'),
      ignoreCapacity: optionalLenientBool(b, 'IgnoreCapacity'),
      taskQueueSid: optionalSid(b, 'TaskQueueSid', SidPrefix.taskQueue),
    });
    return send(reply, task, 201);
  });

  app.get(`${base}/:Sid`, async (req, reply) =>
    send(reply, await tasks.fetch(req.accountSid, workspaceOf(req), sidOf(req))),
  );

  app.post(`${base}/:Sid`, async (req, reply) => {
    const ws = workspaceOf(req);
    const sid = sidOf(req);
    const b = bodyParams(req);
    const input = {
      attributes: optionalJsonObject(b, 'Attributes'),
      assignmentStatus: optionalEnum(b, 'AssignmentStatus', TASK_STATUSES),
      reason: optionalString(b, 'Reason', 1024),
      priority: optionalInt(b, 'Priority', 0, MAX_PRIORITY),
      taskChannel: optionalString(b, 'TaskChannel'),
      virtualStartTime: optionalDate(b, 'VirtualStartTime'),
    };
    return send(reply, await tasks.update(req.accountSid, ws, sid, input, ifMatchHeader(req)));
  });

  app.delete(`${base}/:Sid`, async (req, reply) => {
    await tasks.remove(req.accountSid, workspaceOf(req), sidOf(req), ifMatchHeader(req));
    return reply.code(204).send();
  });
}
