import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SidPrefix } from '../../../domain/sid.js';
import { optionalSid, optionalString } from '../../../twilio/params.js';
import {
  toTaskQueueCumulativeJson,
  toWorkerStatisticsJson,
  toWorkersCumulativeJson,
  toWorkersStatisticsJson,
  toWorkflowCumulativeJson,
  toWorkspaceCumulativeJson,
} from '../../../twilio/serialize-cumulative.js';
import { pathParams, pathSid, queryParams, type RouteDeps, workspaceOf } from '../../context.js';
import { cumulativeParams } from '../../statistics-params.js';

/** Workspace, TaskQueue, Workflow and Workers CumulativeStatistics, and the workers' Statistics. */
export function cumulativeStatisticsRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { cumulativeStatistics: stats, statistics } = deps.services;
  const ws = '/v1/Workspaces/:WorkspaceSid';
  const param = (req: FastifyRequest, name: string, prefix: SidPrefix, resource: string) =>
    pathSid(pathParams(req)[name], prefix, resource);

  app.get(`${ws}/CumulativeStatistics`, async (req) => {
    const workspaceSid = workspaceOf(req);
    const answer = await stats.workspace(
      req.accountSid,
      workspaceSid,
      cumulativeParams(queryParams(req), true),
    );
    return toWorkspaceCumulativeJson(answer, req.accountSid, workspaceSid, deps.urls);
  });

  app.get(`${ws}/TaskQueues/:TaskQueueSid/CumulativeStatistics`, async (req) => {
    const workspaceSid = workspaceOf(req);
    const queueSid = param(req, 'TaskQueueSid', SidPrefix.taskQueue, 'TaskQueue');
    const q = cumulativeParams(queryParams(req), true);
    const answer = await stats.taskQueue(req.accountSid, workspaceSid, queueSid, q);
    return toTaskQueueCumulativeJson(answer, req.accountSid, workspaceSid, queueSid, deps.urls);
  });

  app.get(`${ws}/Workflows/:WorkflowSid/CumulativeStatistics`, async (req) => {
    const workspaceSid = workspaceOf(req);
    const workflowSid = param(req, 'WorkflowSid', SidPrefix.workflow, 'Workflow');
    const q = cumulativeParams(queryParams(req), true);
    const answer = await stats.workflow(req.accountSid, workspaceSid, workflowSid, q);
    return toWorkflowCumulativeJson(answer, req.accountSid, workspaceSid, workflowSid, deps.urls);
  });

  app.get(`${ws}/Workers/CumulativeStatistics`, async (req) => {
    const workspaceSid = workspaceOf(req);
    const answer = await stats.workers(
      req.accountSid,
      workspaceSid,
      cumulativeParams(queryParams(req), false),
    );
    return toWorkersCumulativeJson(answer, req.accountSid, workspaceSid, deps.urls);
  });

  app.get(`${ws}/Workers/Statistics`, async (req) => {
    const workspaceSid = workspaceOf(req);
    const q = queryParams(req);
    const params = cumulativeParams(q, false);
    const filter = {
      friendlyName: optionalString(q, 'FriendlyName'),
      taskQueueSid: optionalSid(q, 'TaskQueueSid', SidPrefix.taskQueue),
      taskQueueName: optionalString(q, 'TaskQueueName'),
    };
    const answer = await stats.workers(req.accountSid, workspaceSid, params, filter);
    // Without a filter, the realtime part is Workers/RealTimeStatistics's (the store's counts).
    const realtime =
      answer.realtime ?? (await statistics.workersRealTime(req.accountSid, workspaceSid, params.taskChannel));
    return toWorkersStatisticsJson(answer, realtime, req.accountSid, workspaceSid, deps.urls);
  });

  app.get(`${ws}/Workers/:WorkerSid/Statistics`, async (req) => {
    const workspaceSid = workspaceOf(req);
    const workerSid = param(req, 'WorkerSid', SidPrefix.worker, 'Worker');
    const answer = await stats.worker(
      req.accountSid,
      workspaceSid,
      workerSid,
      cumulativeParams(queryParams(req), false),
    );
    return toWorkerStatisticsJson(answer, req.accountSid, workspaceSid, workerSid, deps.urls);
  });
}
