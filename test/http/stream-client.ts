import type { TestApp } from '../helpers/app.js';
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/**
 * A minimal Server-Sent Events client over node:http, for tests and the bench: it parses
 * the stream as it arrives and lets callers wait for events (never for time).
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  private consumed = 0;
  private buffer = '';
  private waiters: (() => void)[] = [];
  ended = false;
  /** Called for each event as it is parsed (the bench timestamps here). */
  onEvent?: (e: SseEvent) => void;

  private constructor(
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    readonly res: IncomingMessage,
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.push(chunk));
    const end = () => {
      this.ended = true;
      this.wake();
    };
    res.on('end', end);
    res.on('close', end);
    res.on('error', end);
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        { agent: false, headers: { accept: 'text/event-stream', ...headers } },
        (res) => resolve(new SseClient(res.statusCode ?? 0, res.headers, res)),
      );
      req.on('error', reject);
      req.end();
    });
  }

  /** The whole body, for responses that are not streams (errors). */
  async text(): Promise<string> {
    await this.waitUntil(() => this.ended);
    return this.buffer;
  }

  private push(chunk: string): void {
    this.buffer += chunk.replace(/\r\n?/g, '\n');
    if (!String(this.headers['content-type']).startsWith('text/event-stream')) return;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) !== -1) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const e: SseEvent = { data: '' };
      const data: string[] = [];
      let isEvent = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) {
          this.comments.push(line.slice(1).trim());
          continue;
        }
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') {
          data.push(value);
          isEvent = true;
        } else if (field === 'id') e.id = value;
        else if (field === 'event') e.event = value;
      }
      if (isEvent) {
        e.data = data.join('\n');
        this.events.push(e);
        this.onEvent?.(e);
      }
    }
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once `cond()` holds, re-checked whenever something arrives. */
  async waitUntil(cond: () => boolean, deadlineMs = WAIT_DEADLINE_MS): Promise<void> {
    if (cond()) return;
    // A safety net, not a timing assertion: a stream that never delivers fails with a reason.
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      this.wake();
    }, deadlineMs);
    try {
      while (!cond()) {
        if (this.ended) throw new Error('stream ended while waiting');
        if (expired) throw new Error(`stream: not seen within ${deadlineMs} ms: ${String(cond)}`);
        await new Promise<void>((r) => this.waiters.push(r));
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next event not yet returned. */
  async next(): Promise<SseEvent> {
    await this.waitUntil(() => this.events.length > this.consumed);
    return this.events[this.consumed++]!;
  }

  /** Skips events until one whose JSON data satisfies `match`; returns it. */
  async nextMatching(match: (json: unknown) => boolean): Promise<SseEvent> {
    for (;;) {
      const e = await this.next();
      if (match(JSON.parse(e.data))) return e;
    }
  }

  /** Resolves when the server ends the stream. */
  closed(): Promise<void> {
    return this.waitUntil(() => this.ended);
  }

  close(): void {
    this.res.destroy();
  }
}

/** Sends the request and reads nothing until `resume()`: a subscriber that has stalled. */
export function stalledSubscriber(
  port: number,
  path: string,
  auth: string,
): { socket: Socket; received: () => string; resume: () => void } {
  let text = '';
  const socket = connect(port, '127.0.0.1');
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: ${auth}\r\n\r\n`,
  );
  socket.pause();
  return {
    socket,
    received: () => text,
    resume: () => {
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        // Keep only the tail: callers look for the last event.
        text = (text + chunk).slice(-1_000_000);
      });
      socket.resume();
    },
  };
}

/** Re-checks `cond` as the event loop turns; for state only the server can see. */
export async function waitFor(cond: () => boolean, deadlineMs = WAIT_DEADLINE_MS): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`not seen within ${deadlineMs} ms: ${String(cond)}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** How long a test waits for what it expects before failing with a reason (the suite's own timeout is 30 s). */
const WAIT_DEADLINE_MS = 20_000;

/**
 * A workspace with `count` extra activities (so that every statistics event is large) and one
 * worker; returns the activities' SIDs (defaults first) and the worker's.
 */
/** Needs an app with Twilio's limits lifted (`twilioLimits: false`) past 97 activities. */
export async function workspaceWithManyActivities(
  t: TestApp,
  name: string,
  count: number,
  available = false,
): Promise<{ sid: string; activities: string[]; worker: string }> {
  const sid = (
    await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: name } })
  ).json().sid as string;
  for (let i = 0; i < count; i++) {
    const res = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${sid}/Activities`,
      form: { FriendlyName: `Activity number ${String(i).padStart(4, '0')}`, Available: String(available) },
    });
    if (res.statusCode !== 201) throw new Error(`activity ${i}: ${res.statusCode} ${res.body}`);
  }
  const activities = (
    (await t.request({ url: `/v1/Workspaces/${sid}/Activities?PageSize=1000` })).json().activities as {
      sid: string;
    }[]
  ).map((a) => a.sid);
  const worker = (
    await t.request({ method: 'POST', url: `/v1/Workspaces/${sid}/Workers`, form: { FriendlyName: 'w' } })
  ).json().sid as string;
  return { sid, activities, worker };
}
