import { DEFAULT_WORKER_CHANNEL } from '../domain/defaults.js';
import { InvalidParameterError, NotFoundError } from '../domain/errors.js';
import { workerChannelChange } from '../domain/worker-channels.js';
import { changesNothing, checkIfMatch, workerChangeEventTypes } from '../domain/workers.js';
import { newSid, SidPrefix } from '../domain/sid.js';
import type { Worker, WorkerChannel } from '../domain/types.js';
import type { QueueMembership } from './membership.js';
import type {
  PageQuery,
  StoreReader,
  StoreTx,
  UpdatedWorker,
  WorkerChannelPatch,
  WorkerFilter,
  WorkerPatch,
} from './ports/store.js';
import {
  overLimit,
  record,
  requireOwnWorkspace,
  requireWorkspace,
  wholeSeconds,
  type ServiceDeps,
} from './context.js';

export interface CreateWorkerInput {
  friendlyName: string;
  activitySid?: string;
  attributes?: string;
}

/** An If-Match precondition: the ETag the client last saw. */
export type IfMatch = string | undefined;

export class WorkerService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly membership: QueueMembership,
  ) {}

  async list(accountSid: string, workspaceSid: string, filter: WorkerFilter, page: PageQuery) {
    await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    return this.deps.store.listWorkers(workspaceSid, filter, page);
  }

  async fetch(accountSid: string, workspaceSid: string, sid: string): Promise<Worker> {
    await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    return requireWorker(this.deps.store, workspaceSid, sid);
  }

  /** Starts in the given activity, or the workspace's default; gets a channel per task channel. */
  create(accountSid: string, workspaceSid: string, input: CreateWorkerInput): Promise<Worker> {
    const sid = newSid(SidPrefix.worker);
    const now = wholeSeconds(this.deps.now());
    return this.deps.store.transaction(async (tx) => {
      const ws = await requireWorkspace(tx, accountSid, workspaceSid);
      const activitySid = input.activitySid ?? ws.defaultActivitySid;
      await requireActivityParam(tx, workspaceSid, activitySid);
      await tx.insertWorker(
        {
          sid,
          accountSid,
          workspaceSid,
          friendlyName: input.friendlyName,
          activitySid,
          attributes: input.attributes ?? '{}',
          now,
        },
        DEFAULT_WORKER_CHANNEL,
      );
      const worker = await requireWorker(tx, workspaceSid, sid);
      await this.membership.evaluateWorker(tx, worker, 'all');
      await this.recordWorker(tx, 'worker.created', worker);
      return worker;
    });
  }

  update(accountSid: string, workspaceSid: string, sid: string, patch: WorkerPatch, ifMatch: IfMatch) {
    return this.deps.store.transaction(async (tx) => {
      const now = wholeSeconds(this.deps.now());
      if (ifMatch === undefined) {
        // The common case in one statement, which makes the checks below itself; they run
        // only when it changed nothing, to say which one failed (or that nothing needs to change).
        const updated = await tx.updateWorker(sid, patch, now, { accountSid, workspaceSid });
        if (updated) {
          await this.recordUpdate(tx, updated, patch);
          return updated;
        }
      }
      await requireOwnWorkspace(tx, accountSid, workspaceSid);
      const worker = await requireWorker(tx, workspaceSid, sid);
      checkIfMatch(worker, ifMatch);
      if (patch.activitySid !== undefined) await requireActivityParam(tx, workspaceSid, patch.activitySid);
      // Nothing to change: the worker stays as it is, with its ETag and date_updated, and no event.
      if (changesNothing(worker, patch)) return worker;
      const updated = await tx.updateWorker(sid, patch, now);
      if (!updated) throw new NotFoundError('Worker', sid);
      await this.recordUpdate(tx, updated, patch);
      return updated;
    });
  }

  remove(accountSid: string, workspaceSid: string, sid: string, ifMatch: IfMatch): Promise<void> {
    return this.deps.store.transaction(async (tx) => {
      await requireOwnWorkspace(tx, accountSid, workspaceSid);
      const worker = await requireWorker(tx, workspaceSid, sid);
      checkIfMatch(worker, ifMatch);
      await tx.deleteWorker(sid);
      await this.recordWorker(tx, 'worker.deleted', worker);
    });
  }

  async listChannels(accountSid: string, workspaceSid: string, workerSid: string, page: PageQuery) {
    await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    await requireWorker(this.deps.store, workspaceSid, workerSid);
    return this.deps.store.listWorkerChannels(workerSid, page);
  }

  async fetchChannel(accountSid: string, workspaceSid: string, workerSid: string, sidOrUniqueName: string) {
    await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    await requireWorker(this.deps.store, workspaceSid, workerSid);
    return requireWorkerChannel(this.deps.store, workerSid, sidOrUniqueName);
  }

  updateChannel(
    accountSid: string,
    workspaceSid: string,
    workerSid: string,
    sidOrUniqueName: string,
    patch: WorkerChannelPatch,
  ): Promise<WorkerChannel> {
    const limit = this.deps.limits?.workerChannelCapacity;
    if (limit !== undefined && patch.capacity !== undefined && patch.capacity > limit) {
      return Promise.reject(overLimit('Capacity', `Invalid parameter Capacity: must be at most ${limit}`));
    }
    return this.deps.store.transaction(async (tx) => {
      await requireOwnWorkspace(tx, accountSid, workspaceSid);
      const worker = await requireWorker(tx, workspaceSid, workerSid);
      const channel = await requireWorkerChannel(tx, workerSid, sidOrUniqueName);
      const { after, eventTypes } = workerChannelChange(channel, patch);
      // Nothing to change: the channel stays as it is, with its date_updated, and no event.
      if (eventTypes.length === 0) return channel;
      await tx.updateWorkerChannel(channel, after, wholeSeconds(this.deps.now()));
      const updated = await requireWorkerChannel(tx, workerSid, channel.sid);
      for (const type of eventTypes) {
        await this.recordWorker(tx, type, worker, {
          worker_channel_sid: updated.sid,
          task_channel_sid: updated.taskChannelSid,
          task_channel_unique_name: updated.taskChannelUniqueName,
          capacity: updated.capacity,
          previous_capacity: channel.capacity,
          channel_available: updated.available,
          assigned_tasks: updated.assignedTasks,
        });
      }
      return updated;
    });
  }

  /** The membership and events of an update. */
  private async recordUpdate(tx: StoreTx, worker: UpdatedWorker, patch: WorkerPatch): Promise<void> {
    if (patch.attributes !== undefined) await this.membership.evaluateWorker(tx, worker, 'all');
    else if (patch.activitySid !== undefined || patch.friendlyName !== undefined)
      await this.membership.evaluateWorker(tx, worker, 'fields');
    for (const type of workerChangeEventTypes(patch)) {
      await this.recordWorker(
        tx,
        type,
        worker,
        type === 'worker.activity.update'
          ? {
              previous_activity_sid: worker.previous.activitySid,
              previous_activity_name: worker.previous.activityName,
              // Time in the activity it left: from its status change to this one.
              time_in_previous_activity_ms: Math.max(
                0,
                worker.dateStatusChanged.getTime() - worker.previous.dateStatusChanged.getTime(),
              ),
            }
          : {},
      );
    }
  }

  private recordWorker(
    tx: StoreTx,
    type: string,
    w: Worker,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    return record(tx, this.deps, workerEvent(type, w, { attributes: w.attributes, ...extra }));
  }
}

