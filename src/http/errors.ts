import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { RosterError, UnavailableError } from '../domain/errors.js';
import {
  ErrorCode,
  fromRosterError,
  notFoundBody,
  twilioError,
  type TwilioErrorBody,
} from '../twilio/errors.js';
import { resourcePath } from './context.js';

/** An error the HTTP layer itself answers (a browser write refused, a wrong method), as Twilio's body. */
export class HttpError extends Error {
  constructor(
    readonly body: TwilioErrorBody,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(body.message);
  }
}

/** Fastify's own client errors (bad bodies, sizes, media types) in Twilio's shape. */
function fromFastifyError(err: FastifyError): TwilioErrorBody | null {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return twilioError(413, ErrorCode.invalidParameter, 'Request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return twilioError(
        415,
        ErrorCode.invalidParameter,
        'Unsupported Content-Type: send application/x-www-form-urlencoded (or application/json)',
      );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return twilioError(400, ErrorCode.invalidParameter, 'The request body is not valid JSON');
    default:
      break;
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return twilioError(
      status,
      ErrorCode.invalidParameter,
      err instanceof SyntaxError ? 'Malformed request body' : err.message,
    );
  }
  return null;
}

/** Browsers send Origin or Sec-Fetch-* headers; API clients (the SDKs, curl) send neither. */
function fromBrowser(req: IncomingMessage): boolean {
  const h = req.headers;
  return h.origin !== undefined || h['sec-fetch-mode'] !== undefined || h['sec-fetch-site'] !== undefined;
}

export function sendError(reply: FastifyReply, body: TwilioErrorBody): FastifyReply {
  // Twilio's Basic challenge, but never to a browser: it would ask the user for credentials and
  // then send them by itself, to any page that makes it call here.
  if (body.status === 401 && !fromBrowser(reply.request.raw)) {
    reply.header('WWW-Authenticate', 'Basic realm="Twilio API"');
  }
  if (body.status === 413) discardRestOfBody(reply);
  return reply.code(body.status).type('application/json; charset=utf-8').send(body);
}

/** After a 413, what a client may still send is read and dropped up to this many bytes… */
const DISCARD_BYTES = 8 * 1024 * 1024;
/** …and for at most this long, before the connection is closed. */
const DISCARD_MS = 5_000;

/**
 * Closing a connection with a request body still arriving makes the kernel reset it, and a client
 * still sending (Node's fetch, the twilio SDK) gets EPIPE instead of the 413. So, as nginx does
 * (RFC 9112 §9.6), the answer is sent, and the rest of the body read and dropped: the connection
 * stays open for the next request if the body ends within a bound of bytes and time, and is
 * closed once past it.
 */
function discardRestOfBody(reply: FastifyReply): void {
  const req = reply.request.raw;
  if (req.complete) return;
  // Fastify asks for `Connection: close`, on which Node closes the socket as soon as the response
  // is written, unread body and all.
  reply.removeHeader('connection');
  const socket = req.socket;
  let seen = 0;
  // An injected request (light-my-request) has a stand-in socket with nothing to close.
  const close = () => (typeof socket.destroy === 'function' ? socket.destroy() : undefined);
  const timer = setTimeout(close, DISCARD_MS);
  timer.unref();
  const onData = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DISCARD_BYTES) close();
  };
  const done = () => {
    clearTimeout(timer);
    req.off('data', onData);
  };
  req.on('data', onData);
  // The request closes once its body has been read in full, or its connection has gone.
  req.once('close', done);
}

/**
 * Errors Node's HTTP parser raises before there is a request (a head over 16 KB, a head or
 * request too slow, bytes that are not HTTP), answered in Twilio's shape rather than Fastify's.
 * Codes follow Roster's 20000 + status where Twilio has none of its own.
 */
