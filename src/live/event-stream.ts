import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Counter } from 'prom-client';
import type { ChangeBus, WorkspaceChange } from '../services/changes.js';
import type { EventLog, EventStreamRequest } from '../services/events.js';
import type { Services } from '../services/index.js';
import type { DomainEvent, PositionedEvent, LogPosition } from '../services/ports/store.js';
import { SseStreams, type SseObserver, type SseStreamOptions } from './sse.js';

export interface EventStreamOptions extends SseStreamOptions {
  /** Events each followed workspace keeps in memory for subscribers a little behind. */
  bufferEvents: number;
  /** Events read from the log at once. */
  readBatch: number;
  /** Read again this soon when committed events wait behind a transaction still running. */
  heldBackRetryMs: number;
}

export const DEFAULT_EVENT_STREAM_OPTIONS: EventStreamOptions = {
  heartbeatMs: 15_000,
  stallTimeoutMs: 30_000,
  bufferEvents: 1_000,
  readBatch: 500,
  heldBackRetryMs: 20,
};

export interface EventStreamObserver extends SseObserver {
  /** Events written to a stream. */
  sent?(count: number): void;
  /** A subscriber behind the buffer read the log itself. */
  caughtUp?(): void;
  readFailed?(err: unknown): void;
}

/** Turns an event into its JSON as the Events resource serializes it. */
export type EncodeEvent = (event: DomainEvent, workspaceName: string) => string;

export function comparePositions(a: LogPosition, b: LogPosition): number {
  return a.tx - b.tx || a.id - b.id;
}

interface Buffered extends PositionedEvent {
  frame: Buffer | null;
}

/**
 * One followed workspace: reads its log after each change notification (one read however
 * many subscribe) and keeps the latest events, encoded once, for every subscriber.
 */
class Feed {
  readonly subscribers = new Set<EventSubscriber>();
  /** Buffered events come after `from`, up to `position` (the newest read). */
  buffer: Buffered[] = [];
  from: LogPosition;
  private reading = false;
  private again = false;
  private retry: NodeJS.Timeout | null = null;
  closed = false;

  constructor(
    readonly streams: EventStreams,
    readonly workspaceSid: string,
    public position: LogPosition,
    public workspaceName: string,
  ) {
    this.from = position;
  }

  get key(): string {
    return this.workspaceSid;
  }

  /** Something committed in the workspace (or a poll): read what follows, once at a time. */
  changed(): void {
    if (this.closed) return;
    if (this.reading) this.again = true;
    else void this.read();
  }

  private async read(): Promise<void> {
    this.reading = true;
    const { log, options } = this.streams;
    try {
      do {
        this.again = false;
        const { events, heldBack } = await log.read(this.workspaceSid, this.position, options.readBatch);
        if (this.closed) return;
        for (const e of events) this.append(e);
        if (events.length > 0) for (const s of this.subscribers) s.pump();
        if (events.length === options.readBatch) this.again = true;
        else if (heldBack) this.readSoon();
      } while (this.again && !this.closed);
    } catch (err) {
      this.streams.observer.readFailed?.(err);
      this.readSoon();
    } finally {
      this.reading = false;
    }
  }

  /** Committed events wait behind a transaction that no notification will announce: poll. */
  private readSoon(): void {
    if (this.retry || this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.changed();
    }, this.streams.options.heldBackRetryMs);
  }

  private append(e: PositionedEvent): void {
    this.buffer.push({ ...e, frame: null });
    this.position = e.position;
    if (e.event.type === 'workspace.updated' && typeof e.event.data.friendly_name === 'string') {
      this.workspaceName = e.event.data.friendly_name;
    }
    const max = this.streams.options.bufferEvents;
    if (this.buffer.length > 2 * max) {
      const dropped = this.buffer.splice(0, this.buffer.length - max);
      this.from = dropped[dropped.length - 1]!.position;
    }
  }

  frameOf(b: Buffered): Buffer {
    return (b.frame ??= this.streams.frame(b.event, this.workspaceName));
  }

  /** Index of the first buffered event after `p` (p is at or after `from`). */
  indexAfter(p: LogPosition): number {
    let lo = 0;
    let hi = this.buffer.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (comparePositions(this.buffer[mid]!.position, p) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
  }
}

