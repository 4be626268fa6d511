import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Services } from '../services/index.js';
import { basicCredentials } from './auth.js';
import { CORS_HEADERS_ANY_ORIGIN } from './headers.js';
import type { RateLimiter } from './rate-limit.js';
import { wantsEventStream } from '../live/statistics-streams.js';

/** The statistics URL with at most a simple TaskChannel parameter; anything else is not ours. */
const STATISTICS_URL =
  /^\/v1\/Workspaces\/(WS[0-9a-fA-F]{32})\/Workers\/RealTimeStatistics(?:\?TaskChannel=([A-Za-z0-9_.-]{1,64}))?$/;

/** Raw headers are a flat list: name, value, name, value… */
const CORS_FLAT = CORS_HEADERS_ANY_ORIGIN.flat();

export const STATISTICS_ROUTE = '/v1/Workspaces/:WorkspaceSid/Workers/RealTimeStatistics';

export interface FastStatisticsDeps {
  services: Services;
  limiter: RateLimiter;
  encode: (
    stats: Awaited<ReturnType<Services['statistics']['workersRealTime']>>,
    accountSid: string,
    workspaceSid: string,
  ) => Buffer;
  /** Counts a served response (the route's metrics). */
  observe?: (method: string, route: string, status: number, elapsedMs: number) => void;
}

/**
 * Workers/RealTimeStatistics, the endpoint Roster exists for, answered straight from Node's HTTP
 * server in its common case: a GET with valid credentials, within the rate limit, for a workspace
 * and task channel that exist, as JSON, from a client that sent no Origin. It does exactly what the
 * route does (same auth, rate limit, store reads, bytes and headers; a test compares the two) but
 * skips the framework's routing and hooks, which cost more than the read itself.
 *
 * Returns a function that answers false at once for requests that are not its own; for its own it
 * serves the request and resolves true, or resolves false having written nothing, and the request
 * goes to the framework, which answers it (errors included) in full.
 */
export function fastStatistics(deps: FastStatisticsDeps) {
  const { accounts, statistics } = deps.services;

  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    match: RegExpExecArray,
  ): Promise<boolean> => {
    const started = performance.now();
    const creds = basicCredentials(req.headers.authorization);
    if (!creds || !(await accounts.authenticate(creds.user, creds.password))) return false;
    const decision = deps.limiter.take(creds.user, 'Read');
    if (!decision.allowed) return false;
    const workspaceSid = match[1]!;
    let body: Buffer;
    try {
      body = deps.encode(
        await statistics.workersRealTime(creds.user, workspaceSid, match[2]),
        creds.user,
        workspaceSid,
      );
    } catch {
      // Not found, or the store failing: the framework answers it, charging the request once.
      deps.limiter.refund(creds.user, 'Read');
      return false;
    }
    res.writeHead(200, [
      ...CORS_FLAT,
      'X-Rate-Limit-Config',
      'Read',
      'X-Rate-Limit-Limit',
      String(decision.limit),
      'X-Rate-Limit-Remaining',
      String(decision.remaining),
      'content-type',
      'application/json; charset=utf-8',
      'content-length',
      String(body.length),
    ]);
    res.end(body);
    deps.observe?.('GET', STATISTICS_ROUTE, 200, performance.now() - started);
    return true;
  };

  /** False at once for every request that is not ours; otherwise whether it was served. */
  return (req: IncomingMessage, res: ServerResponse): false | Promise<boolean> => {
    if (req.method !== 'GET' || req.url === undefined || req.headers.origin !== undefined) return false;
    const match = STATISTICS_URL.exec(req.url);
    if (!match) return false;
    if (wantsEventStream(req)) return false;
    return serve(req, res, match);
  };
}
