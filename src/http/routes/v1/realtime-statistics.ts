import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidParameterError } from '../../../domain/errors.js';
import { isSid, SidPrefix } from '../../../domain/sid.js';
import { wantsEventStream } from '../../../live/index.js';
import { optionalString } from '../../../twilio/params.js';
import { bodyCache } from '../../../twilio/serialize.js';
import {
  toTaskQueueRealTimeStatisticsJson,
  toTaskQueuesBulkRealTimeStatisticsJson,
  toWorkflowRealTimeStatisticsJson,
  toWorkspaceRealTimeStatisticsJson,
} from '../../../twilio/serialize-statistics.js';
import { pathParams, pathSid, queryParams, type RouteDeps, workspaceOf } from '../../context.js';

/** Names of the queue SIDs in a bulk request's body, as callers spell them. */
const SID_LISTS = ['TaskQueueSids', 'task_queue_sids', 'TaskQueueSid', 'task_queue_sid'] as const;
const CHANNELS = ['TaskChannel', 'task_channel'] as const;

/**
 * The bulk request's body: the spec leaves it open (twilio-node sends the caller's object as
 * JSON), so it is read leniently: a JSON array of TaskQueue SIDs (or of objects with
 * `task_queue_sid`), or an object (JSON or form) with `TaskQueueSids` (or `task_queue_sids`, or
 * one `TaskQueueSid`), and optionally `TaskChannel`.
 */
export function parseBulkQueueRequest(body: unknown): { taskQueueSids: string[]; taskChannel?: string } {
  let items: unknown[] = [];
  let taskChannel: string | undefined;
  if (Array.isArray(body)) {
    items = body;
  } else if (body !== null && typeof body === 'object') {
    const params = body as Record<string, unknown>;
    const listName = SID_LISTS.find((n) => params[n] !== undefined);
    const list = listName === undefined ? undefined : params[listName];
    items = list === undefined ? [] : Array.isArray(list) ? list : [list];
    const channelName = CHANNELS.find((n) => params[n] !== undefined);
    taskChannel = channelName === undefined ? undefined : optionalString(params, channelName);
  }
  const taskQueueSids = items.map((item) => {
    const sid =
      item !== null && typeof item === 'object'
        ? ((item as Record<string, unknown>).task_queue_sid ?? (item as Record<string, unknown>).TaskQueueSid)
        : item;
    if (typeof sid !== 'string' || !isSid(sid, SidPrefix.taskQueue)) {
      throw new InvalidParameterError(
        'TaskQueueSids',
        `Invalid parameter TaskQueueSids: expected TaskQueue SIDs, got ${JSON.stringify(sid)?.slice(0, 64)}`,
      );
    }
    return sid;
  });
  if (taskQueueSids.length === 0) {
    throw new InvalidParameterError(
      'TaskQueueSids',
      'Missing required parameter TaskQueueSids in the post body',
    );
  }
  return { taskQueueSids, taskChannel: taskChannel === '' ? undefined : taskChannel };
}

/**
 * RealTimeStatistics of the workspace, of a TaskQueue, of a Workflow, and of TaskQueues in bulk.
 * Each GET also answers `Accept: text/event-stream` with the same payload pushed on every change,
 * as Workers/RealTimeStatistics does (src/live/statistics-streams.ts).
 */
export function realTimeStatisticsRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { statistics } = deps.services;
  const base = '/v1/Workspaces/:WorkspaceSid';

  /**
   * Bodies by answer: the service answers the same object while nothing it shows has changed (the
   * store's counts and the ages in whole seconds), and an answer belongs to one workspace and
   * account, so its body is encoded once.
   */
  const encodeOnce = bodyCache();

  /** The JSON body, or the stream of it under `resource` (the path below the workspace). */
  const serve = (
    req: FastifyRequest,
    reply: FastifyReply,
    resource: string,
    load: (taskChannel: string | undefined) => Promise<string>,
  ) => {
    const workspaceSid = workspaceOf(req);
    const asked = optionalString(queryParams(req), 'TaskChannel');
    const encode = () => load(asked === '' ? undefined : asked);
    // HEAD is answered as the GET it stands for, never as a stream that would never end.
    if (req.method === 'GET' && wantsEventStream(req)) {
      const key = { accountSid: req.accountSid, workspaceSid, resource, taskChannel: asked ?? '' };
      return app.statisticsStreams.open(req, reply, key, encode);
    }
    reply.type('application/json; charset=utf-8');
    return encode();
  };

  app.get(`${base}/RealTimeStatistics`, (req, reply) => {
    const ws = workspaceOf(req);
    return serve(req, reply, 'RealTimeStatistics', async (channel) => {
      const stats = await statistics.workspaceRealTime(req.accountSid, ws, channel);
      return encodeOnce(stats, () => toWorkspaceRealTimeStatisticsJson(stats, req.accountSid, ws, deps.urls));
    });
  });

  app.get(`${base}/TaskQueues/:TaskQueueSid/RealTimeStatistics`, (req, reply) => {
    const ws = workspaceOf(req);
    const queue = pathSid(pathParams(req).TaskQueueSid, SidPrefix.taskQueue, 'TaskQueue');
    return serve(req, reply, `TaskQueues/${queue}/RealTimeStatistics`, async (channel) => {
      const stats = await statistics.taskQueueRealTime(req.accountSid, ws, queue, channel);
      return encodeOnce(stats, () => toTaskQueueRealTimeStatisticsJson(stats, req.accountSid, ws, deps.urls));
    });
  });

  app.get(`${base}/Workflows/:WorkflowSid/RealTimeStatistics`, (req, reply) => {
    const ws = workspaceOf(req);
    const workflow = pathSid(pathParams(req).WorkflowSid, SidPrefix.workflow, 'Workflow');
    return serve(req, reply, `Workflows/${workflow}/RealTimeStatistics`, async (channel) => {
      const stats = await statistics.workflowRealTime(req.accountSid, ws, workflow, channel);
      return encodeOnce(stats, () => toWorkflowRealTimeStatisticsJson(stats, req.accountSid, ws, deps.urls));
    });
  });

  // No cap on the number of queues (Twilio's is 50 a request).
  app.post(`${base}/TaskQueues/RealTimeStatistics`, async (req) => {
    const ws = workspaceOf(req);
    const { taskQueueSids, taskChannel } = parseBulkQueueRequest(req.body);
    const queues = await statistics.taskQueuesRealTime(req.accountSid, ws, taskQueueSids, taskChannel);
    return toTaskQueuesBulkRealTimeStatisticsJson(queues, req.accountSid, ws, deps.urls);
  });
}
