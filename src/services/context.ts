import { AsyncLocalStorage } from 'node:async_hooks';
import type { TwilioLimits } from '../domain/defaults.js';
import { InvalidParameterError, NotFoundError } from '../domain/errors.js';
import type { Workspace } from '../domain/types.js';
import type { Clock } from '../domain/clock.js';
import type { ChangeBus } from './ports/changes.js';
import type { NewDomainEvent, Store, StoreReader, StoreTx } from './ports/store.js';

/**
 * What every service needs: the store, the clock, the change bus, and Twilio's limits (null when
 * the setting lifts them).
 */
export interface ServiceDeps {
  store: Store;
  clock: Clock;
  /** The clock's time as a Date. */
  now: () => Date;
  changes: ChangeBus;
  limits: TwilioLimits | null;
}

/** What the request being served says of itself (set by the HTTP layer): its client's address. */
export const requestContext = new AsyncLocalStorage<{ sourceIp: string }>();

/**
 * Appends the event of a change to the log, in the change's transaction; the actor is the
 * account unless said otherwise, the time the clock's, the source the request's client.
 * Notifications follow from it after commit (see `createServices`).
 */
export function record(
  tx: StoreTx,
  deps: ServiceDeps,
  event: Omit<NewDomainEvent, 'actor' | 'timeMs'> & { actor?: string },
): Promise<void> {
  return tx.appendEvent({
    ...event,
    actor: event.actor ?? event.accountSid,
    timeMs: deps.clock.now(),
    sourceIp: event.sourceIp ?? requestContext.getStore()?.sourceIp ?? null,
  });
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

/** A 400 for going over one of Twilio's limits: says which, and how to lift it. */
export function overLimit(parameter: string, what: string): InvalidParameterError {
  return new InvalidParameterError(parameter, `${what} (Twilio's limit; ROSTER_TWILIO_LIMITS=off lifts it)`);
}
