import { ConflictError, NotFoundError } from '../domain/errors.js';
import { ACTIVE_TASK } from '../domain/tasks.js';
import { newSid, SidPrefix } from '../domain/sid.js';
import type { Workflow } from '../domain/types.js';
import {
  parseWorkflowConfiguration,
  queuesNamedBy,
  type WorkflowQueueReferences,
} from '../domain/workflows/configuration.js';
import type { PageQuery, StoreReader, StoreTx, WorkflowFilter, WorkflowPatch } from './ports/store.js';
import { record, requireWorkspace, wholeSeconds, type ServiceDeps } from './context.js';
import type { RoutingEngine } from './routing.js';

export const DEFAULT_TASK_RESERVATION_TIMEOUT = 120;

export interface CreateWorkflowInput {
  friendlyName: string;
  configuration: string;
  assignmentCallbackUrl?: string | null;
  fallbackAssignmentCallbackUrl?: string | null;
  taskReservationTimeout?: number;
}

/** Workflows read per statement when a queue's deletion checks them. */
const WORKFLOW_PAGE = 500;

export class WorkflowService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly routing: RoutingEngine,
  ) {}

  async list(accountSid: string, workspaceSid: string, filter: WorkflowFilter, page: PageQuery) {
    await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    return this.deps.store.listWorkflows(workspaceSid, filter, page);
  }

  async fetch(accountSid: string, workspaceSid: string, sid: string): Promise<Workflow> {
    await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    return requireWorkflow(this.deps.store, workspaceSid, sid);
  }

  create(accountSid: string, workspaceSid: string, input: CreateWorkflowInput): Promise<Workflow> {
    const sid = newSid(SidPrefix.workflow);
    const now = wholeSeconds(this.deps.now());
    return this.deps.store.transaction(async (tx) => {
      await requireWorkspace(tx, accountSid, workspaceSid);
      await validateConfiguration(tx, workspaceSid, input.configuration);
      await tx.insertWorkflow({
        sid,
        accountSid,
        workspaceSid,
        friendlyName: input.friendlyName,
        configuration: input.configuration,
        assignmentCallbackUrl: input.assignmentCallbackUrl ?? null,
        fallbackAssignmentCallbackUrl: input.fallbackAssignmentCallbackUrl ?? null,
        taskReservationTimeout: input.taskReservationTimeout ?? DEFAULT_TASK_RESERVATION_TIMEOUT,
        now,
      });
      const workflow = await requireWorkflow(tx, workspaceSid, sid);
      await record(tx, this.deps, workflowEvent('workflow.created', workflow));
      return workflow;
    });
  }

  /** `ReEvaluateTasks` routes the workflow's pending tasks again, from the (new) configuration's start. */
  update(
    accountSid: string,
    workspaceSid: string,
    sid: string,
    patch: WorkflowPatch,
    reEvaluateTasks = false,
  ): Promise<Workflow> {
    return this.deps.store.transaction(async (tx) => {
      const ws = await requireWorkspace(tx, accountSid, workspaceSid);
      const before = await requireWorkflow(tx, workspaceSid, sid);
      if (reEvaluateTasks) {
        await tx.holdRouting(workspaceSid);
      }
      if (Object.values(patch).every((v) => v === undefined)) {
        if (reEvaluateTasks) await this.routing.reEvaluateWorkflow(tx, ws, sid);
        return before;
      }
      if (patch.configuration !== undefined)
        await validateConfiguration(tx, workspaceSid, patch.configuration);
      await tx.updateWorkflow(sid, patch, wholeSeconds(this.deps.now()));
      const workflow = await requireWorkflow(tx, workspaceSid, sid);
      await record(tx, this.deps, workflowEvent('workflow.updated', workflow));
      if (reEvaluateTasks) await this.routing.reEvaluateWorkflow(tx, ws, sid);
      return workflow;
    });
  }

  remove(accountSid: string, workspaceSid: string, sid: string): Promise<void> {
    return this.deps.store.transaction(async (tx) => {
      await requireWorkspace(tx, accountSid, workspaceSid);
      const workflow = await requireWorkflow(tx, workspaceSid, sid);
      await tx.holdRouting(workspaceSid);
      if ((await tx.tasksOfWorkflow(sid, ACTIVE_TASK, 1)).length > 0) {
        throw new ConflictError(
          `The Workflow ${sid} cannot be deleted: it has tasks that are not completed or canceled`,
        );
      }
      await tx.deleteWorkflow(sid);
      await record(tx, this.deps, workflowEvent('workflow.deleted', workflow));
    });
  }
}

/**
 * Parses the document against the workspace's queues. The exclusive hold keeps a queue that
 * it names from being deleted by a concurrent transaction (which takes it too) before commit.
 */
async function validateConfiguration(
  tx: StoreTx,
  workspaceSid: string,
  configuration: string,
): Promise<void> {
  await tx.holdWorkspace(workspaceSid, 'exclusive');
  const existing = new Set<string>();
  for (const sid of queuesNamedBy(configuration)) {
    if (await tx.getTaskQueue(workspaceSid, sid)) existing.add(sid);
  }
  parseWorkflowConfiguration(configuration, { queueExists: (sid) => existing.has(sid) });
}

/** Every workflow of the workspace with the queues it names: what a queue's deletion checks. */
export async function workflowQueueReferences(
  tx: StoreTx,
  workspaceSid: string,
): Promise<WorkflowQueueReferences[]> {
  await tx.holdWorkspace(workspaceSid, 'exclusive');
  const references: WorkflowQueueReferences[] = [];
  for (let page = 0; ; page++) {
    const workflows = await tx.listWorkflows(workspaceSid, {}, { pageSize: WORKFLOW_PAGE, page });
    for (const f of workflows.items) {
      references.push({
        sid: f.sid,
        friendlyName: f.friendlyName,
        queueSids: queuesNamedBy(f.configuration),
      });
    }
    if (workflows.nextPageToken === null) return references;
  }
}

export async function requireWorkflow(
  reader: StoreReader,
  workspaceSid: string,
  sid: string,
): Promise<Workflow> {
  const workflow = await reader.getWorkflow(workspaceSid, sid);
  if (!workflow) throw new NotFoundError('Workflow', sid);
  return workflow;
}

function workflowEvent(type: string, f: Workflow) {
  return {
    type,
    accountSid: f.accountSid,
    workspaceSid: f.workspaceSid,
    resourceType: 'Workflow',
    resourceSid: f.sid,
    data: {
      friendly_name: f.friendlyName,
      configuration: f.configuration,
      assignment_callback_url: f.assignmentCallbackUrl,
      fallback_assignment_callback_url: f.fallbackAssignmentCallbackUrl,
      task_reservation_timeout: f.taskReservationTimeout,
    },
  };
}
