import { InvalidParameterError, NotFoundError } from '../domain/errors.js';
import { eventRefs } from '../domain/events.js';
import type {
  DomainEvent,
  EventDelivery,
  EventFilter,
  PositionedEvent,
  LogPosition,
  Page,
  PageQuery,
} from './ports/store.js';
import { requireWorkspace, type ServiceDeps } from './context.js';

/** The Events list's filters as asked: a window (Minutes, or StartDate/EndDate) and resource SIDs. */
export interface EventQuery extends Omit<EventFilter, 'fromMs' | 'toMs' | 'taskChannelSid'> {
  minutes?: number;
  startDate?: Date;
  endDate?: Date;
  /** A task channel's SID or unique name. */
  taskChannel?: string;
}

/** Twilio: "Returns only Events that occurred since this many minutes in the past. The default is 15". */
export const DEFAULT_EVENT_MINUTES = 15;

/** Events of a workspace as the Events resource reads them, and what became of their callbacks. */
export class EventService {
  constructor(private readonly deps: ServiceDeps) {}

  async list(
    accountSid: string,
    workspaceSid: string,
    q: EventQuery,
    page: PageQuery,
  ): Promise<{ page: Page<DomainEvent>; workspaceName: string }> {
    const ws = await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    const filter = await this.filterOf(workspaceSid, q);
    const result = filter
      ? await this.deps.store.listEventPage(workspaceSid, filter, page)
      : emptyPage<DomainEvent>();
    return { page: result, workspaceName: ws.friendlyName };
  }

  async fetch(
    accountSid: string,
    workspaceSid: string,
    sid: string,
  ): Promise<{ event: DomainEvent; workspaceName: string }> {
    const ws = await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    const event = await this.deps.store.getEvent(workspaceSid, sid);
    if (!event) throw new NotFoundError('Event', sid);
    return { event, workspaceName: ws.friendlyName };
  }

  /** Roster's own read: the callbacks still to be delivered, or those that failed for good. */
  async deliveries(
    accountSid: string,
    workspaceSid: string,
    state: 'pending' | 'failed',
    page: PageQuery,
  ): Promise<Page<EventDelivery>> {
    await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    return this.deps.store.listDeliveries(workspaceSid, state, page);
  }

  /**
   * Replay: the events of a time range go to the workspace's EventCallbackUrl again (all of
   * them, whatever its EventsFilter says). Returns how many were queued.
   */
  async replay(accountSid: string, workspaceSid: string, fromMs: number, toMs: number): Promise<number> {
    return this.deps.store.transaction(async (tx) => {
      const ws = await requireWorkspace(tx, accountSid, workspaceSid);
      if (ws.eventCallbackUrl === null) {
        throw new InvalidParameterError(
          'EventCallbackUrl',
          'The workspace has no EventCallbackUrl to replay to',
        );
      }
      const queued = await tx.queueDeliveries(
        workspaceSid,
        ws.eventCallbackUrl,
        fromMs,
        toMs,
        this.deps.clock.now(),
      );
      tx.onCommit(() => this.replayed.forEach((listener) => listener()));
      return queued;
    });
  }

  private readonly replayed = new Set<() => void>();
  /** Hears replays (the callback deliverer wakes up for them). */
  onReplay(listener: () => void): () => void {
    this.replayed.add(listener);
    return () => this.replayed.delete(listener);
  }

  /**
   * An event stream of the workspace with the Events list's filters. It resumes after
   * `lastEventId` (an event's log id) when given; otherwise it starts with the events since
   * StartDate or Minutes ago when one is given, else with the events that follow.
   */
  async stream(
    accountSid: string,
    workspaceSid: string,
    q: EventQuery,
    lastEventId: string | undefined,
  ): Promise<EventStreamRequest> {
    const ws = await requireWorkspace(this.deps.store, accountSid, workspaceSid);
    if (q.endDate !== undefined) {
      throw new InvalidParameterError('EndDate', 'EndDate does not apply to an event stream');
    }
    const filter = await this.filterOf(workspaceSid, q);
    const matches = filter ? (e: DomainEvent) => eventMatches(filter, e) : () => false;
    let start: LogPosition | undefined;
    if (lastEventId !== undefined) {
      if (!/^\d{1,15}$/.test(lastEventId)) {
        throw new InvalidParameterError(
          'Last-Event-ID',
          `Invalid Last-Event-ID: ${lastEventId.slice(0, 32)}`,
        );
      }
      start = await this.deps.store.eventLogPositionOf(workspaceSid, Number(lastEventId));
    } else if (filter && (q.startDate !== undefined || q.minutes !== undefined)) {
      start = await this.positionAt(workspaceSid, filter.fromMs);
    }
    return { workspaceSid, workspaceName: ws.friendlyName, start, matches };
  }

