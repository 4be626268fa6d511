import { InvalidParameterError, NotFoundError } from '../domain/errors.js';
import { isSid, newSid, SidPrefix } from '../domain/sid.js';
import type { TaskChannel } from '../domain/types.js';
import type { PageQuery, StoreReader, TaskChannelPatch } from './ports/store.js';
import { overLimit, record, requireWorkspace, wholeSeconds, type ServiceDeps } from './context.js';

export interface CreateTaskChannelInput {
  friendlyName: string;
  uniqueName: string;
  channelOptimizedRouting?: boolean;
}

export class TaskChannelService {
  constructor(private readonly deps: ServiceDeps) {}

  async list(accountSid: string, workspaceSid: string, page: PageQuery) {
    await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    return this.deps.store.listTaskChannels(workspaceSid, page);
  }

  async fetch(accountSid: string, workspaceSid: string, sidOrUniqueName: string): Promise<TaskChannel> {
    await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    return requireTaskChannel(this.deps.store, workspaceSid, sidOrUniqueName);
  }

  /** Every worker of the workspace gets a worker channel for the new task channel. */
  create(accountSid: string, workspaceSid: string, input: CreateTaskChannelInput): Promise<TaskChannel> {
    // Task channels and worker channels are addressed by SID or unique name: a name shaped
    // like a SID could name another channel.
    if (isSid(input.uniqueName, SidPrefix.taskChannel) || isSid(input.uniqueName, SidPrefix.workerChannel)) {
      return Promise.reject(
        new InvalidParameterError(
          'UniqueName',
          'Invalid parameter UniqueName: must not be shaped like a TaskChannel (TC…) or WorkerChannel (WC…) SID',
        ),
      );
    }
    const sid = newSid(SidPrefix.taskChannel);
    const now = wholeSeconds(this.deps.now());
    return this.deps.store.transaction(async (tx) => {
      await requireWorkspace(tx, accountSid, workspaceSid);
      const limit = this.deps.limits?.taskChannelsPerWorkspace;
      if (limit !== undefined) {
        // Counted under the workspace's hold: two creates at once cannot both see room for one.
        await tx.holdWorkspace(workspaceSid, 'exclusive');
        const existing = await tx.listTaskChannels(workspaceSid, { pageSize: limit, page: 0 });
        if (existing.items.length >= limit)
          throw overLimit('UniqueName', `A workspace has at most ${limit} task channels`);
      }
      await tx.insertTaskChannel({
        sid,
        accountSid,
        workspaceSid,
        friendlyName: input.friendlyName,
        uniqueName: input.uniqueName,
        channelOptimizedRouting: input.channelOptimizedRouting ?? false,
        now,
      });
      const channel = await requireTaskChannel(tx, workspaceSid, sid);
      await record(tx, this.deps, taskChannelEvent('task-channel.created', channel));
      return channel;
    });
  }

  update(accountSid: string, workspaceSid: string, sidOrUniqueName: string, patch: TaskChannelPatch) {
    return this.deps.store.transaction(async (tx) => {
      await requireWorkspace(tx, accountSid, workspaceSid);
      const channel = await requireTaskChannel(tx, workspaceSid, sidOrUniqueName);
      await tx.updateTaskChannel(channel.sid, patch, wholeSeconds(this.deps.now()));
      const updated = await requireTaskChannel(tx, workspaceSid, channel.sid);
      await record(tx, this.deps, taskChannelEvent('task-channel.updated', updated));
      return updated;
    });
  }

  /** Removes the workers' channels for it too, and with them its share of the statistics. */
  remove(accountSid: string, workspaceSid: string, sidOrUniqueName: string): Promise<void> {
    return this.deps.store.transaction(async (tx) => {
      await requireWorkspace(tx, accountSid, workspaceSid);
      const channel = await requireTaskChannel(tx, workspaceSid, sidOrUniqueName);
      await tx.deleteTaskChannel(channel.sid);
      await record(tx, this.deps, taskChannelEvent('task-channel.deleted', channel));
    });
  }
}

export async function requireTaskChannel(reader: StoreReader, workspaceSid: string, sidOrUniqueName: string) {
  const channel = await reader.getTaskChannel(workspaceSid, sidOrUniqueName);
  if (!channel) throw new NotFoundError('TaskChannel', sidOrUniqueName);
  return channel;
}

export function taskChannelEvent(type: string, c: TaskChannel) {
  return {
    type,
    accountSid: c.accountSid,
    workspaceSid: c.workspaceSid,
    resourceType: 'TaskChannel',
    resourceSid: c.sid,
    data: { unique_name: c.uniqueName, friendly_name: c.friendlyName },
  };
}
