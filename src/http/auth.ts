import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { LRUCache } from 'lru-cache';
import { TooManyRequestsError, UnauthorizedError } from '../domain/errors.js';
import type { AccountService } from '../services/accounts.js';
import { ErrorCode, twilioError } from '../twilio/errors.js';
import { HttpError } from './errors.js';
import type { CorsPolicy } from './headers.js';
import type { RateLimiter, RequestKind } from './rate-limit.js';

/** Decodes `Authorization: Basic base64(user:password)`; null when absent or malformed. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | null {
  if (!header) return null;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Bytes of Authorization headers remembered as having authenticated. */
const VERIFIED_HEADERS_BYTES = 4 * 1024 * 1024;

export interface GuardOptions {
  accounts: AccountService;
  limiter: RateLimiter;
  cors: CorsPolicy;
}

/**
 * The one hook in front of every route: CORS and rate-limit headers on every response; then, for
 * /v1 (but CORS preflight), the browser write check, the account's credentials and its budget for
 * this kind of request.
 *
 * A callback hook, and synchronous in the common case: an Authorization header that authenticated
 * is remembered, by the exact header, for as long as the store's read generation says nothing has
 * been committed since (a rotated token is a commit, so it is refused at the very next request).
 * Only headers that authenticated are kept, bounded in bytes, so a flood of made-up credentials
 * costs a look-up each and no memory.
 */
export function registerGuard(app: FastifyInstance, { accounts, limiter, cors }: GuardOptions): void {
  app.decorateRequest('accountSid', '');
  const verified = new LRUCache<string, { accountSid: string; generation: number }>({
    maxSize: VERIFIED_HEADERS_BYTES,
    sizeCalculation: (_value, header) => header.length + 64,
  });
  const rateHeaders = (kind: RequestKind): Record<string, string> => {
    const limit = limiter.limitOf(kind);
    // With no limit there is no budget to show: "0 remaining" would read as exhausted.
    if (limit === 0) return { 'x-rate-limit-config': kind };
    // Requests that are not charged (preflight, the dashboard) show the full budget.
    return {
      'x-rate-limit-config': kind,
      'x-rate-limit-limit': String(limit),
      'x-rate-limit-remaining': String(limit),
    };
  };
  const headersOf = { Read: rateHeaders('Read'), Write: rateHeaders('Write') };
  // The common case (no Origin: API clients) in one precomputed set per kind of request.
  const plainHeadersOf = {
    Read: { ...cors.anyOrigin, ...headersOf.Read },
    Write: { ...cors.anyOrigin, ...headersOf.Write },
  };

  const admit = (
    req: FastifyRequest,
    reply: FastifyReply,
    kind: RequestKind,
    accountSid: string,
    done: HookHandlerDoneFunction,
  ): void => {
    req.accountSid = accountSid;
    if (limiter.limitOf(kind) === 0) return done();
    const decision = limiter.take(accountSid, kind);
    reply.header('x-rate-limit-remaining', String(decision.remaining));
    done(decision.allowed ? undefined : new TooManyRequestsError(decision.retryAfterSeconds));
  };

  app.addHook('onRequest', (req, reply, done) => {
    const method = req.method;
    const kind: RequestKind =
      method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? 'Read' : 'Write';
    const origin = req.headers.origin;
    if (origin === undefined) reply.headers(plainHeadersOf[kind]);
    else reply.headers(cors.headersFor(origin)).headers(headersOf[kind]);
    if (method === 'OPTIONS' || !(req.url.startsWith('/v1') || req.url.startsWith('/roster/v1')))
      return done();
    if (kind === 'Write' && !cors.mayWrite(req)) {
      return done(
        new HttpError(
          twilioError(403, ErrorCode.forbidden, 'Forbidden: writes from this browser origin are not allowed'),
        ),
      );
    }
    const header = req.headers.authorization;
    if (header === undefined) return done(new UnauthorizedError());
    const generation = accounts.generation();
    const known = generation === undefined ? undefined : verified.get(header);
    if (known !== undefined && known.generation === generation) {
      return admit(req, reply, kind, known.accountSid, done);
    }
    const creds = basicCredentials(header);
    if (!creds) return done(new UnauthorizedError());
    accounts.authenticate(creds.user, creds.password).then(
      (ok) => {
        if (!ok) return done(new UnauthorizedError());
        // Remembered only if nothing was committed while it was checked.
        if (generation !== undefined && accounts.generation() === generation) {
          verified.set(header, { accountSid: creds.user, generation });
        }
        admit(req, reply, kind, creds.user, done);
      },
      (err: Error) => done(err),
    );
  });
}
