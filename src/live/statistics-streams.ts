import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '../domain/errors.js';
import type { WorkspaceChange } from '../services/changes.js';
import { lastEventIdOf, SseStreams, type SseObserver, type SseStreamOptions } from './sse.js';

export { wantsEventStream } from './sse.js';

/**
 * What a stream is about: one real-time statistics resource of one workspace of one account,
 * with or without a TaskChannel filter.
 */
export interface TopicKey {
  accountSid: string;
  workspaceSid: string;
  /**
   * The resource's path under the workspace, e.g. `TaskQueues/WQ…/RealTimeStatistics`
   * (default `Workers/RealTimeStatistics`).
   */
  resource?: string;
  /** The TaskChannel query value as given ('' for none). */
  taskChannel: string;
}

/** Computes the payload: the very bytes the GET serves. Throws NotFoundError when it is gone. */
export type LoadPayload = () => Promise<string>;

export interface StreamOptions extends SseStreamOptions {
  /** At most one event per topic per this many ms; bursts in between are coalesced. */
  intervalMs: number;
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = {
  intervalMs: 50,
  heartbeatMs: 15_000,
  stallTimeoutMs: 30_000,
};

export interface StreamObserver extends SseObserver {
  /** Recomputing a topic failed for another reason than the workspace being gone. */
  loadFailed?(err: unknown): void;
}

/** One connected client. Holds at most one event it could not write yet: the latest. */
class Subscriber {
  /** Since when the socket has refused more data; 0 while it drains. */
  blockedSince = 0;
  pending: Buffer | null = null;
  /**
   * Frames written that the socket may still hold. Frames are shared by every subscriber of a
   * topic, so memory is counted once per frame (see `bufferedBytes`), not once per socket.
   */
  readonly held = new Set<Buffer>();

  constructor(
    readonly raw: ServerResponse,
    private readonly now: () => number,
  ) {
    raw.on('drain', () => {
      this.blockedSince = 0;
      this.held.clear();
      const next = this.pending;
      this.pending = null;
      if (next) this.write(next);
    });
  }

  /** Writes, or keeps the frame to write on drain, replacing one kept before. */
  send(frame: Buffer): void {
    if (this.blockedSince) this.pending = frame;
    else this.write(frame);
  }

  private write(frame: Buffer): void {
    if (this.raw.destroyed || this.raw.writableEnded) return;
    if (!this.raw.write(frame)) this.blockedSince = this.now();
    if (this.raw.writableLength === 0) this.held.clear();
    else this.held.add(frame);
  }
}

/** Every subscriber of one key shares one computation and one encoded frame per event. */
class Topic {
  readonly subscribers = new Set<Subscriber>();
  /** The last computed payload's frame and id (null until first computed). */
  frame: Buffer | null = null;
  json = '';
  id = 0;
  private dirty = false;
  private loading: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastLoadAt = -Infinity;
  private error: unknown;
  closed = false;

  constructor(
    private readonly streams: StatisticsStreams,
    readonly key: string,
    readonly workspaceSid: string,
    private readonly load: LoadPayload,
  ) {}

  /** Loads now (the first time), or waits for a load in flight; throws what the first load threw. */
  async ready(): Promise<void> {
    if (!this.frame) await (this.loading ??= this.refresh());
    if (!this.frame) throw this.error;
  }

