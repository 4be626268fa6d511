import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '../../../domain/errors.js';
import { SidPrefix } from '../../../domain/sid.js';
import { compileTargetWorkers, matchesQueue, workerDocument } from '../../../domain/task-queues.js';
import type { WorkersRealTimeStatistics } from '../../../domain/statistics.js';
import type { Worker, WorkerChannel } from '../../../domain/types.js';
import type { WorkerPatch } from '../../../services/ports/store.js';
import { wantsEventStream } from '../../../live/index.js';
import { workerEtag } from '../../../services/workers.js';
import { listResponse } from '../../../twilio/pagination.js';
import {
  MAX_ATTRIBUTES_LENGTH,
  MAX_NAME_LENGTH,
  optionalBool,
  optionalEnum,
  optionalInt,
  optionalJsonObject,
  optionalLenientBool,
  optionalName,
  optionalSid,
  optionalString,
  parsePageQuery,
  requiredName,
  type Params,
} from '../../../twilio/params.js';
import { toWorkerChannelJson, toWorkerJson, toWorkerListItemJson } from '../../../twilio/serialize.js';
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

const WORKER_FILTERS = [
  'ActivityName',
  'ActivitySid',
  'Available',
  'FriendlyName',
  'TargetWorkersExpression',
  'TaskQueueName',
  'TaskQueueSid',
  'Ordering',
] as const;
const ORDERINGS = ['DateStatusChanged:asc', 'DateStatusChanged:desc'] as const;
const MAX_CAPACITY = 1000;

function ifMatch(req: FastifyRequest): string | undefined {
  const v = req.headers['if-match'];
  return Array.isArray(v) ? v.join(',') : v;
}

/** TargetWorkersExpression as a test of a worker (attributes and fields); empty is no filter. */
function targetWorkersTest(source: string | undefined): ((w: Worker) => boolean) | undefined {
  if (source === undefined || source.trim() === '') return undefined;
  const expression = compileTargetWorkers(source, 'TargetWorkersExpression');
  return (w) => matchesQueue(expression, workerDocument(w));
}

function statusChangeOrder(q: Params): 'asc' | 'desc' | undefined {
  if (q.Ordering === '') return undefined;
  const ordering = optionalEnum(q, 'Ordering', ORDERINGS);
  return ordering === undefined ? undefined : ordering === 'DateStatusChanged:asc' ? 'asc' : 'desc';
}

/** The parameters of a worker update (POST …/Workers/{Sid}). */
function workerPatch(b: Params): WorkerPatch {
  return {
    activitySid: optionalSid(b, 'ActivitySid', SidPrefix.activity),
    attributes: optionalJsonObject(b, 'Attributes'),
    friendlyName: optionalName(b, 'FriendlyName'),
  };
}

