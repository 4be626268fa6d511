import type { TaskChannel } from '../../domain/types.js';
import type { Page, PageQuery } from './paging.js';
import type { WorkerChannelSettings } from './worker-channels.js';

export interface NewTaskChannel {
  sid: string;
  accountSid: string;
  workspaceSid: string;
  uniqueName: string;
  friendlyName: string;
  channelOptimizedRouting: boolean;
  now: Date;
}

export interface TaskChannelPatch {
  friendlyName?: string;
  channelOptimizedRouting?: boolean;
}

export interface TaskChannelReads {
  /** By SID (TC…) or by unique name. */
  getTaskChannel(workspaceSid: string, sidOrUniqueName: string): Promise<TaskChannel | null>;
  listTaskChannels(workspaceSid: string, page: PageQuery): Promise<Page<TaskChannel>>;
}

export interface TaskChannelWrites {
  /** Also gives every worker of the workspace a worker channel for it, with these settings. */
  insertTaskChannel(channel: NewTaskChannel, workerChannel: WorkerChannelSettings): Promise<void>;
  updateTaskChannel(sid: string, patch: TaskChannelPatch, now: Date): Promise<void>;
  /** Also removes the worker channels for it. */
  deleteTaskChannel(sid: string): Promise<void>;
}
