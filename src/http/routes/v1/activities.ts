import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SidPrefix } from '../../../domain/sid.js';
import type { Activity } from '../../../domain/types.js';
import { listResponse } from '../../../twilio/pagination.js';
import {
  optionalLenientBool,
  optionalName,
  optionalString,
  parsePageQuery,
  requiredName,
} from '../../../twilio/params.js';
import { toActivityJson } from '../../../twilio/serialize.js';
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

export function activityRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { activities } = deps.services;
  const json = (a: Activity) => toActivityJson(a, deps.urls);
  const sidOf = (req: FastifyRequest) => pathSid(pathParams(req).Sid, SidPrefix.activity, 'Activity');
  const base = '/v1/Workspaces/:WorkspaceSid/Activities';

  app.get(base, async (req) => {
    const ws = workspaceOf(req);
    const q = queryParams(req);
    const page = parsePageQuery(q);
    const filter = {
      friendlyName: optionalString(q, 'FriendlyName'),
      available: optionalLenientBool(q, 'Available'),
    };
    const result = await activities.list(req.accountSid, ws, filter, page);
    const filters = echoFilters(q, ['FriendlyName', 'Available']);
    return listResponse('activities', result, listRequest(req, deps, filters, page), json);
  });

  app.post(base, async (req, reply) => {
    const ws = workspaceOf(req);
    const b = bodyParams(req);
    const activity = await activities.create(req.accountSid, ws, {
      friendlyName: requiredName(b, 'FriendlyName'),
      available: optionalLenientBool(b, 'Available'),
    });
    return reply.code(201).send(json(activity));
  });

  app.get(`${base}/:Sid`, async (req) =>
    json(await activities.fetch(req.accountSid, workspaceOf(req), sidOf(req))),
  );

  app.post(`${base}/:Sid`, async (req) => {
    const ws = workspaceOf(req);
    const sid = sidOf(req);
    return json(
      await activities.update(req.accountSid, ws, sid, optionalName(bodyParams(req), 'FriendlyName')),
    );
  });

  app.delete(`${base}/:Sid`, async (req, reply) => {
    await activities.remove(req.accountSid, workspaceOf(req), sidOf(req));
    return reply.code(204).send();
  });
}
