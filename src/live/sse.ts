import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

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
