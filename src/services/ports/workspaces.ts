import type { QueueOrder, Workspace } from '../../domain/types.js';
import type { Page, PageQuery } from './paging.js';

export interface WorkspaceFilter {
  friendlyName?: string;
}

export interface NewWorkspace {
  sid: string;
  accountSid: string;
  friendlyName: string;
  eventCallbackUrl: string | null;
  eventsFilter: string | null;
  multiTaskEnabled: boolean;
  prioritizeQueueOrder: QueueOrder;
  defaultActivitySid: string;
  timeoutActivitySid: string;
  now: Date;
}

export interface WorkspacePatch {
  friendlyName?: string;
  eventCallbackUrl?: string | null;
  eventsFilter?: string | null;
  multiTaskEnabled?: boolean;
  prioritizeQueueOrder?: QueueOrder;
  defaultActivitySid?: string;
  timeoutActivitySid?: string;
}

export interface WorkspaceReads {
  getWorkspace(accountSid: string, sid: string): Promise<Workspace | null>;
  /** Whether the account has this workspace: for writes that need nothing else of it. */
  hasWorkspace(accountSid: string, sid: string): Promise<boolean>;
  listWorkspaces(accountSid: string, filter: WorkspaceFilter, page: PageQuery): Promise<Page<Workspace>>;
}

export interface WorkspaceWrites {
  insertWorkspace(workspace: NewWorkspace): Promise<void>;
  updateWorkspace(sid: string, patch: WorkspacePatch, now: Date): Promise<void>;
  /** Removes the workspace at once; everything in it is reclaimed later (see ReclaimWrites). */
  deleteWorkspace(sid: string): Promise<void>;
  /**
   * Holds the workspace's writes apart until commit: `shared` for one worker's membership,
   * `exclusive` for a whole queue's and for a create that a count limits (activities, task
   * channels), so that none decides on data another is changing. A no-op with one writer (SQLite).
   */
  holdWorkspace(workspaceSid: string, mode: 'shared' | 'exclusive'): Promise<void>;
}
