import { UnavailableError, type RosterError } from '../domain/errors.js';

/** Twilio's error body. No `type` or `title`: twilio-node would read it as another exception class. */
export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

export function twilioError(status: number, code: number, message: string): TwilioErrorBody {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

export const ErrorCode = {
  invalidParameter: 20001,
  unauthorized: 20003,
  methodNotAllowed: 20004,
  forbidden: 20403,
  preconditionFailed: 20412,
  notFound: 20404,
  tooManyRequests: 20429,
  internal: 20500,
  unavailable: 20503,
} as const;

/** The catalog: each domain error kind to its status, code and message, in one place. */
export function fromRosterError(err: RosterError, resourcePath: string): TwilioErrorBody {
  switch (err.kind) {
    case 'not_found':
      return twilioError(404, ErrorCode.notFound, `The requested resource ${resourcePath} was not found`);
    case 'invalid_parameter':
    case 'conflict':
      return twilioError(400, ErrorCode.invalidParameter, err.message);
    case 'precondition_failed':
      return twilioError(412, ErrorCode.preconditionFailed, err.message);
    case 'unauthorized':
      return twilioError(401, ErrorCode.unauthorized, 'Authenticate');
    case 'too_many_requests':
      return twilioError(429, ErrorCode.tooManyRequests, 'Too Many Requests');
    case 'unavailable': {
      const said = err instanceof UnavailableError ? err.unavailability.clientMessage : undefined;
      return twilioError(
        503,
        ErrorCode.unavailable,
        said ?? 'Service Unavailable: the store cannot be reached',
      );
    }
    default:
      return twilioError(500, ErrorCode.internal, 'Internal Server Error');
  }
}

export function notFoundBody(resourcePath: string): TwilioErrorBody {
  return twilioError(404, ErrorCode.notFound, `The requested resource ${resourcePath} was not found`);
}
