import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Services } from '../services/index.js';
import { basicCredentials } from './auth.js';
import { writeFastJson } from './fast-response.js';
import type { RateDecision, RateLimiter } from './rate-limit.js';
import { wantsEventStream } from '../live/statistics-streams.js';

/** The statistics URL with at most a simple TaskChannel parameter; anything else is not ours. */
const STATISTICS_URL =
  /^\/v1\/Workspaces\/(WS[0-9a-fA-F]{32})\/Workers\/RealTimeStatistics(?:\?TaskChannel=([A-Za-z0-9_.-]{1,64}))?$/;

export const STATISTICS_ROUTE = '/v1/Workspaces/:WorkspaceSid/Workers/RealTimeStatistics';

/** Answers remembered per (Authorization header, URL); emptied when the store's generation moves. */
const MEMO_LIMIT = 10_000;

/** A statistics body as the fast path sends it. */
interface Answer {
  body: string;
  byteLength: number;
}

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
  let memo = new Map<string, { accountSid: string; answer: Answer }>();
  let memoGeneration: number | undefined;
  /** The encoder hands back the same Buffer until the counts change: decoded once each. */
  const answers = new WeakMap<Buffer, Answer>();

  const write = (res: ServerResponse, answer: Answer, decision: RateDecision, started: number) => {
    writeFastJson(res, 200, answer.body, 'Read', decision, [], answer.byteLength);
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
    const creds = basicCredentials(req.headers.authorization);
    if (!creds || !(await accounts.authenticate(creds.user, creds.password))) return false;
    const decision = deps.limiter.take(creds.user, 'Read');
    if (!decision.allowed) return false;
    const workspaceSid = match[1]!;
    let encoded: Buffer;
    try {
      encoded = deps.encode(
        await statistics.workersRealTime(creds.user, workspaceSid, match[2]),
        creds.user,
        workspaceSid,
      );
    } catch {
      // Not found, or the store failing: the framework answers it, charging the request once.
      deps.limiter.refund(creds.user, 'Read');
      return false;
    }
    let answer = answers.get(encoded);
    if (!answer) {
      answer = { body: encoded.toString(), byteLength: encoded.length };
      answers.set(encoded, answer);
    }
    // Remembered only if nothing was committed while it was read.
    if (generation !== undefined && statistics.generation() === generation && memoGeneration === generation) {
      if (memo.size >= MEMO_LIMIT) memo = new Map();
      memo.set(key, { accountSid: creds.user, answer });
    }
    write(res, answer, decision, started);
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
      write(res, known.answer, decision, started);
      return true;
    }
    return serve(req, res, match, key, generation, started);
  };
}