/**
 * One client. It has every event up to `position` (matching or not); it takes what follows from
 * its feed's buffer, or, when it is further behind (a resume, a slow socket), from the log itself.
 * It writes until its socket refuses more, then waits for 'drain': memory stays bounded however
 * slow it is, and it loses nothing.
 */
class EventSubscriber {
  blockedSince = 0;
  private catchingUp = false;

  constructor(
    readonly raw: ServerResponse,
    private readonly feed: Feed,
    private readonly matches: (e: DomainEvent) => boolean,
    public position: LogPosition,
  ) {
    raw.on('drain', () => {
      this.blockedSince = 0;
      this.pump();
    });
  }

  get gone(): boolean {
    return this.raw.destroyed || this.raw.writableEnded;
  }

  /** Sends what it has not seen, as far as the socket takes it. */
  pump(): void {
    if (this.catchingUp || this.blockedSince || this.gone) return;
    const feed = this.feed;
    if (comparePositions(this.position, feed.position) >= 0) return;
    if (comparePositions(this.position, feed.from) < 0) {
      void this.catchUp();
      return;
    }
    let sent = 0;
    const buffer = feed.buffer;
    for (let i = feed.indexAfter(this.position); i < buffer.length; i++) {
      const b = buffer[i]!;
      this.position = b.position;
      if (!this.matches(b.event)) continue;
      sent++;
      if (!this.send(feed.frameOf(b))) break;
    }
    if (sent > 0) feed.streams.observer.sent?.(sent);
  }

  /** Reads the log from its position until it reaches the feed's buffer. */
  private async catchUp(): Promise<void> {
    this.catchingUp = true;
    const { log, options, observer } = this.feed.streams;
    try {
      while (!this.blockedSince && !this.gone && comparePositions(this.position, this.feed.from) < 0) {
        observer.caughtUp?.();
        const { events } = await log.read(this.feed.workspaceSid, this.position, options.readBatch);
        let sent = 0;
        for (const e of events) {
          this.position = e.position;
          if (!this.matches(e.event)) continue;
          sent++;
          if (!this.send(this.feed.streams.frame(e.event, this.feed.workspaceName))) break;
        }
        if (sent > 0) observer.sent?.(sent);
        // The log holds nothing more before the buffer (retention took it): go on from there.
        if (events.length < options.readBatch && comparePositions(this.position, this.feed.from) < 0) {
          this.position = this.feed.from;
        }
      }
    } catch (err) {
      observer.readFailed?.(err);
      // The client comes back with Last-Event-ID and loses nothing.
      this.raw.end();
      return;
    } finally {
      this.catchingUp = false;
    }
    this.pump();
  }

  send(frame: Buffer): boolean {
    if (this.gone) return false;
    if (this.raw.write(frame)) return true;
    this.blockedSince = this.feed.streams.clock();
    return false;
  }
}

/**
 * Server-Sent Events of a workspace's event log, with the Events list's filters.
 *
 * Each event is sent once, in log order, as `id: <the event's log id>` and `data: <its JSON as
 * the Events resource serializes it>`. A client that comes back with `Last-Event-ID` resumes
 * right after that event, from memory when it was away briefly, from the log otherwise. Change
 * notifications (which cross nodes on PostgreSQL) say when to read the log; a poll at each
 * heartbeat covers a notification lost on the way.
 */
export class EventStreams extends SseStreams<EventSubscriber, Feed, EventStreamOptions, EventStreamObserver> {
  private readonly opening = new Map<string, Promise<Feed>>();

  constructor(
    changes: ChangeBus,
    readonly log: EventLog,
    private readonly encode: EncodeEvent,
    options: EventStreamOptions = DEFAULT_EVENT_STREAM_OPTIONS,
    observer: EventStreamObserver = {},
    clock?: () => number,
  ) {
    super(changes, options, observer, clock);
  }

