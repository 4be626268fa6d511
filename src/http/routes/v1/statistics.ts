import type { FastifyInstance } from 'fastify';
import { SidPrefix } from '../../../domain/sid.js';
import type { TaskQueue } from '../../../domain/types.js';
import { combinedStatisticsJson } from '../../../twilio/serialize-combined-statistics.js';
import {
  toTaskQueueCumulativeJson,
  toWorkflowCumulativeJson,
  toWorkspaceCumulativeJson,
} from '../../../twilio/serialize-cumulative.js';
import { listResponse } from '../../../twilio/pagination.js';
import { optionalString, parsePageQuery } from '../../../twilio/params.js';
import { workspaceUrl } from '../../../twilio/serialize.js';
import {
  toTaskQueueRealTimeStatisticsJson,
  toWorkflowRealTimeStatisticsJson,
  toWorkspaceRealTimeStatisticsJson,
} from '../../../twilio/serialize-statistics.js';
import {
  echoFilters,
  listRequest,
  pathParams,
  pathSid,
  queryParams,
  type RouteDeps,
  workspaceOf,
} from '../../context.js';
import { cumulativeParams } from '../../statistics-params.js';

const LIST_FILTERS = [
  'FriendlyName',
  'Minutes',
  'StartDate',
  'EndDate',
  'TaskChannel',
  'SplitByWaitTime',
] as const;

/**
 * The combined statistics: Workspace, TaskQueue and Workflow `Statistics`, and the TaskQueues
 * statistics list. Each is the resource's CumulativeStatistics and RealTimeStatistics answers side
 * by side (without their own SIDs and URLs), for the same `TaskChannel`.
 */
export function statisticsRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { statistics, cumulativeStatistics, taskQueues } = deps.services;
  const ws = '/v1/Workspaces/:WorkspaceSid';

  app.get(`${ws}/Statistics`, async (req) => {
    const workspaceSid = workspaceOf(req);
    const params = cumulativeParams(queryParams(req), true);
    const cumulative = await cumulativeStatistics.workspace(req.accountSid, workspaceSid, params);
    const realtime = await statistics.workspaceRealTime(req.accountSid, workspaceSid, params.taskChannel);
    return combinedStatisticsJson(
      toWorkspaceCumulativeJson(cumulative, req.accountSid, workspaceSid, deps.urls),
      toWorkspaceRealTimeStatisticsJson(realtime, req.accountSid, workspaceSid, deps.urls),
      { account_sid: req.accountSid, workspace_sid: workspaceSid },
      `${workspaceUrl(deps.urls, workspaceSid)}/Statistics`,
    );
  });

  app.get(`${ws}/TaskQueues/:TaskQueueSid/Statistics`, async (req) => {
    const workspaceSid = workspaceOf(req);
    const queueSid = pathSid(pathParams(req).TaskQueueSid, SidPrefix.taskQueue, 'TaskQueue');
    const params = cumulativeParams(queryParams(req), true);
    return combinedStatisticsJson(
      ...(await queueFigures(req.accountSid, workspaceSid, queueSid, params)),
      { account_sid: req.accountSid, task_queue_sid: queueSid, workspace_sid: workspaceSid },
      `${workspaceUrl(deps.urls, workspaceSid)}/TaskQueues/${queueSid}/Statistics`,
    );
  });

  app.get(`${ws}/TaskQueues/Statistics`, async (req) => {
    const workspaceSid = workspaceOf(req);
    const q = queryParams(req);
    const page = parsePageQuery(q);
    const params = cumulativeParams(q, true);
    const result = await taskQueues.list(
      req.accountSid,
      workspaceSid,
      { friendlyName: optionalString(q, 'FriendlyName') },
      page,
    );
    const items = await Promise.all(
      result.items.map(async (queue: TaskQueue) =>
        combinedStatisticsJson(...(await queueFigures(req.accountSid, workspaceSid, queue.sid, params)), {
          account_sid: req.accountSid,
          task_queue_sid: queue.sid,
          workspace_sid: workspaceSid,
        }),
      ),
    );
    const list = { ...result, items };
    return listResponse(
      'task_queues_statistics',
      list,
      listRequest(req, deps, echoFilters(q, LIST_FILTERS), page),
      (item) => item,
    );
  });

  app.get(`${ws}/Workflows/:WorkflowSid/Statistics`, async (req) => {
    const workspaceSid = workspaceOf(req);
    const workflowSid = pathSid(pathParams(req).WorkflowSid, SidPrefix.workflow, 'Workflow');
    const params = cumulativeParams(queryParams(req), true);
    const cumulative = await cumulativeStatistics.workflow(req.accountSid, workspaceSid, workflowSid, params);
    const realtime = await statistics.workflowRealTime(
      req.accountSid,
      workspaceSid,
      workflowSid,
      params.taskChannel,
    );
    return combinedStatisticsJson(
      toWorkflowCumulativeJson(cumulative, req.accountSid, workspaceSid, workflowSid, deps.urls),
      toWorkflowRealTimeStatisticsJson(realtime, req.accountSid, workspaceSid, deps.urls),
      { account_sid: req.accountSid, workflow_sid: workflowSid, workspace_sid: workspaceSid },
      `${workspaceUrl(deps.urls, workspaceSid)}/Workflows/${workflowSid}/Statistics`,
    );
  });

  async function queueFigures(
    accountSid: string,
    workspaceSid: string,
    queueSid: string,
    params: ReturnType<typeof cumulativeParams>,
  ) {
    const cumulative = await cumulativeStatistics.taskQueue(accountSid, workspaceSid, queueSid, params);
    const realtime = await statistics.taskQueueRealTime(
      accountSid,
      workspaceSid,
      queueSid,
      params.taskChannel,
    );
    return [
      toTaskQueueCumulativeJson(cumulative, accountSid, workspaceSid, queueSid, deps.urls),
      toTaskQueueRealTimeStatisticsJson(realtime, accountSid, workspaceSid, deps.urls),
    ] as const;
  }
}
