import type { Activity } from '../../domain/types.js';
import type { Page, PageQuery } from './paging.js';

export interface ActivityFilter {
  friendlyName?: string;
  available?: boolean;
}

export interface NewActivity {
  sid: string;
  accountSid: string;
  workspaceSid: string;
  friendlyName: string;
  available: boolean;
  now: Date;
}

export interface ActivityReads {
  getActivity(workspaceSid: string, sid: string): Promise<Activity | null>;
  listActivities(workspaceSid: string, filter: ActivityFilter, page: PageQuery): Promise<Page<Activity>>;
}

export interface ActivityWrites {
  /** Throws ConflictError when the workspace has an activity of that name (case-insensitively). */
  insertActivity(activity: NewActivity): Promise<void>;
  updateActivity(sid: string, friendlyName: string, now: Date): Promise<void>;
  deleteActivity(sid: string): Promise<void>;
}
