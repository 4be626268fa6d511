import type { FastifyInstance } from 'fastify';
import { SidPrefix } from '../../../domain/sid.js';
import type { QueueOrder } from '../../../domain/types.js';
import { listResponse } from '../../../twilio/pagination.js';
import {
  optionalEnum,
  optionalName,
  optionalSid,
  optionalBool,
  optionalString,
  optionalUrl,
  parsePageQuery,
  requiredName,
} from '../../../twilio/params.js';
import { toWorkspaceJson } from '../../../twilio/serialize.js';
import {
  bodyParams,
  echoFilters,
  listRequest,
  pathParams,
  pathSid,
  queryParams,
  type RouteDeps,
} from '../../context.js';

const QUEUE_ORDERS: readonly QueueOrder[] = ['FIFO', 'LIFO'];

export function workspaceRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { workspaces } = deps.services;
  const json = (ws: Parameters<typeof toWorkspaceJson>[0]) => toWorkspaceJson(ws, deps.urls);
  const sidOf = (req: Parameters<typeof pathParams>[0]) =>
    pathSid(pathParams(req).Sid, SidPrefix.workspace, 'Workspace');

  app.get('/v1/Workspaces', async (req) => {
    const q = queryParams(req);
    const page = parsePageQuery(q);
    const friendlyName = optionalString(q, 'FriendlyName');
    const result = await workspaces.list(
      req.accountSid,
      friendlyName === undefined ? {} : { friendlyName },
      page,
    );
    return listResponse(
      'workspaces',
      result,
      listRequest(req, deps, echoFilters(q, ['FriendlyName']), page),
      json,
    );
  });

  app.post('/v1/Workspaces', async (req, reply) => {
    const b = bodyParams(req);
    const ws = await workspaces.create(req.accountSid, {
      friendlyName: requiredName(b, 'FriendlyName'),
      eventCallbackUrl: optionalUrl(b, 'EventCallbackUrl'),
      eventsFilter: optionalString(b, 'EventsFilter', 1024),
      multiTaskEnabled: optionalBool(b, 'MultiTaskEnabled'),
      prioritizeQueueOrder: optionalEnum(b, 'PrioritizeQueueOrder', QUEUE_ORDERS),
    });
    return reply.code(201).send(json(ws));
  });

  app.get('/v1/Workspaces/:Sid', async (req) => json(await workspaces.fetch(req.accountSid, sidOf(req))));

  app.post('/v1/Workspaces/:Sid', async (req) => {
    const sid = sidOf(req);
    const b = bodyParams(req);
    const ws = await workspaces.update(req.accountSid, sid, {
      friendlyName: optionalName(b, 'FriendlyName'),
      eventCallbackUrl: optionalUrl(b, 'EventCallbackUrl'),
      eventsFilter: optionalString(b, 'EventsFilter', 1024),
      multiTaskEnabled: optionalBool(b, 'MultiTaskEnabled'),
      prioritizeQueueOrder: optionalEnum(b, 'PrioritizeQueueOrder', QUEUE_ORDERS),
      defaultActivitySid: optionalSid(b, 'DefaultActivitySid', SidPrefix.activity),
      timeoutActivitySid: optionalSid(b, 'TimeoutActivitySid', SidPrefix.activity),
    });
    return json(ws);
  });

  app.delete('/v1/Workspaces/:Sid', async (req, reply) => {
    await workspaces.remove(req.accountSid, sidOf(req));
    return reply.code(204).send();
  });
}
