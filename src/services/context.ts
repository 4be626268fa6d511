import { NotFoundError } from '../domain/errors.js';
import type { Workspace } from '../domain/types.js';
import type { Store, StoreReader, StoreTx } from './ports/store.js';
import type { ChangeBus } from './changes.js';

/** What every service needs: the store, a clock (tests may pass a fixed one) and the change bus. */
export interface ServiceDeps {
  store: Store;
  now: () => Date;
  changes: ChangeBus;
}

/** Announces a workspace's change once the transaction has committed (never after a rollback). */
export function publishOnCommit(
  tx: StoreTx,
  deps: ServiceDeps,
  accountSid: string,
  workspaceSid: string,
  kind: 'updated' | 'deleted' = 'updated',
): void {
  tx.onCommit(() => deps.changes.publish({ accountSid, workspaceSid, kind }));
}

/** The workspace, if the account owns it; another account's workspace is simply not found. */
export async function requireWorkspace(
  reader: StoreReader,
  accountSid: string,
  sid: string,
): Promise<Workspace> {
  const ws = await reader.getWorkspace(accountSid, sid);
  if (!ws) throw new NotFoundError('Workspace', sid);
  return ws;
}

/** As `requireWorkspace`, for writes that need nothing of the workspace but that it is the account's. */
export async function requireOwnWorkspace(
  reader: StoreReader,
  accountSid: string,
  sid: string,
): Promise<void> {
  if (!(await reader.hasWorkspace(accountSid, sid))) throw new NotFoundError('Workspace', sid);
}

/** Twilio's dates have whole seconds; keeping ours whole keeps stored and served values equal. */
export function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}
