import type { Page, PageQuery } from './paging.js';

/**
 * A domain event: one state change, appended to the event log in the transaction that makes
 * the change. `type` uses Twilio's event names (worker.activity.update, workspace.updated, …).
 */
export interface NewDomainEvent {
  type: string;
  accountSid: string;
  workspaceSid: string;
  /** Twilio's ResourceType: Workspace, Activity, TaskChannel, Worker, … */
  resourceType: string;
  resourceSid: string;
  /** Who made the change: the account SID for API calls, `system` for timers. */
  actor: string;
  /** When, in ms since the epoch, from the services' clock. */
  timeMs: number;
  data: Record<string, unknown>;
  /** The event's SID (EV…); the store makes one when the caller does not. */
  sid?: string;
  /** The client address of the request that made the change, when one did. */
  sourceIp?: string | null;
}

export interface DomainEvent extends NewDomainEvent {
  /** Increases in commit order on SQLite; in insertion order on PostgreSQL. */
  id: number;
  sid: string;
  sourceIp: string | null;
}

/** The Events list's filters (all optional, ANDed); times in ms since the epoch, inclusive. */
export interface EventFilter {
  fromMs: number;
  toMs: number;
  type?: string;
  taskSid?: string;
  reservationSid?: string;
  workerSid?: string;
  taskQueueSid?: string;
  workflowSid?: string;
  taskChannelSid?: string;
  sid?: string;
}

/** An event still to be POSTed to its workspace's EventCallbackUrl, or one that failed for good. */
export interface EventDelivery {
  eventId: number;
  workspaceSid: string;
  url: string;
  state: 'pending' | 'failed';
  attempts: number;
  firstAttemptMs: number | null;
  nextAttemptMs: number;
  lastStatus: number | null;
  lastError: string | null;
  event: DomainEvent;
}

/** What became of one attempt: delivered (the row goes), tried again later, or failed for good. */
export type DeliveryOutcome =
  | { kind: 'delivered' }
  | {
      kind: 'retry' | 'failed';
      attempts: number;
      firstAttemptMs: number;
      nextAttemptMs: number;
      status: number | null;
      error: string;
    };

/**
 * Where a reader of a workspace's log stands: it has every event up to here, in log order
 * ((tx, id): `tx` orders transactions where several write at once, and is 0 where one does).
 */
export interface LogPosition {
  tx: number;
  id: number;
}

/** An event read from the log in log order, with its position. */
export interface PositionedEvent {
  event: DomainEvent;
  position: LogPosition;
}

export interface EventReads {
  /** A workspace's events after `afterId`, oldest first. */
  listEvents(workspaceSid: string, afterId: number, limit: number): Promise<DomainEvent[]>;
  /** The Events list: oldest first in (time, id) order, keyset-paged. */
  listEventPage(workspaceSid: string, filter: EventFilter, page: PageQuery): Promise<Page<DomainEvent>>;
  getEvent(workspaceSid: string, sid: string): Promise<DomainEvent | null>;
  /** A workspace's pending or failed callback deliveries, oldest event first. */
  listDeliveries(
    workspaceSid: string,
    state: 'pending' | 'failed',
    page: PageQuery,
  ): Promise<Page<EventDelivery>>;
  /** Callback deliveries by state (for /metrics). */
  countDeliveries(): Promise<{ pending: number; failed: number }>;
  /** When the earliest pending delivery is due (null when none is). */
  nextDeliveryDue(): Promise<number | null>;
  /** When the next queued assignment callback may be claimed (null when none is queued). */
  nextAssignmentCallbackDue(): Promise<number | null>;
  /**
   * The log after `after`, in log order, and only as far as it is final: no event can commit
   * later at a position before the last one returned. `heldBack` says that committed events
   * wait behind a transaction still running (read again soon; nothing will announce them).
   */
  readEventLog(
    workspaceSid: string,
    after: LogPosition,
    limit: number,
  ): Promise<{ events: PositionedEvent[]; heldBack: boolean }>;
  /** The position of the newest final event of the log (a reader starting there sees what follows). */
  eventLogHead(workspaceSid: string): Promise<LogPosition>;
  /**
   * The position of event `id` of this workspace's log (a reader resumes after it), or when the
   * log no longer holds it (retention), the position just before the oldest event logged after it.
   */
  eventLogPositionOf(workspaceSid: string, id: number): Promise<LogPosition>;
}

export interface EventWrites {
  /** Appends to the log in this transaction: kept only if it commits, published only after. */
  appendEvent(event: NewDomainEvent): Promise<void>;
  /** The same for many events at once (bulk loading). */
  appendEvents(events: readonly NewDomainEvent[]): Promise<void>;
  /**
   * Takes up to `limit` deliveries due at `nowMs` for `leaseMs`, at most one per workspace and
   * only a workspace's oldest pending one (so each workspace's events go out in order, one at a
   * time). Another node passes leased ones by (PostgreSQL: FOR UPDATE SKIP LOCKED). With `batch`,
   * each such head comes with up to `batch - 1` of its workspace's pending ones after it, in order.
   */
  claimDeliveries(nowMs: number, leaseMs: number, limit: number, batch?: number): Promise<EventDelivery[]>;
  settleDelivery(eventId: number, outcome: DeliveryOutcome): Promise<void>;
  /**
   * What became of a batch (claimed with `batch` > 1): the delivered ones go, a failed one is
   * settled as `settleDelivery` would, and the ones not tried are released for the next claim.
   */
  settleDeliveries(
    delivered: readonly number[],
    failure: { eventId: number; outcome: DeliveryOutcome } | null,
    released: readonly number[],
  ): Promise<void>;
  /**
   * Queues the events of a time range for delivery again to `url` (replay); events pending
   * already are left as they are, failed ones are tried again. Returns how many were queued.
   */
  queueDeliveries(
    workspaceSid: string,
    url: string,
    fromMs: number,
    toMs: number,
    nowMs: number,
  ): Promise<number>;
  /**
   * Retention: deletes events older than `beforeMs` among the `limit` oldest of the log (by id,
   * which follows time closely enough: an old event logged after a newer one waits for it), with
   * their deliveries. Returns how many went; 0 once the oldest left is recent.
   */
  deleteEventsBefore(beforeMs: number, limit: number): Promise<number>;
  /**
   * Takes up to `limit` queued assignment callbacks (each a reservation.created whose workflow
   * had an AssignmentCallbackUrl, queued in the reservation's transaction) not leased at `nowMs`,
   * for `leaseMs`; returns their events, oldest first. Another node passes leased ones by.
   */
  claimAssignmentCallbacks(nowMs: number, leaseMs: number, limit: number): Promise<DomainEvent[]>;
  /** Their callbacks are over (`done`: the rows go), or were cut short (released to be claimed again). */
  settleAssignmentCallbacks(eventIds: readonly number[], done: boolean): Promise<void>;
}

/** Hears the events of each committed transaction, in order, after its commit. */
export type CommittedEventsListener = (events: readonly NewDomainEvent[]) => void;
