import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidParameterError } from '../../../domain/errors.js';
import { SidPrefix } from '../../../domain/sid.js';
import type { Workflow } from '../../../domain/types.js';
import { listResponse } from '../../../twilio/pagination.js';
import {
  optionalInt,
  optionalLenientBool,
  optionalName,
  optionalString,
  optionalUrl,
  parsePageQuery,
  requiredName,
  type Params,
} from '../../../twilio/params.js';
import { toWorkflowJson } from '../../../twilio/serialize.js';
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

const MAX_RESERVATION_TIMEOUT = 86_400;
/** A routing document of 1,000 filters with 100 targets each fits well within this. */
const MAX_CONFIGURATION_LENGTH = 65_536;

function workflowParams(b: Params) {
  return {
    configuration: optionalString(b, 'Configuration', MAX_CONFIGURATION_LENGTH),
    assignmentCallbackUrl: optionalUrl(b, 'AssignmentCallbackUrl'),
    fallbackAssignmentCallbackUrl: optionalUrl(b, 'FallbackAssignmentCallbackUrl'),
    taskReservationTimeout: optionalInt(b, 'TaskReservationTimeout', 1, MAX_RESERVATION_TIMEOUT),
  };
}

export function workflowRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { workflows } = deps.services;
  const json = (f: Workflow) => toWorkflowJson(f, deps.urls);
  const sidOf = (req: FastifyRequest) => pathSid(pathParams(req).Sid, SidPrefix.workflow, 'Workflow');
  const base = '/v1/Workspaces/:WorkspaceSid/Workflows';

  app.get(base, async (req) => {
    const ws = workspaceOf(req);
    const q = queryParams(req);
    const page = parsePageQuery(q);
    const result = await workflows.list(
      req.accountSid,
      ws,
      { friendlyName: optionalString(q, 'FriendlyName') },
      page,
    );
    return listResponse(
      'workflows',
      result,
      listRequest(req, deps, echoFilters(q, ['FriendlyName']), page),
      json,
    );
  });

  app.post(base, async (req, reply) => {
    const ws = workspaceOf(req);
    const b = bodyParams(req);
    const friendlyName = requiredName(b, 'FriendlyName');
    const { configuration, ...rest } = workflowParams(b);
    if (configuration === undefined) {
      throw new InvalidParameterError(
        'Configuration',
        'Missing required parameter Configuration in the post body',
      );
    }
    const workflow = await workflows.create(req.accountSid, ws, { friendlyName, configuration, ...rest });
    return reply.code(201).send(json(workflow));
  });

  app.get(`${base}/:Sid`, async (req) =>
    json(await workflows.fetch(req.accountSid, workspaceOf(req), sidOf(req))),
  );

  app.post(`${base}/:Sid`, async (req) => {
    const ws = workspaceOf(req);
    const sid = sidOf(req);
    const b = bodyParams(req);
    const reEvaluate = optionalLenientBool(b, 'ReEvaluateTasks') === true;
    const patch = { friendlyName: optionalName(b, 'FriendlyName'), ...workflowParams(b) };
    return json(await workflows.update(req.accountSid, ws, sid, patch, reEvaluate));
  });

  app.delete(`${base}/:Sid`, async (req, reply) => {
    await workflows.remove(req.accountSid, workspaceOf(req), sidOf(req));
    return reply.code(204).send();
  });
}
