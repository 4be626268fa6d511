import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Services } from '../services/index.js';
import { admitFast, writeFastJson } from './fast-response.js';
import type { RateDecision, RateLimiter } from './rate-limit.js';
import { wantsEventStream } from '../live/statistics-streams.js';

/** The statistics URL with at most a simple TaskChannel parameter; anything else is not ours. */
const STATISTICS_URL =
  /^\/v1\/Workspaces\/(WS[0-9a-fA-F]{32})\/Workers\/RealTimeStatistics(?:\?TaskChannel=([A-Za-z0-9_.-]{1,64}))?$/;

export const STATISTICS_ROUTE = '/v1/Workspaces/:WorkspaceSid/Workers/RealTimeStatistics';

/** Answers remembered per (Authorization header, URL); emptied when the store's generation moves. */
const MEMO_LIMIT = 10_000;

export interface FastStatisticsDeps {
  services: Services;
  limiter: RateLimiter;
  encode: (
    stats: Awaited<ReturnType<Services['statistics']['workersRealTime']>>,
    accountSid: string,
    workspaceSid: string,
  ) => string;
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
 * With a store that can tell when nothing has been committed (SQLite's read generation), an
 * answer is remembered for the same Authorization header and URL for as long as that holds, and
 * served again synchronously: the credentials, the workspace and the counts it was built from
 * are then exactly as they were. The rate limit and metrics still count every request.
 *
 * Returns a function that answers false at once for requests that are not its own; for its own it
 * serves the request and answers true (or resolves true), or resolves false having written
 * nothing, and the request goes to the framework, which answers it (errors included) in full.
 */
export function fastStatistics(deps: FastStatisticsDeps) {
  const { accounts, statistics } = deps.services;
  let memo = new Map<string, { accountSid: string; body: string }>();
  let memoGeneration: number | undefined;

  const write = (res: ServerResponse, body: string, decision: RateDecision, started: number) => {
    writeFastJson(res, 200, body, 'Read', decision);
    deps.observe?.('GET', STATISTICS_ROUTE, 200, performance.now() - started);
  };

  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    match: RegExpExecArray,
    key: string,
    generation: number | undefined,
    started: number,
  ): Promise<boolean> => {
    const admitted = await admitFast(accounts, deps.limiter, req, 'Read');
    if (!admitted) return false;
    const { accountSid, decision } = admitted;
    const workspaceSid = match[1]!;
    let body: string;
    try {
      body = deps.encode(
        await statistics.workersRealTime(accountSid, workspaceSid, match[2]),
        accountSid,
        workspaceSid,
      );
    } catch {
      // Not found, or the store failing: the framework answers it, charging the request once.
      deps.limiter.refund(accountSid, 'Read');
      return false;
    }
    // Remembered only if nothing was committed while it was read.
    if (generation !== undefined && statistics.generation() === generation && memoGeneration === generation) {
      if (memo.size >= MEMO_LIMIT) memo = new Map();
      memo.set(key, { accountSid, body });
    }
    write(res, body, decision, started);
    return true;
  };

  /** False at once for every request that is not ours; otherwise whether it was served. */
  return (req: IncomingMessage, res: ServerResponse): boolean | Promise<boolean> => {
    if (req.method !== 'GET' || req.url === undefined || req.headers.origin !== undefined) return false;
    const match = STATISTICS_URL.exec(req.url);
    if (!match) return false;
    if (wantsEventStream(req)) return false;
    const started = performance.now();
    const key = `${req.headers.authorization ?? ''}\n${req.url}`;
    const generation = statistics.generation();
    if (generation !== memoGeneration) {
      memo = new Map();
      memoGeneration = generation;
    }
    const known = generation === undefined ? undefined : memo.get(key);
    if (known) {
      const decision = deps.limiter.take(known.accountSid, 'Read');
      if (!decision.allowed) return false;
      write(res, known.body, decision, started);
      return true;
    }
    return serve(req, res, match, key, generation, started);
  };
}
