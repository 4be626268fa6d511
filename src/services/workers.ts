import { DEFAULT_WORKER_CHANNEL } from '../domain/defaults.js';
import { InvalidParameterError, NotFoundError } from '../domain/errors.js';
import { workerChannelChange } from '../domain/worker-channels.js';
import { changesNothing, checkIfMatch, workerChangeEventTypes } from '../domain/workers.js';
import { newSid, SidPrefix } from '../domain/sid.js';
import type { Worker, WorkerChannel, WorkerLoad } from '../domain/types.js';
import type { QueueMembership } from './membership.js';
import type { RoutingEngine } from './routing.js';
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
    private readonly routing: RoutingEngine,
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
      // A worker that starts available may take tasks waiting in its queues at once.
      return this.routeAfter(tx, accountSid, worker, { activitySid }, false);
    });
  }

  /**
   * `rejectPendingReservations` (Worker update `RejectPendingReservations`) rejects the worker's
   * pending reservations when its activity (new or not) is unavailable.
   */
  update(
    accountSid: string,
    workspaceSid: string,
    sid: string,
    patch: WorkerPatch,
    ifMatch: IfMatch,
    rejectPendingReservations = false,
  ) {
    return this.deps.store.transaction(async (tx) => {
      const now = wholeSeconds(this.deps.now());
      if (ifMatch === undefined) {
        // The common case in one statement, which makes the checks below itself; they run
        // only when it changed nothing, to say which one failed (or that nothing needs to change).
        const updated = await tx.updateWorker(sid, patch, now, { accountSid, workspaceSid });
        if (updated) {
          await this.recordUpdate(tx, updated, patch);
          return this.routeAfter(tx, accountSid, updated, patch, rejectPendingReservations);
        }
      }
      await requireOwnWorkspace(tx, accountSid, workspaceSid);
      const worker = await requireWorker(tx, workspaceSid, sid);
      checkIfMatch(worker, ifMatch);
      if (patch.activitySid !== undefined) await requireActivityParam(tx, workspaceSid, patch.activitySid);
      // Nothing to change: the worker stays as it is, with its ETag and date_updated, and no event.
      if (changesNothing(worker, patch)) {
        return this.routeAfter(tx, accountSid, worker, {}, rejectPendingReservations);
      }
      const updated = await tx.updateWorker(sid, patch, now);
      if (!updated) throw new NotFoundError('Worker', sid);
      await this.recordUpdate(tx, updated, patch);
      return this.routeAfter(tx, accountSid, updated, patch, rejectPendingReservations);
    });
  }

  /**
   * Routing after a worker's change: its pending reservations rejected when asked (and it is
   * unavailable); waiting tasks offered when it is available and its activity or attributes
   * changed. Returns the worker as it is then (routing may have moved it).
   */
  private async routeAfter(
    tx: StoreTx,
    accountSid: string,
    worker: Worker,
    patch: WorkerPatch,
    rejectPending: boolean,
  ): Promise<Worker> {
    const rejecting = rejectPending && !worker.available;
    const offering = worker.available && (patch.activitySid !== undefined || patch.attributes !== undefined);
    if (!rejecting && !offering) return worker;
    const ws = await requireWorkspace(tx, accountSid, worker.workspaceSid);
    await tx.holdRouting(ws.sid);
    const rejected = rejecting && (await this.routing.rejectPendingOf(tx, ws, worker.sid));
    const reserved = offering && (await this.routing.offerWorker(tx, ws, worker.sid));
    // Read again only when routing did something: a reservation may have moved the worker.
    return rejected || reserved ? requireWorker(tx, worker.workspaceSid, worker.sid) : worker;
  }

  remove(accountSid: string, workspaceSid: string, sid: string, ifMatch: IfMatch): Promise<void> {
    return this.deps.store.transaction(async (tx) => {
      await requireOwnWorkspace(tx, accountSid, workspaceSid);
      const worker = await requireWorker(tx, workspaceSid, sid);
      checkIfMatch(worker, ifMatch);
      const ws = await requireWorkspace(tx, accountSid, workspaceSid);
      await tx.holdRouting(workspaceSid);
      // Deleted first, so that the tasks it held route to others.
      await tx.deleteWorker(sid);
      await this.routing.workerDeleted(tx, ws, sid);
      // Time in its last activity, as an activity update tells it: its activity durations end here.
      await this.recordWorker(tx, 'worker.deleted', worker, {
        time_in_activity_ms: Math.max(
          0,
          wholeSeconds(this.deps.now()).getTime() - worker.dateStatusChanged.getTime(),
        ),
      });
    });
  }

  async listChannels(accountSid: string, workspaceSid: string, workerSid: string, page: PageQuery) {
    await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    await requireWorker(this.deps.store, workspaceSid, workerSid);
    const channels = await this.deps.store.listWorkerChannels(workerSid, page);
    const loads = await this.deps.store.workerLoads(workerSid);
    return { ...channels, items: channels.items.map((c) => withLoad(c, loads)) };
  }

  async fetchChannel(accountSid: string, workspaceSid: string, workerSid: string, sidOrUniqueName: string) {
    await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    await requireWorker(this.deps.store, workspaceSid, workerSid);
    const channel = await requireWorkerChannel(this.deps.store, workerSid, sidOrUniqueName);
    return withLoad(channel, await this.deps.store.workerLoads(workerSid));
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
      if (eventTypes.length === 0) return withLoad(channel, await tx.workerLoads(workerSid));
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
      // More capacity, or the channel switched on: the worker may take waiting tasks.
      if (updated.available && (updated.capacity > channel.capacity || !channel.available)) {
        const ws = await requireWorkspace(tx, accountSid, workspaceSid);
        await tx.holdRouting(workspaceSid);
        await this.routing.offerWorker(tx, ws, workerSid);
      }
      return withLoad(updated, await tx.workerLoads(workerSid));
    });
  }

  /** The membership and events of an update. */
  private recordUpdate(tx: StoreTx, worker: UpdatedWorker, patch: WorkerPatch): Promise<void> {
    return recordWorkerChange(tx, this.deps, this.membership, worker, patch);
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

/**
 * The membership and events of a change made to a worker (by the API, or by routing moving it
 * to another activity), in the change's transaction.
 */
export async function recordWorkerChange(
  tx: StoreTx,
  deps: ServiceDeps,
  membership: QueueMembership,
  worker: UpdatedWorker,
  patch: WorkerPatch,
): Promise<void> {
  if (patch.attributes !== undefined) await membership.evaluateWorker(tx, worker, 'all');
  else if (patch.activitySid !== undefined || patch.friendlyName !== undefined)
    await membership.evaluateWorker(tx, worker, 'fields');
  for (const type of workerChangeEventTypes(patch)) {
    const extra =
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
        : {};
    await record(tx, deps, workerEvent(type, worker, { attributes: worker.attributes, ...extra }));
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

/** A worker channel with routing's count of its assigned tasks (kept apart, in the worker's load). */
function withLoad(channel: WorkerChannel, loads: readonly WorkerLoad[]): WorkerChannel {
  const load = loads.find((l) => l.taskChannelSid === channel.taskChannelSid);
  return { ...channel, assignedTasks: load?.assigned ?? 0 };
}

async function requireWorkerChannel(reader: StoreReader, workerSid: string, sidOrUniqueName: string) {
  const channel = await reader.getWorkerChannel(workerSid, sidOrUniqueName);
  if (!channel) throw new NotFoundError('WorkerChannel', sidOrUniqueName);
  return channel;
}
