import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccountService } from '../services/accounts.js';
import { basicCredentials } from './auth.js';
import { CORS_HEADERS_ANY_ORIGIN } from './headers.js';
import type { RateDecision, RateLimiter, RequestKind } from './rate-limit.js';

/** Raw headers are a flat list: name, value, name, value… */
const CORS_FLAT = CORS_HEADERS_ANY_ORIGIN.flat();

/**
 * A fast path's credentials and rate limit, checked as the framework's auth hook checks them.
 * Null when the framework should answer (401, 429): nothing has been written or charged then.
 */
export async function admitFast(
  accounts: AccountService,
  limiter: RateLimiter,
  req: IncomingMessage,
  kind: RequestKind,
): Promise<{ accountSid: string; decision: RateDecision } | null> {
  const creds = basicCredentials(req.headers.authorization);
  if (!creds || !(await accounts.authenticate(creds.user, creds.password))) return null;
  const decision = limiter.take(creds.user, kind);
  return decision.allowed ? { accountSid: creds.user, decision } : null;
}

/**
 * A JSON response from a fast path (a request served before the framework), with the headers
 * the framework's hooks would have set, in the same order: CORS for a request without Origin,
 * the rate limit, then the route's own.
 *
 * The body is a string: Node then sends head and body in one write, where a Buffer body costs a
 * gathered write of two (measured: a statistics read costs up to a fifth less CPU this way).
 */
export function writeFastJson(
  res: ServerResponse,
  status: number,
  body: string,
  kind: RequestKind,
  decision: RateDecision,
  extra: readonly string[] = [],
): void {
  res.writeHead(status, [
    ...CORS_FLAT,
    'X-Rate-Limit-Config',
    kind,
    'X-Rate-Limit-Limit',
    String(decision.limit),
    'X-Rate-Limit-Remaining',
    String(decision.remaining),
    ...extra,
    'content-type',
    'application/json; charset=utf-8',
    'content-length',
    String(Buffer.byteLength(body)),
  ]);
  res.end(body);
}