export function workerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { workers, statistics } = deps.services;
  const sidOf = (req: FastifyRequest) => pathSid(pathParams(req).Sid, SidPrefix.worker, 'Worker');
  const workerOf = (req: FastifyRequest) => pathSid(pathParams(req).WorkerSid, SidPrefix.worker, 'Worker');
  /** A WC SID or a task channel's unique name. */
  const channelOf = (req: FastifyRequest) => {
    const v = pathParams(req).Sid ?? '';
    if (v.length > MAX_NAME_LENGTH) throw new NotFoundError('WorkerChannel', v.slice(0, MAX_NAME_LENGTH));
    return v;
  };
  const sendWorker = (reply: FastifyReply, w: Worker, status = 200) =>
    reply.code(status).header('ETag', workerEtag(w)).send(toWorkerJson(w, deps.urls));
  const channelJson = (c: WorkerChannel) => toWorkerChannelJson(c, deps.urls);
  const base = '/v1/Workspaces/:WorkspaceSid/Workers';

  // The busiest read: answered synchronously while the service remembers the answer.
  app.get(`${base}/RealTimeStatistics`, (req, reply) => {
    const ws = workspaceOf(req);
    const asked = optionalString(queryParams(req), 'TaskChannel');
    const taskChannel = asked === '' ? undefined : asked;
    const accountSid = req.accountSid;
    const encode = (stats: WorkersRealTimeStatistics) => deps.encodeStatistics(stats, accountSid, ws);
    const load = async () => encode(await statistics.workersRealTime(accountSid, ws, taskChannel));
    // HEAD is answered as the GET it stands for, never as a stream that would never end.
    if (req.method === 'GET' && wantsEventStream(req)) {
      const key = { accountSid, workspaceSid: ws, taskChannel: asked ?? '' };
      return app.statisticsStreams.open(req, reply, key, load);
    }
    reply.type('application/json; charset=utf-8');
    const known = statistics.remembered(accountSid, ws, taskChannel);
    if (!known) return load();
    void reply.send(encode(known));
    return undefined;
  });

  app.get(base, async (req) => {
    const ws = workspaceOf(req);
    const q = queryParams(req);
    const page = parsePageQuery(q);
    const filter = {
      activitySid: optionalSid(q, 'ActivitySid', SidPrefix.activity),
      activityName: optionalString(q, 'ActivityName'),
      available: optionalLenientBool(q, 'Available'),
      friendlyName: optionalString(q, 'FriendlyName'),
      taskQueueSid: optionalSid(q, 'TaskQueueSid', SidPrefix.taskQueue),
      taskQueueName: optionalString(q, 'TaskQueueName'),
      statusChangeOrder: statusChangeOrder(q),
      matches: targetWorkersTest(optionalString(q, 'TargetWorkersExpression', MAX_ATTRIBUTES_LENGTH)),
    };
    const result = await workers.list(req.accountSid, ws, filter, page);
    const list = listRequest(req, deps, echoFilters(q, WORKER_FILTERS), page);
    return listResponse('workers', result, list, (w: Worker) => toWorkerListItemJson(w, deps.urls));
  });

  app.post(base, async (req, reply) => {
    const ws = workspaceOf(req);
    const b = bodyParams(req);
    const worker = await workers.create(req.accountSid, ws, {
      friendlyName: requiredName(b, 'FriendlyName'),
      activitySid: optionalSid(b, 'ActivitySid', SidPrefix.activity),
      attributes: optionalJsonObject(b, 'Attributes'),
    });
    return sendWorker(reply, worker, 201);
  });

  app.get(`${base}/:Sid`, async (req, reply) =>
    sendWorker(reply, await workers.fetch(req.accountSid, workspaceOf(req), sidOf(req))),
  );

  app.post(`${base}/:Sid`, async (req, reply) => {
    const ws = workspaceOf(req);
    const sid = sidOf(req);
    const b = bodyParams(req);
    const patch = workerPatch(b);
    const rejectPending = optionalBool(b, 'RejectPendingReservations') === true;
    return sendWorker(
      reply,
      await workers.update(req.accountSid, ws, sid, patch, ifMatch(req), rejectPending),
    );
  });

  app.delete(`${base}/:Sid`, async (req, reply) => {
    await workers.remove(req.accountSid, workspaceOf(req), sidOf(req), ifMatch(req));
    return reply.code(204).send();
  });

  const channels = `${base}/:WorkerSid/Channels`;

  app.get(channels, async (req) => {
    const ws = workspaceOf(req);
    const worker = workerOf(req);
    const page = parsePageQuery(queryParams(req));
    const result = await workers.listChannels(req.accountSid, ws, worker, page);
    return listResponse('channels', result, listRequest(req, deps, {}, page), channelJson);
  });

  app.get(`${channels}/:Sid`, async (req) =>
    channelJson(await workers.fetchChannel(req.accountSid, workspaceOf(req), workerOf(req), channelOf(req))),
  );

  app.post(`${channels}/:Sid`, async (req) => {
    const ws = workspaceOf(req);
    const worker = workerOf(req);
    const sid = channelOf(req);
    const b = bodyParams(req);
    const patch = {
      capacity: optionalInt(b, 'Capacity', 0, MAX_CAPACITY),
      available: optionalBool(b, 'Available'),
    };
    return channelJson(await workers.updateChannel(req.accountSid, ws, worker, sid, patch));
  });
}
