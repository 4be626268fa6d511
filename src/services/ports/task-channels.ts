import type { TaskChannel } from '../../domain/types.js';
import type { Page, PageQuery } from './paging.js';

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
  /** O(1): every worker of the workspace has a worker channel for it, with the defaults. */
  insertTaskChannel(channel: NewTaskChannel): Promise<void>;
  updateTaskChannel(sid: string, patch: TaskChannelPatch, now: Date): Promise<void>;
  /** Gone at once, with its share of the statistics; its worker channels are reclaimed later. */
  deleteTaskChannel(sid: string): Promise<void>;
}
