import type { FastifyInstance } from 'fastify';
import { TooManyRequestsError, UnauthorizedError } from '../domain/errors.js';
import type { AccountService } from '../services/accounts.js';
import type { RateLimiter, RequestKind } from './rate-limit.js';

/** Decodes `Authorization: Basic base64(user:password)`; null when absent or malformed. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | null {
  if (!header) return null;
  let decoded = decodedHeaders.get(header);
  if (decoded === undefined) {
    decoded = decodeBasic(header);
    // A client sends the same header on every request: remember the decoding (a pure function
    // of the header), not whether it is valid, which is checked against the store every time.
    if (decodedHeaders.size >= 10_000) decodedHeaders.clear();
    decodedHeaders.set(header, decoded);
  }
  return decoded;
}

const decodedHeaders = new Map<string, { user: string; password: string } | null>();

function decodeBasic(header: string): { user: string; password: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Every /v1 request (but CORS preflight) must carry the account's SID and token; then
 * it spends from that account's budget for its kind of request.
 */
export function registerAuth(app: FastifyInstance, accounts: AccountService, limiter: RateLimiter): void {
  app.decorateRequest('accountSid', '');
  app.addHook('onRequest', async (req, reply) => {
    const kind: RequestKind =
      req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS' ? 'Read' : 'Write';
    // Every response carries the headers; requests that are not charged show the full budget.
    reply.header('X-Rate-Limit-Config', kind);
    reply.header('X-Rate-Limit-Limit', String(limiter.limitOf(kind)));
    reply.header('X-Rate-Limit-Remaining', String(limiter.limitOf(kind)));
    if (req.method === 'OPTIONS' || !req.url.startsWith('/v1')) return;
    const creds = basicCredentials(req.headers.authorization);
    if (!creds || !(await accounts.authenticate(creds.user, creds.password))) throw new UnauthorizedError();
    req.accountSid = creds.user;
    const decision = limiter.take(creds.user, kind);
    reply.header('X-Rate-Limit-Remaining', String(decision.remaining));
    if (!decision.allowed) throw new TooManyRequestsError(decision.retryAfterSeconds);
  });
}
