import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidParameterError, NotFoundError } from '../../../domain/errors.js';
import type { TaskChannel } from '../../../domain/types.js';
import { listResponse } from '../../../twilio/pagination.js';
import {
  MAX_NAME_LENGTH,
  optionalBool,
  optionalName,
  parsePageQuery,
  requiredName,
} from '../../../twilio/params.js';
import { toTaskChannelJson } from '../../../twilio/serialize.js';
import {
  bodyParams,
  listRequest,
  pathParams,
  queryParams,
  type RouteDeps,
  workspaceOf,
} from '../../context.js';

const UNIQUE_NAME = /^[A-Za-z0-9_.-]+$/;

export function taskChannelRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { taskChannels } = deps.services;
  const json = (c: TaskChannel) => toTaskChannelJson(c, deps.urls);
  /** A TC SID or a unique name. */
  const sidOf = (req: FastifyRequest) => {
    const v = pathParams(req).Sid ?? '';
    if (v.length > MAX_NAME_LENGTH) throw new NotFoundError('TaskChannel', v.slice(0, MAX_NAME_LENGTH));
    return v;
  };
  const base = '/v1/Workspaces/:WorkspaceSid/TaskChannels';

  app.get(base, async (req) => {
    const ws = workspaceOf(req);
    const page = parsePageQuery(queryParams(req));
    const result = await taskChannels.list(req.accountSid, ws, page);
    return listResponse('channels', result, listRequest(req, deps, {}, page), json);
  });

  app.post(base, async (req, reply) => {
    const ws = workspaceOf(req);
    const b = bodyParams(req);
    const friendlyName = requiredName(b, 'FriendlyName');
    const uniqueName = requiredName(b, 'UniqueName');
    if (!UNIQUE_NAME.test(uniqueName)) {
      throw new InvalidParameterError(
        'UniqueName',
        'Invalid parameter UniqueName: use letters, digits, ".", "_" and "-"',
      );
    }
    const channel = await taskChannels.create(req.accountSid, ws, {
      friendlyName,
      uniqueName,
      channelOptimizedRouting: optionalBool(b, 'ChannelOptimizedRouting'),
    });
    return reply.code(201).send(json(channel));
  });

  app.get(`${base}/:Sid`, async (req) =>
    json(await taskChannels.fetch(req.accountSid, workspaceOf(req), sidOf(req))),
  );

  app.post(`${base}/:Sid`, async (req) => {
    const ws = workspaceOf(req);
    const sid = sidOf(req);
    const b = bodyParams(req);
    const patch = {
      friendlyName: optionalName(b, 'FriendlyName'),
      channelOptimizedRouting: optionalBool(b, 'ChannelOptimizedRouting'),
    };
    return json(await taskChannels.update(req.accountSid, ws, sid, patch));
  });

  app.delete(`${base}/:Sid`, async (req, reply) => {
    await taskChannels.remove(req.accountSid, workspaceOf(req), sidOf(req));
    return reply.code(204).send();
  });
}
