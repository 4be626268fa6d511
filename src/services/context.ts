import { NotFoundError } from '../domain/errors.js';
import type { Workspace } from '../domain/types.js';
import type { Store, StoreReader } from '../storage/store.js';

/** What every service needs: the store and a clock (tests may pass a fixed one). */
export interface ServiceDeps {
  store: Store;
  now: () => Date;
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

/** Twilio's dates have whole seconds; keeping ours whole keeps stored and served values equal. */
export function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}