export function answerClientError(err: Error & { code?: string; rawPacket?: unknown }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const body =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? twilioError(
          431,
          20431,
          'Request Header Fields Too Large: the request head (URL and headers) is over 16 KB',
        )
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? twilioError(408, 20408, 'Request Timeout: the request did not arrive in time')
        : twilioError(400, ErrorCode.invalidParameter, 'Malformed HTTP request');
  const json = JSON.stringify(body);
  // The answer to a HEAD has no body (the method is the start of what was received).
  const head = Buffer.isBuffer(err.rawPacket) && err.rawPacket.subarray(0, 5).toString('latin1') === 'HEAD ';
  const answer =
    `HTTP/1.1 ${body.status} ${STATUS_CODES[body.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${head ? '' : json}`;
  if (!socket.writable) return void socket.destroy();
  if (body.status !== 431) {
    // A client too slow, or not speaking HTTP, is not waited for.
    socket.write(answer);
    return void socket.destroy();
  }
  socket.end(answer);
  // As after a 413: what the client is still sending is read and dropped (within bounds), so
  // that it reads this answer rather than a reset connection.
  let seen = 0;
  // An injected request (light-my-request) has a stand-in socket with nothing to close.
  const close = () => (typeof socket.destroy === 'function' ? socket.destroy() : undefined);
  const timer = setTimeout(close, DISCARD_MS);
  timer.unref();
  socket.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DISCARD_BYTES) close();
  });
  socket.once('close', () => clearTimeout(timer));
  socket.resume();
}

/** The body for an error that is not Roster's or the framework's own: logged, never shown. */
export const INTERNAL_ERROR = twilioError(500, ErrorCode.internal, 'Internal Server Error');

/**
 * Says each storage condition once, not once per failed request: again only when another one
 * comes, or after a minute while it lasts.
 */
class OperatorLog {
  private last = '';
  private at = -Infinity;
  shouldLog(message: string, nowMs: number): boolean {
    if (message === this.last && nowMs - this.at < 60_000) return false;
    this.last = message;
    this.at = nowMs;
    return true;
  }
}

export function registerErrorHandling(app: FastifyInstance): void {
  const operatorLog = new OperatorLog();
  app.setErrorHandler((err: FastifyError | RosterError, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof HttpError) return sendError(reply.headers(err.headers), err.body);
    if (err instanceof RosterError) {
      if (err.kind === 'too_many_requests' && 'retryAfterSeconds' in err) {
        reply.header('Retry-After', String(err.retryAfterSeconds));
      }
      if (err instanceof UnavailableError) {
        const { retryAfterSeconds, operatorMessage } = err.unavailability;
        if (retryAfterSeconds !== undefined) reply.header('Retry-After', String(retryAfterSeconds));
        if (operatorMessage !== undefined && operatorLog.shouldLog(operatorMessage, Date.now())) {
          req.log.error(operatorMessage);
        }
      }
      return sendError(reply, fromRosterError(err, resourcePath(req.url)));
    }
    const known = fromFastifyError(err);
    if (known) return sendError(reply, known);
    req.log.error({ err }, 'unhandled error');
    return sendError(reply, INTERNAL_ERROR);
  });

  app.setNotFoundHandler((req, reply) => sendError(reply, notFoundBody(resourcePath(req.url))));
}

const METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH'] as const;

/**
 * A known path asked with a method it does not have is a 405 with `Allow` (Twilio's 20004), not a
 * 404: every route registered until `seal()` is collected, and then each of its paths gets the
 * methods it lacks, answering 405. CORS preflight (OPTIONS) has its own route.
 */
export function registerMethodNotAllowed(app: FastifyInstance): { seal(): void } {
  const byPath = new Map<string, Set<string>>();
  let sealed = false;
  app.addHook('onRoute', (route) => {
    if (sealed || route.url.includes('*')) return;
    const methods = byPath.get(route.url) ?? new Set<string>();
    for (const m of [route.method].flat()) methods.add(m);
    byPath.set(route.url, methods);
  });
  return {
    seal() {
      sealed = true;
      for (const [url, methods] of byPath) {
        const missing = METHODS.filter((m) => !methods.has(m));
        if (missing.length === 0) continue;
        const allow = [...methods, 'OPTIONS'].join(', ');
        const refusal = new HttpError(
          twilioError(405, ErrorCode.methodNotAllowed, 'Method not allowed on this resource'),
          { allow },
        );
        app.route({
          method: missing,
          url,
          handler: (_req, _reply) => {
            throw refusal;
          },
        });
      }
    },
  };
}