  /** Bytes written to event streams that their sockets have not taken yet. */
  get bufferedBytes(): number {
    let n = 0;
    for (const f of this.groups.values()) for (const s of f.subscribers) n += s.raw.writableLength;
    return n;
  }

  frame(event: DomainEvent, workspaceName: string): Buffer {
    return Buffer.from(`id: ${event.id}\ndata: ${this.encode(event, workspaceName)}\n\n`);
  }

  /** Answers the request with the stream (errors were thrown before, by the service). */
  async open(reply: FastifyReply, request: EventStreamRequest): Promise<void> {
    const feed = await this.feedOf(request);
    const start = request.start ?? feed.position;
    const sub = this.attach(reply, feed, (raw) => new EventSubscriber(raw, feed, request.matches, start));
    if (this.closing) {
      sub.raw.end();
      return;
    }
    sub.pump();
  }

  private async feedOf(request: EventStreamRequest): Promise<Feed> {
    for (;;) {
      const feed = await this.openFeed(request);
      // Its last subscriber may have left meanwhile, taking it down: follow a new one.
      if (!feed.closed) return feed;
    }
  }

  private openFeed(request: EventStreamRequest): Promise<Feed> {
    const ws = request.workspaceSid;
    const open = this.groups.get(ws);
    if (open) return Promise.resolve(open);
    let opening = this.opening.get(ws);
    if (!opening) {
      opening = (async () => {
        const head = await this.log.head(ws);
        const feed = new Feed(this, ws, head, request.workspaceName);
        this.groups.set(ws, feed);
        return feed;
      })().finally(() => this.opening.delete(ws));
      this.opening.set(ws, opening);
    }
    return opening;
  }

  protected onChange(change: WorkspaceChange): void {
    const feed = this.groups.get(change.workspaceSid);
    if (!feed) return;
    if (change.kind === 'deleted') this.end(feed);
    else feed.changed();
  }

  /** Each heartbeat also reads the logs: it covers a notification lost on the way. */
  protected override beat(): void {
    super.beat();
    for (const feed of this.groups.values()) feed.changed();
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Server-Sent Event streams of workspaces' event logs. */
    eventStreams: EventStreams;
  }
}

/** The event streams of `GET /v1/Workspaces/{WS}/Events` (after registerLive: it counts them in /metrics). */
export function registerEventStreams(
  app: FastifyInstance,
  services: Pick<Services, 'changes' | 'events'>,
  encode: EncodeEvent,
  options: Partial<EventStreamOptions> = {},
): EventStreams {
  const metrics = app.metrics;
  const sent = new Counter({
    name: 'roster_event_stream_events_total',
    help: 'Events written to event streams by this node since start',
    registers: [metrics.registry],
  });
  const logReads = new Counter({
    name: 'roster_event_stream_catch_up_reads_total',
    help: 'Log reads of event stream subscribers further behind than the in-memory buffer',
    registers: [metrics.registry],
  });
  const known = Object.keys(DEFAULT_EVENT_STREAM_OPTIONS) as (keyof EventStreamOptions)[];
  const given = Object.fromEntries(known.filter((k) => options[k] !== undefined).map((k) => [k, options[k]]));
  const streams = new EventStreams(
    services.changes,
    services.events.log,
    encode,
    { ...DEFAULT_EVENT_STREAM_OPTIONS, ...given },
    {
      opened: () => {
        metrics.openStreams.inc();
        metrics.streamsOpened.inc();
      },
      closed: () => metrics.openStreams.dec(),
      sent: (n) => sent.inc(n),
      caughtUp: () => logReads.inc(),
      readFailed: (err) => {
        metrics.storeError(err);
        app.log.error({ err }, 'event stream: reading the log failed');
      },
    },
  );
  app.decorate('eventStreams', streams);
  const statisticsBytes = metrics.bufferedBytes;
  metrics.bufferedBytes = () => statisticsBytes() + streams.bufferedBytes;
  // Open streams would keep app.close() waiting for ever: end them first.
  app.addHook('preClose', async () => streams.close());
  return streams;
}
