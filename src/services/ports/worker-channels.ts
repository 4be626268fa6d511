import type { WorkerChannel } from '../../domain/types.js';
import type { Page, PageQuery } from './paging.js';

/** A worker channel's settings when it is made. */
export interface WorkerChannelSettings {
  capacity: number;
  available: boolean;
}

export interface WorkerChannelPatch {
  capacity?: number;
  available?: boolean;
}

/**
 * Worker channels on their own: how they are kept (a row only where a channel differs from
 * DEFAULT_WORKER_CHANNEL) is the store's business, so that it may change without touching
 * the services. Every worker has one per task channel of its workspace.
 */
export interface WorkerChannelReads {
  /** By SID (WC…), by the task channel's SID (TC…) or by the task channel's unique name. */
  getWorkerChannel(workerSid: string, sidOrUniqueName: string): Promise<WorkerChannel | null>;
  listWorkerChannels(workerSid: string, page: PageQuery): Promise<Page<WorkerChannel>>;
}

export interface WorkerChannelWrites {
  updateWorkerChannel(
    channel: { workerSid: string; taskChannelSid: string },
    patch: WorkerChannelPatch,
    now: Date,
  ): Promise<void>;
}
