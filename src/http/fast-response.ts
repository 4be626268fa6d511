import type { ServerResponse } from 'node:http';
import { CORS_HEADERS_ANY_ORIGIN } from './headers.js';
import type { RateDecision, RequestKind } from './rate-limit.js';

/** Raw headers are a flat list: name, value, name, value… */
const CORS_FLAT = CORS_HEADERS_ANY_ORIGIN.flat();

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
  byteLength = Buffer.byteLength(body),
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
    String(byteLength),
  ]);
  res.end(body);
}
