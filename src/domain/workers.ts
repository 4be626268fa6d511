import { PreconditionFailedError } from './errors.js';
import type { Worker } from './types.js';

/** What a worker update may change. */
export interface WorkerChange {
  friendlyName?: string;
  activitySid?: string;
  attributes?: string;
}

/** The ETag of a worker: its version, quoted. */
export function workerEtag(worker: Pick<Worker, 'version'>): string {
  return `"${worker.version}"`;
}

/** An If-Match precondition holds when one of its tags is `*` or the worker's ETag (weak or not, quoted or not). */
export function checkIfMatch(worker: Pick<Worker, 'version'>, ifMatch: string | undefined): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
  const etag = workerEtag(worker);
  if (!tags.some((t) => t === '*' || t === etag || `"${t}"` === etag)) {
    throw new PreconditionFailedError(
      `If-Match ${ifMatch.slice(0, 64)} does not match the worker's ETag ${etag}`,
    );
  }
}

/**
 * A worker after an update: every update bumps the version and date_updated; the status
 * time moves only when the activity really changes. The stores' guarded update statement
 * does the same in SQL (for speed); the contract suite holds it to this rule.
 */
export function applyWorkerChange<W extends Omit<Worker, 'activityName' | 'available'>>(
  worker: W,
  change: WorkerChange,
  now: Date,
): W {
  const moved = change.activitySid !== undefined && change.activitySid !== worker.activitySid;
  return {
    ...worker,
    friendlyName: change.friendlyName ?? worker.friendlyName,
    attributes: change.attributes ?? worker.attributes,
    activitySid: change.activitySid ?? worker.activitySid,
    version: worker.version + 1,
    dateUpdated: now,
    dateStatusChanged: moved ? now : worker.dateStatusChanged,
  };
}

/**
 * The events of a worker update, by Twilio's names (routing.md §1.7). A new name alone (or an
 * update of nothing, which still bumps the version) has no Twilio event; Roster records it as
 * `worker.updated` so that no change goes unlogged.
 */
export function workerChangeEventTypes(change: WorkerChange): string[] {
  const types: string[] = [];
  if (change.activitySid !== undefined) types.push('worker.activity.update');
  if (change.attributes !== undefined) types.push('worker.attributes.update');
  if (change.friendlyName !== undefined || types.length === 0) types.push('worker.updated');
  return types;
}
