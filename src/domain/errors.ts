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

/** What the operator and the client are told about a store that cannot take a request. */
export interface Unavailability {
  /** Said to the client instead of "the store cannot be reached". */
  clientMessage?: string;
  /** When to try again (Retry-After); left out when only the operator can help. */
  retryAfterSeconds?: number;
  /** One log line for the operator: what is wrong and what to do. */
  operatorMessage?: string;
}

/** The store cannot be reached right now, or cannot write; the request may be retried. */
export class UnavailableError extends RosterError {
  readonly kind = 'unavailable';
  constructor(
    message: string,
    readonly unavailability: Unavailability = {},
  ) {
    super(message);
  }
}

/** The configuration (environment, data directory) cannot be used; start-up stops with its message. */
export class ConfigError extends Error {}
