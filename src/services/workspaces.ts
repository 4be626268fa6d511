import {
  DEFAULT_ACTIVITIES,
  DEFAULT_ACTIVITY_NAME,
  DEFAULT_TASK_CHANNELS,
  DEFAULT_WORKER_CHANNEL,
} from '../domain/defaults.js';
import { InvalidParameterError } from '../domain/errors.js';
import { newSid, SidPrefix } from '../domain/sid.js';
import type { QueueOrder, Workspace } from '../domain/types.js';
import type { PageQuery, StoreTx, WorkspaceFilter, WorkspacePatch } from './ports/store.js';
import { publishOnCommit, requireWorkspace, wholeSeconds, type ServiceDeps } from './context.js';

export interface CreateWorkspaceInput {
  friendlyName: string;
  eventCallbackUrl?: string;
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
      publishOnCommit(tx, this.deps, accountSid, sid);
      for (const a of activities) {
        await tx.insertActivity({ ...a, accountSid, workspaceSid: sid, now });
      }
      for (const c of DEFAULT_TASK_CHANNELS) {
        await tx.insertTaskChannel(
          {
            ...c,
            sid: newSid(SidPrefix.taskChannel),
            accountSid,
            workspaceSid: sid,
            channelOptimizedRouting: false,
            now,
          },
          DEFAULT_WORKER_CHANNEL,
        );
      }
      return requireWorkspace(tx, accountSid, sid);
    });
  }

  update(accountSid: string, sid: string, patch: UpdateWorkspaceInput): Promise<Workspace> {
    return this.deps.store.transaction(async (tx) => {
      await requireWorkspace(tx, accountSid, sid);
      publishOnCommit(tx, this.deps, accountSid, sid);
      await requireOwnActivity(tx, sid, patch.defaultActivitySid, 'DefaultActivitySid');
      await requireOwnActivity(tx, sid, patch.timeoutActivitySid, 'TimeoutActivitySid');
      await tx.updateWorkspace(sid, patch, wholeSeconds(this.deps.now()));
      return requireWorkspace(tx, accountSid, sid);
    });
  }

  remove(accountSid: string, sid: string): Promise<void> {
    return this.deps.store.transaction(async (tx) => {
      await requireWorkspace(tx, accountSid, sid);
      publishOnCommit(tx, this.deps, accountSid, sid, 'deleted');
      await tx.deleteWorkspace(sid);
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
