/**
 * Typed errors thrown by domain, services and storage. The HTTP layer maps each
 * kind to Twilio's wire shape once (src/twilio/errors.ts); nothing matches on text.
 */
export abstract class RosterError extends Error {
  abstract readonly kind: string;
}

export class NotFoundError extends RosterError {
  readonly kind = 'not_found';
  constructor(
    readonly resource: string,
    readonly sid: string,
  ) {
    super(`${resource} ${sid} was not found`);
  }
}

/** A parameter the client sent (or omitted) is not acceptable. */
export class InvalidParameterError extends RosterError {
  readonly kind = 'invalid_parameter';
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

/** The request is well formed but conflicts with the current state (in-use, duplicate). */
export class ConflictError extends RosterError {
  readonly kind = 'conflict';
}

export class PreconditionFailedError extends RosterError {
  readonly kind = 'precondition_failed';
}

export class UnauthorizedError extends RosterError {
  readonly kind = 'unauthorized';
  constructor() {
    super('Authenticate');
  }
}

export class TooManyRequestsError extends RosterError {
  readonly kind = 'too_many_requests';
  constructor(readonly retryAfterSeconds: number) {
    super('Too Many Requests');
  }
}

/** The store cannot be reached right now; the request may be retried. */
export class UnavailableError extends RosterError {
  readonly kind = 'unavailable';
}

/** The configuration (environment, data directory) cannot be used; start-up stops with its message. */
export class ConfigError extends Error {}
