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
}

export interface DomainEvent extends NewDomainEvent {
  /** Increases in commit order on SQLite; in insertion order on PostgreSQL. */
  id: number;
}

export interface EventReads {
  /** A workspace's events after `afterId`, oldest first. */
  listEvents(workspaceSid: string, afterId: number, limit: number): Promise<DomainEvent[]>;
}

export interface EventWrites {
  /** Appends to the log in this transaction: kept only if it commits, published only after. */
  appendEvent(event: NewDomainEvent): Promise<void>;
  /** The same for many events at once (bulk loading). */
  appendEvents(events: readonly NewDomainEvent[]): Promise<void>;
}

/** Hears the events of each committed transaction, in order, after its commit. */
export type CommittedEventsListener = (events: readonly NewDomainEvent[]) => void;
