import { checkActivityDeletable } from '../domain/activities.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { newSid, SidPrefix } from '../domain/sid.js';
import type { Activity } from '../domain/types.js';
import type { QueueMembership } from './membership.js';
import type { RoutingEngine } from './routing.js';
import type { ActivityFilter, PageQuery, StoreReader } from './ports/store.js';
import { overLimit, record, requireWorkspace, wholeSeconds, type ServiceDeps } from './context.js';

export interface CreateActivityInput {
  friendlyName: string;
  available?: boolean;
}

export class ActivityService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly membership: QueueMembership,
    private readonly routing: RoutingEngine,
  ) {}

  async list(accountSid: string, workspaceSid: string, filter: ActivityFilter, page: PageQuery) {
    await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    return this.deps.store.listActivities(workspaceSid, filter, page);
  }

  async fetch(accountSid: string, workspaceSid: string, sid: string): Promise<Activity> {
    await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    return requireActivity(this.deps.store, workspaceSid, sid);
  }

  create(accountSid: string, workspaceSid: string, input: CreateActivityInput): Promise<Activity> {
    const sid = newSid(SidPrefix.activity);
    const now = wholeSeconds(this.deps.now());
    return this.deps.store.transaction(async (tx) => {
      await requireWorkspace(tx, accountSid, workspaceSid);
      const limit = this.deps.limits?.activitiesPerWorkspace;
      if (limit !== undefined) {
        // Counted under the workspace's hold: two creates at once cannot both see room for one.
        await tx.holdWorkspace(workspaceSid, 'exclusive');
        const existing = await tx.listActivities(workspaceSid, {}, { pageSize: limit, page: 0 });
        if (existing.items.length >= limit)
          throw overLimit('FriendlyName', `A workspace has at most ${limit} activities`);
      }
      await tx.insertActivity({
        sid,
        accountSid,
        workspaceSid,
        friendlyName: input.friendlyName,
        available: input.available ?? false,
        now,
      });
      const activity = await requireActivity(tx, workspaceSid, sid);
      await record(tx, this.deps, activityEvent('activity.created', activity));
      return activity;
    });
  }

  /**
   * A rename is written in one transaction, then the activity's workers are evaluated against
   * the queues reading worker fields in chunks (see `QueueMembership.activityPassOf`), and an
   * available activity's workers are offered the waiting tasks of those queues; the answer
   * waits for all of it, so membership is exact once it returns.
   */
  async update(
    accountSid: string,
    workspaceSid: string,
    sid: string,
    friendlyName: string | undefined,
  ): Promise<Activity> {
    let renamed = false;
    const updated = await this.deps.store.transaction(async (tx) => {
      renamed = false;
      await requireWorkspace(tx, accountSid, workspaceSid);
      const activity = await requireActivity(tx, workspaceSid, sid);
      if (friendlyName === undefined) return activity;
      await tx.updateActivity(sid, friendlyName, wholeSeconds(this.deps.now()));
      // Queues reading activity_name may now take or drop this activity's workers.
      if (friendlyName !== activity.friendlyName) {
        await this.membership.beginPass(tx, workspaceSid, sid, this.deps.clock.now());
        renamed = true;
      }
      const updated = await requireActivity(tx, workspaceSid, sid);
      await record(tx, this.deps, activityEvent('activity.updated', updated));
      return updated;
    });
    if (renamed) {
      await this.membership.activityPassOf(this.deps.store, workspaceSid, sid, updated.friendlyName);
      // The workers of an available activity may take the waiting tasks of the queues they joined.
      if (updated.available) {
        await this.deps.store.transaction(async (tx) => {
          await tx.holdRouting(workspaceSid);
          const ws = await tx.getWorkspace(accountSid, workspaceSid);
          if (ws) await this.routing.queuesReadingWorkerFieldsChanged(tx, ws);
        });
      }
    }
    return updated;
  }

  /** Refused while workers are in the activity or the workspace uses it as default or timeout. */
  remove(accountSid: string, workspaceSid: string, sid: string): Promise<void> {
    return this.deps.store.transaction(async (tx) => {
      const ws = await requireWorkspace(tx, accountSid, workspaceSid);
      const activity = await requireActivity(tx, workspaceSid, sid);
      const count = (await tx.activityCounts(workspaceSid)).find((c) => c.activitySid === sid)?.workers ?? 0;
      checkActivityDeletable(ws, sid, count);
      const [queue] = (await tx.listTaskQueues(workspaceSid, { activitySid: sid }, { pageSize: 1, page: 0 }))
        .items;
      if (queue) {
        throw new ConflictError(
          `The Activity ${sid} cannot be deleted: the TaskQueue ${queue.sid} (${queue.friendlyName}) uses it`,
        );
      }
      await tx.deleteActivity(sid);
      await record(tx, this.deps, activityEvent('activity.deleted', activity));
    });
  }
}

export async function requireActivity(
  reader: StoreReader,
  workspaceSid: string,
  sid: string,
): Promise<Activity> {
  const activity = await reader.getActivity(workspaceSid, sid);
  if (!activity) throw new NotFoundError('Activity', sid);
  return activity;
}

function activityEvent(type: string, a: Activity) {
  return {
    type,
    accountSid: a.accountSid,
    workspaceSid: a.workspaceSid,
    resourceType: 'Activity',
    resourceSid: a.sid,
    data: { friendly_name: a.friendlyName, available: a.available },
  };
}
