import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChangeBus, WorkspaceChange } from '../services/changes.js';

/**
 * What every Server-Sent Events stream of Roster shares: how a client asks for one, how the
 * response starts, the heartbeat, and where a resuming client says what it saw last.
 */

/** A comment line that keeps proxies from closing an idle stream. */
export const HEARTBEAT = Buffer.from(': heartbeat\n\n');

/** Tells EventSource-like clients how soon to come back after a drop. */
export const RETRY = Buffer.from('retry: 1000\n\n');

/** Whether the client asked for the event stream rather than JSON. */
export function wantsEventStream(req: { headers: IncomingHttpHeaders }): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.toLowerCase().includes('text/event-stream');
}

/** The `Last-Event-ID` a reconnecting client sends (or, from polyfills, the `lastEventId` query). */
export function lastEventIdOf(req: FastifyRequest): string | undefined {
  const h = req.headers['last-event-id'];
  const v = Array.isArray(h) ? h[0] : h;
  if (v !== undefined && v.trim() !== '') return v.trim();
  // EventSource polyfills that cannot set headers pass it in the query.
  const q = (req.query as Record<string, unknown> | undefined)?.lastEventId;
  return typeof q === 'string' && q !== '' ? q : undefined;
}

/**
 * Takes the response over from Fastify and starts the stream: the headers set so far (CORS,
 * rate limits) and the event stream's own, which keep proxies from buffering or caching it.
 */
export function startEventStream(reply: FastifyReply): ServerResponse {
  reply.hijack();
  const raw = reply.raw;
  const headers: Record<string, string | number | string[]> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) headers[name] = value;
  }
  raw.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  raw.socket?.setNoDelay(true);
  return raw;
}

/** One client's side of a stream, as the shared parts see it. */
export interface SseSubscriber {
  readonly raw: ServerResponse;
  /** Since when the socket has refused more data; 0 while it drains. */
  blockedSince: number;
  /** Writes a frame (or keeps it for the drain, as the stream's kind decides). */
  send(frame: Buffer): unknown;
}

/** Subscribers that share one computation: a topic, a followed workspace. */
export interface SseGroup<S extends SseSubscriber> {
  /** What it is about; one open group per key. */
  readonly key: string;
  readonly subscribers: Set<S>;
  /** No more events for it: it stops its timers. */
  close(): void;
}

export interface SseStreamOptions {
  /** A comment line this often keeps proxies from closing idle streams. */
  heartbeatMs: number;
  /** A subscriber whose socket has not drained for this long is disconnected. */
  stallTimeoutMs: number;
}

export interface SseObserver {
  opened?(): void;
  closed?(): void;
}

/**
 * What each kind of stream does alike around its own groups: it follows the change bus, keeps
 * streams alive with a heartbeat and drops stalled ones, counts and attaches subscribers (a group
 * goes when its last one leaves), and ends every stream when the server stops.
 */
export abstract class SseStreams<
  S extends SseSubscriber,
  G extends SseGroup<S>,
  O extends SseStreamOptions,
  B extends SseObserver,
> {
  /** The open groups by key. */
  protected readonly groups = new Map<string, G>();
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  protected closing = false;

  constructor(
    changes: ChangeBus,
    readonly options: O,
    readonly observer: B,
    readonly clock: () => number = () => performance.now(),
  ) {
    this.unsubscribe = changes.subscribe((c) => this.onChange(c));
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs);
    this.heartbeat.unref();
  }

  protected abstract onChange(change: WorkspaceChange): void;

  /** Open streams on this node. */
  get size(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.subscribers.size;
    return n;
  }

  /** Starts the response and adds its subscriber to the group. */
  protected attach(reply: FastifyReply, group: G, subscriberOf: (raw: ServerResponse) => S): S {
    const raw = startEventStream(reply);
    const sub = subscriberOf(raw);
    group.subscribers.add(sub);
    this.observer.opened?.();
    raw.on('close', () => {
      if (!group.subscribers.delete(sub)) return;
      this.observer.closed?.();
      if (group.subscribers.size === 0) this.drop(group);
    });
    sub.send(RETRY);
    return sub;
  }

  /** The group's workspace is gone (or the server stops): its streams end. */
  protected end(group: G): void {
    for (const s of group.subscribers) s.raw.end();
    this.drop(group);
  }

  protected drop(group: G): void {
    group.close();
    if (this.groups.get(group.key) === group) this.groups.delete(group.key);
  }

  /** Heartbeats, and a subscriber stalled for too long is disconnected. */
  protected beat(): void {
    const now = this.clock();
    for (const group of this.groups.values()) {
      for (const s of group.subscribers) {
        if (s.blockedSince && now - s.blockedSince > this.options.stallTimeoutMs) s.raw.destroy();
        else if (!s.blockedSince) s.send(HEARTBEAT);
      }
    }
  }

  /** Ends every stream, so that the server can close. */
  close(): void {
    this.closing = true;
    this.unsubscribe();
    clearInterval(this.heartbeat);
    for (const group of [...this.groups.values()]) this.end(group);
  }
}
