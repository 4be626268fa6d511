import type { IncomingMessage, ServerResponse } from 'node:http';
import { RosterError } from '../domain/errors.js';
import type { Services } from '../services/index.js';
import { workerEtag } from '../services/workers.js';
import { fromRosterError, type TwilioErrorBody } from '../twilio/errors.js';
import { toWorkerJson, type Urls } from '../twilio/serialize.js';
import { parseForm } from './body.js';
import { resourcePath } from './context.js';
import { INTERNAL_ERROR } from './errors.js';
import { admitFast, writeFastJson } from './fast-response.js';
import type { RateLimiter } from './rate-limit.js';
import { workerPatch } from './routes/v1/workers.js';

/** A worker by SID, nothing else in the URL; other shapes are the framework's (and often 404s). */
const WORKER_URL = /^\/v1\/Workspaces\/(WS[0-9a-f]{32})\/Workers\/(WK[0-9a-f]{32})$/;
const FORM = 'application/x-www-form-urlencoded';
/** Larger bodies (long Attributes) go the framework's way, with its body limit. */
const MAX_BODY_BYTES = 16 * 1024;

export const WORKER_ROUTE = '/v1/Workspaces/:WorkspaceSid/Workers/:Sid';

export interface FastWorkerUpdateDeps {
  services: Services;
  limiter: RateLimiter;
  urls: Urls;
  /** Counts a served response (the route's metrics). */
  observe?: (method: string, route: string, status: number, elapsedMs: number) => void;
  /** An error that is neither Roster's nor the client's: logged and counted as the framework does. */
  unexpected?: (err: unknown) => void;
}

/**
 * Worker updates (`POST /v1/Workspaces/{ws}/Workers/{sid}`), the write a contact centre makes
 * most (an agent changing activity), answered straight from Node's HTTP server like the
 * statistics read (src/http/fast-statistics.ts), in their common case: a form body of modest
 * size, valid credentials within the rate limit, no If-Match and no Origin. It runs the route's
 * own parameter parsing (`workerPatch`) and service call, and answers with the route's bytes and
 * headers, errors included (test/http/fast-worker-update.test.ts compares the two).
 *
 * Everything it decides before reading the body: a request that is not its own, bad credentials
 * or a spent rate limit resolve false having read nothing, and the framework answers in full.
 * Once it reads the body it answers itself.
 */
export function fastWorkerUpdate(deps: FastWorkerUpdateDeps) {
  const { accounts, workers } = deps.services;

  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    match: RegExpExecArray,
    length: number,
  ): Promise<boolean> => {
    const started = performance.now();
    const admitted = await admitFast(accounts, deps.limiter, req, 'Write');
    if (!admitted) return false;
    const { accountSid, decision } = admitted;

    const body = await readBody(req, length);
    if (!body) {
      res.destroy(); // the client went away mid-body: there is no one to answer
      return true;
    }
    let status = 200;
    let out: string;
    let extra: string[] = [];
    try {
      const patch = workerPatch(parseForm(body));
      const worker = await workers.update(accountSid, match[1]!, match[2]!, patch, undefined);
      out = JSON.stringify(toWorkerJson(worker, deps.urls));
      extra = ['ETag', workerEtag(worker)];
    } catch (err) {
      let error: TwilioErrorBody;
      if (err instanceof RosterError) {
        error = fromRosterError(err, resourcePath(req.url!));
      } else {
        deps.unexpected?.(err);
        error = INTERNAL_ERROR;
      }
      status = error.status;
      out = JSON.stringify(error);
    }
    writeFastJson(res, status, out, 'Write', decision, extra);
    deps.observe?.('POST', WORKER_ROUTE, status, performance.now() - started);
    return true;
  };

  /** False at once for every request that is not ours; otherwise whether it was served. */
  return (req: IncomingMessage, res: ServerResponse): false | Promise<boolean> => {
    if (req.method !== 'POST' || req.url === undefined) return false;
    const h = req.headers;
    if (h['content-type'] !== FORM || h.origin !== undefined || h['if-match'] !== undefined) return false;
    if (h['transfer-encoding'] !== undefined || h.expect !== undefined) return false;
    const length = Number(h['content-length']);
    if (!(length > 0 && length <= MAX_BODY_BYTES)) return false;
    const match = WORKER_URL.exec(req.url);
    if (!match) return false;
    return serve(req, res, match, length);
  };
}

/** The whole body, or null if the request ended early or failed. */
function readBody(req: IncomingMessage, length: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
    });
    req.once('end', () => resolve(size === length ? Buffer.concat(chunks, size) : null));
    req.once('error', () => resolve(null));
    req.once('close', () => resolve(null)); // after 'end' this changes nothing
  });
}
