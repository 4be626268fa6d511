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

/** Whether a change would change nothing: every value it gives is the worker's already. */
export function changesNothing(
  worker: Pick<Worker, 'friendlyName' | 'activitySid' | 'attributes'>,
  change: WorkerChange,
): boolean {
  return (
    (change.friendlyName === undefined || change.friendlyName === worker.friendlyName) &&
    (change.activitySid === undefined || change.activitySid === worker.activitySid) &&
    (change.attributes === undefined || change.attributes === worker.attributes)
  );
}

/**
 * A worker after an update: an update that changes something bumps the version and
 * date_updated, one that changes nothing leaves the worker as it is (same ETag); the status
 * time moves only when the activity really changes. The stores' guarded update statement
 * does the same in SQL (for speed); the contract suite holds it to this rule.
 */
export function applyWorkerChange<W extends Omit<Worker, 'activityName' | 'available'>>(
  worker: W,
  change: WorkerChange,
  now: Date,
): W {
  if (changesNothing(worker, change)) return worker;
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
 * The events of a worker update that changes something, by Twilio's names (routing.md §1.7).
 * A new name alone has no Twilio event; Roster records it as `worker.updated` so that no
 * change goes unlogged. (An update that changes nothing records no event at all.)
 */
export function workerChangeEventTypes(change: WorkerChange): string[] {
  const types: string[] = [];
  if (change.activitySid !== undefined) types.push('worker.activity.update');
  if (change.attributes !== undefined) types.push('worker.attributes.update');
  if (change.friendlyName !== undefined || types.length === 0) types.push('worker.updated');
  return types;
}