  /** The log position just before its first event at or after `fromMs` (the head when none is). */
  private async positionAt(workspaceSid: string, fromMs: number): Promise<LogPosition> {
    const first = await this.deps.store.listEventPage(
      workspaceSid,
      { fromMs, toMs: Number.MAX_SAFE_INTEGER },
      { pageSize: 1, page: 0 },
    );
    const event = first.items[0];
    if (!event) return this.deps.store.eventLogHead(workspaceSid);
    const at = await this.deps.store.eventLogPositionOf(workspaceSid, event.id);
    return { tx: at.tx, id: event.id - 1 };
  }

  /** The log as streams read it. */
  readonly log: EventLog = {
    read: (workspaceSid, after, limit) => this.deps.store.readEventLog(workspaceSid, after, limit),
    head: (workspaceSid) => this.deps.store.eventLogHead(workspaceSid),
  };

  /** The store's filter, or null when it can match nothing (an unknown task channel). */
  private async filterOf(workspaceSid: string, q: EventQuery): Promise<EventFilter | null> {
    const now = this.deps.clock.now();
    let fromMs: number;
    let toMs: number;
    if (q.startDate !== undefined || q.endDate !== undefined) {
      toMs = q.endDate?.getTime() ?? now;
      fromMs = q.startDate?.getTime() ?? toMs - (q.minutes ?? DEFAULT_EVENT_MINUTES) * 60_000;
    } else {
      toMs = now;
      fromMs = now - (q.minutes ?? DEFAULT_EVENT_MINUTES) * 60_000;
    }
    if (fromMs > toMs) throw new InvalidParameterError('StartDate', 'StartDate must not be after EndDate');
    const filter: EventFilter = {
      fromMs,
      toMs,
      type: q.type,
      sid: q.sid,
      taskSid: q.taskSid,
      reservationSid: q.reservationSid,
      workerSid: q.workerSid,
      taskQueueSid: q.taskQueueSid,
      workflowSid: q.workflowSid,
    };
    if (q.taskChannel !== undefined) {
      const channel = await this.deps.store.getTaskChannel(workspaceSid, q.taskChannel);
      if (!channel) return null;
      filter.taskChannelSid = channel.sid;
    }
    return filter;
  }
}

/** What an event stream follows: which events, and where in the log it starts. */
export interface EventStreamRequest {
  workspaceSid: string;
  workspaceName: string;
  /** After this position; undefined: from now. */
  start: LogPosition | undefined;
  matches: (e: DomainEvent) => boolean;
}

/** A workspace's event log as streams read it (src/live/event-stream.ts). */
export interface EventLog {
  read(
    workspaceSid: string,
    after: LogPosition,
    limit: number,
  ): Promise<{ events: PositionedEvent[]; heldBack: boolean }>;
  head(workspaceSid: string): Promise<LogPosition>;
}

/** Whether an event passes the Events list's resource and type filters. */
export function eventMatches(f: Omit<EventFilter, 'fromMs' | 'toMs'>, e: DomainEvent): boolean {
  if (f.type !== undefined && e.type !== f.type) return false;
  if (f.sid !== undefined && e.sid !== f.sid) return false;
  const refs = eventRefs(e);
  return (
    (f.taskSid === undefined || refs.taskSid === f.taskSid) &&
    (f.reservationSid === undefined || refs.reservationSid === f.reservationSid) &&
    (f.workerSid === undefined || refs.workerSid === f.workerSid) &&
    (f.taskQueueSid === undefined || refs.taskQueueSid === f.taskQueueSid) &&
    (f.workflowSid === undefined || refs.workflowSid === f.workflowSid) &&
    (f.taskChannelSid === undefined || refs.taskChannelSid === f.taskChannelSid)
  );
}

function emptyPage<T>(): Page<T> {
  return { items: [], nextPageToken: null, previousPageToken: null };
}
