import { ConflictError } from './errors.js';
import type { Workspace } from './types.js';

/** An activity may go only when no worker is in it and the workspace does not fall back on it. */
export function checkActivityDeletable(
  workspace: Pick<Workspace, 'defaultActivitySid' | 'timeoutActivitySid'>,
  activitySid: string,
  workersInIt: number,
): void {
  if (workspace.defaultActivitySid === activitySid || workspace.timeoutActivitySid === activitySid) {
    throw new ConflictError(
      `Activity ${activitySid} is the workspace's default or timeout activity and cannot be deleted`,
    );
  }
  if (workersInIt > 0) {
    throw new ConflictError(`Activity ${activitySid} cannot be deleted: ${workersInIt} worker(s) are in it`);
  }
}
