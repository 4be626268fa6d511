import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RosterError } from '../domain/errors.js';
import {
  ErrorCode,
  fromRosterError,
  notFoundBody,
  twilioError,
  type TwilioErrorBody,
} from '../twilio/errors.js';
import { resourcePath } from './context.js';

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

export function sendError(reply: FastifyReply, body: TwilioErrorBody): FastifyReply {
  if (body.status === 401) reply.header('WWW-Authenticate', 'Basic realm="Twilio API"');
  return reply.code(body.status).type('application/json; charset=utf-8').send(body);
}

/** The body for an error that is not Roster's or the framework's own: logged, never shown. */
export const INTERNAL_ERROR = twilioError(500, ErrorCode.internal, 'Internal Server Error');

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | RosterError, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof RosterError) {
      if (err.kind === 'too_many_requests' && 'retryAfterSeconds' in err) {
        reply.header('Retry-After', String(err.retryAfterSeconds));
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
