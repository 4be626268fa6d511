import type { Workflow } from '../../domain/types.js';
import type { Page, PageQuery } from './paging.js';

export interface WorkflowFilter {
  friendlyName?: string;
}

export interface NewWorkflow {
  sid: string;
  accountSid: string;
  workspaceSid: string;
  friendlyName: string;
  configuration: string;
  assignmentCallbackUrl: string | null;
  fallbackAssignmentCallbackUrl: string | null;
  taskReservationTimeout: number;
  now: Date;
}

export interface WorkflowPatch {
  friendlyName?: string;
  configuration?: string;
  assignmentCallbackUrl?: string | null;
  fallbackAssignmentCallbackUrl?: string | null;
  taskReservationTimeout?: number;
}

export interface WorkflowReads {
  getWorkflow(workspaceSid: string, sid: string): Promise<Workflow | null>;
  listWorkflows(workspaceSid: string, filter: WorkflowFilter, page: PageQuery): Promise<Page<Workflow>>;
}

export interface WorkflowWrites {
  insertWorkflow(workflow: NewWorkflow): Promise<void>;
  updateWorkflow(sid: string, patch: WorkflowPatch, now: Date): Promise<void>;
  deleteWorkflow(sid: string): Promise<void>;
}