/** A worker's event (without actor and time): its state after the change, and what else the change says. */
export function workerEvent(
  type: string,
  w: Pick<
    Worker,
    | 'sid'
    | 'accountSid'
    | 'workspaceSid'
    | 'friendlyName'
    | 'activitySid'
    | 'activityName'
    | 'available'
    | 'version'
  >,
  extra: Record<string, unknown> = {},
) {
  return {
    type,
    accountSid: w.accountSid,
    workspaceSid: w.workspaceSid,
    resourceType: 'Worker',
    resourceSid: w.sid,
    data: {
      friendly_name: w.friendlyName,
      activity_sid: w.activitySid,
      activity_name: w.activityName,
      available: w.available,
      version: w.version,
      ...extra,
    },
  };
}

export { workerEtag } from '../domain/workers.js';

async function requireActivityParam(tx: StoreTx, workspaceSid: string, activitySid: string): Promise<void> {
  if (!(await tx.getActivity(workspaceSid, activitySid))) {
    throw new InvalidParameterError(
      'ActivitySid',
      `ActivitySid ${activitySid} is not an activity of this workspace`,
    );
  }
}

export async function requireWorker(reader: StoreReader, workspaceSid: string, sid: string): Promise<Worker> {
  const worker = await reader.getWorker(workspaceSid, sid);
  if (!worker) throw new NotFoundError('Worker', sid);
  return worker;
}

async function requireWorkerChannel(reader: StoreReader, workerSid: string, sidOrUniqueName: string) {
  const channel = await reader.getWorkerChannel(workerSid, sidOrUniqueName);
  if (!channel) throw new NotFoundError('WorkerChannel', sidOrUniqueName);
  return channel;
}