  /** A change happened: load again once the interval since the last load allows. */
  changed(): void {
    this.dirty = true;
    if (this.timer || this.loading || this.closed) return;
    const wait = Math.max(0, this.lastLoadAt + this.streams.options.intervalMs - this.streams.clock());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.loading = this.refresh();
    }, wait);
  }

  /** Never rejects: a failure is kept in `error` for `ready()`. */
  private async refresh(): Promise<void> {
    this.dirty = false;
    this.lastLoadAt = this.streams.clock();
    // The id is read before loading: the payload reflects at least every change up to it.
    const id = this.streams.versionOf(this.workspaceSid);
    try {
      const json = await this.load();
      this.error = undefined;
      if (json !== this.json) {
        this.json = json;
        this.id = id;
        this.frame = Buffer.from(`id: ${id}\ndata: ${json}\n\n`);
        for (const s of this.subscribers) s.send(this.frame);
      }
    } catch (err) {
      this.error = err;
      if (err instanceof NotFoundError) this.streams.endTopic(this);
      else this.streams.observer.loadFailed?.(err);
      // Otherwise subscribers keep the last state; the next change tries again.
    } finally {
      this.loading = null;
      if (this.dirty && !this.closed) this.changed();
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/**
 * Server-Sent Events of a workspace's RealTimeStatistics resources (Workers, the workspace's
 * own, each TaskQueue's and Workflow's): any change in the workspace may change any of them.
 *
 * Change notifications (never a timer per subscriber) mark a topic dirty; it is recomputed
 * at most once per interval however many subscribe, and the encoded event is shared.
 *
 * Event ids: per workspace, an integer that starts near the current time in microseconds
 * when this node first hears of the workspace and grows by one with each change it hears
 * of. So ids keep growing across restarts, and a `Last-Event-ID` from another node or an
 * earlier process is simply not the current one.
 */
export class StatisticsStreams extends SseStreams<Subscriber, Topic, StreamOptions, StreamObserver> {
  private readonly versions = new Map<string, number>();

  /**
   * Bytes of events written to streams but not yet taken by the sockets, plus events held back:
   * each distinct event once, however many subscribers share it.
   */
  get bufferedBytes(): number {
    const frames = new Set<Buffer>();
    for (const t of this.groups.values()) {
      for (const s of t.subscribers) {
        if (s.raw.writableLength === 0) s.held.clear();
        for (const frame of s.held) frames.add(frame);
        if (s.pending) frames.add(s.pending);
      }
    }
    let n = 0;
    for (const frame of frames) n += frame.length;
    return n;
  }

  versionOf(workspaceSid: string): number {
    let v = this.versions.get(workspaceSid);
    if (v === undefined) {
      v = Date.now() * 1000;
      this.versions.set(workspaceSid, v);
    }
    return v;
  }

  protected onChange(change: WorkspaceChange): void {
    if (change.kind === 'deleted') this.versions.delete(change.workspaceSid);
    else this.versions.set(change.workspaceSid, this.versionOf(change.workspaceSid) + 1);
    for (const topic of this.groups.values()) {
      if (topic.workspaceSid === change.workspaceSid) topic.changed();
    }
  }

  /**
   * Answers the request with the stream. Errors (an unknown workspace or task channel) are
   * thrown before anything is written, so they reach the client as ordinary Twilio errors.
   */
  async open(req: FastifyRequest, reply: FastifyReply, key: TopicKey, load: LoadPayload): Promise<void> {
    const id = `${key.accountSid}|${key.workspaceSid}|${key.resource ?? 'Workers/RealTimeStatistics'}|${key.taskChannel}`;
    let topic = this.groups.get(id);
    if (!topic) {
      topic = new Topic(this, id, key.workspaceSid, load);
      this.groups.set(id, topic);
    }
    try {
      await topic.ready();
    } catch (err) {
      if (topic.subscribers.size === 0) this.drop(topic);
      throw err;
    }
    if (this.closing || topic.closed) throw new NotFoundError('Workspace', key.workspaceSid);

    // Tells EventSource-like clients how soon to come back, then the state unless they have it.
    const sub = this.attach(reply, topic, (raw) => new Subscriber(raw, this.clock));
    const lastEventId = lastEventIdOf(req);
    if (lastEventId === undefined || lastEventId !== String(topic.id)) {
      sub.send(topic.frame!);
    }
  }

  /** The workspace is gone: its streams end. */
  endTopic(topic: Topic): void {
    this.end(topic);
  }
}
