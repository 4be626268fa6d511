import { DEFAULT_ACTIVITIES, DEFAULT_ACTIVITY_NAME, DEFAULT_TASK_CHANNELS } from '../domain/defaults.js';
import { InvalidParameterError } from '../domain/errors.js';
import { newSid, SidPrefix } from '../domain/sid.js';
import type { QueueOrder, Workspace } from '../domain/types.js';
import type { PageQuery, StoreTx, WorkspaceFilter, WorkspacePatch } from './ports/store.js';
import { record, requireWorkspace, wholeSeconds, type ServiceDeps } from './context.js';
import { taskChannelEvent } from './task-channels.js';

export interface CreateWorkspaceInput {
  friendlyName: string;
  eventCallbackUrl?: string | null;
  eventsFilter?: string;
  multiTaskEnabled?: boolean;
  prioritizeQueueOrder?: QueueOrder;
}

export type UpdateWorkspaceInput = WorkspacePatch;

export class WorkspaceService {
  constructor(private readonly deps: ServiceDeps) {}

  list(accountSid: string, filter: WorkspaceFilter, page: PageQuery) {
    return this.deps.store.listWorkspaces(accountSid, filter, page);
  }

  fetch(accountSid: string, sid: string): Promise<Workspace> {
    return requireWorkspace(this.deps.store, accountSid, sid);
  }

  /** A new workspace comes with Twilio's default activities and task channels. */
  create(accountSid: string, input: CreateWorkspaceInput): Promise<Workspace> {
    const now = wholeSeconds(this.deps.now());
    const sid = newSid(SidPrefix.workspace);
    const activities = DEFAULT_ACTIVITIES.map((a) => ({ ...a, sid: newSid(SidPrefix.activity) }));
    const defaultActivity = activities.find((a) => a.friendlyName === DEFAULT_ACTIVITY_NAME)!;
    return this.deps.store.transaction(async (tx) => {
      await tx.insertWorkspace({
        sid,
        accountSid,
        friendlyName: input.friendlyName,
        eventCallbackUrl: input.eventCallbackUrl ?? null,
        eventsFilter: input.eventsFilter ?? null,
        multiTaskEnabled: input.multiTaskEnabled ?? true,
        prioritizeQueueOrder: input.prioritizeQueueOrder ?? 'FIFO',
        defaultActivitySid: defaultActivity.sid,
        timeoutActivitySid: defaultActivity.sid,
        now,
      });
      for (const a of activities) {
        await tx.insertActivity({ ...a, accountSid, workspaceSid: sid, now });
      }
      const channels = DEFAULT_TASK_CHANNELS.map((c) => ({
        ...c,
        sid: newSid(SidPrefix.taskChannel),
        accountSid,
        workspaceSid: sid,
        channelOptimizedRouting: false,
        now,
      }));
      for (const c of channels) await tx.insertTaskChannel(c);
      const ws = await requireWorkspace(tx, accountSid, sid);
      await record(tx, this.deps, workspaceEvent('workspace.created', ws));
      for (const a of activities) {
        await record(tx, this.deps, {
          type: 'activity.created',
          accountSid,
          workspaceSid: sid,
          resourceType: 'Activity',
          resourceSid: a.sid,
          data: { friendly_name: a.friendlyName, available: a.available },
        });
      }
      for (const c of channels) {
        await record(
          tx,
          this.deps,
          taskChannelEvent('task-channel.created', { ...c, dateCreated: now, dateUpdated: now }),
        );
      }
      return ws;
    });
  }

  update(accountSid: string, sid: string, patch: UpdateWorkspaceInput): Promise<Workspace> {
    return this.deps.store.transaction(async (tx) => {
      await requireWorkspace(tx, accountSid, sid);
      await requireOwnActivity(tx, sid, patch.defaultActivitySid, 'DefaultActivitySid');
      await requireOwnActivity(tx, sid, patch.timeoutActivitySid, 'TimeoutActivitySid');
      await tx.updateWorkspace(sid, patch, wholeSeconds(this.deps.now()));
      const ws = await requireWorkspace(tx, accountSid, sid);
      await record(tx, this.deps, workspaceEvent('workspace.updated', ws));
      return ws;
    });
  }

  remove(accountSid: string, sid: string): Promise<void> {
    return this.deps.store.transaction(async (tx) => {
      const ws = await requireWorkspace(tx, accountSid, sid);
      await tx.deleteWorkspace(sid);
      await record(tx, this.deps, workspaceEvent('workspace.deleted', ws));
    });
  }
}

async function requireOwnActivity(
  tx: StoreTx,
  workspaceSid: string,
  activitySid: string | undefined,
  param: string,
) {
  if (activitySid === undefined) return;
  if (!(await tx.getActivity(workspaceSid, activitySid))) {
    throw new InvalidParameterError(param, `${param} ${activitySid} is not an activity of this workspace`);
  }
}

function workspaceEvent(type: string, w: Workspace) {
  return {
    type,
    accountSid: w.accountSid,
    workspaceSid: w.sid,
    resourceType: 'Workspace',
    resourceSid: w.sid,
    data: {
      friendly_name: w.friendlyName,
      default_activity_sid: w.defaultActivitySid,
      timeout_activity_sid: w.timeoutActivitySid,
    },
  };
}
