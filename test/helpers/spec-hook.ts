import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { expect } from 'vitest';
import { spec, specProblems } from './spec.js';

/**
 * A test-only `onSend` hook that checks every response against Twilio's spec: a 2xx from a
 * /v1 route must be a status the spec lists for that operation, with a body that matches its
 * schema (and no fields the spec lacks); a 4xx/5xx body from the API (/v1, or no route at all)
 * must be exactly Twilio's error body.
 *
 * It never throws (that would turn the response into a 500): it collects violations, which the
 * test helpers assert on (`expectNoSpecViolations`, and when an app is closed).
 */
export interface SpecHook {
  /** Every violation seen and not yet taken, each naming the request and the test it came from. */
  violations(): readonly string[];
  /** Returns the violations so far and forgets them. */
  take(): string[];
}

const ERROR_KEYS = ['code', 'message', 'more_info', 'status'];

/** `/v1/Workspaces/:WorkspaceSid/Workers/:Sid` → `/v1/Workspaces/{WorkspaceSid}/Workers/{Sid}` */
export function specPath(routeUrl: string): string {
  return routeUrl.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function payloadText(payload: unknown): string | null {
  if (payload === undefined || payload === null) return '';
  if (typeof payload === 'string') return payload;
  if (Buffer.isBuffer(payload)) return payload.toString('utf8');
  return null; // a stream: nothing this server sends
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function errorBodyProblems(body: unknown, status: number): string[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return ['error body is not an object'];
  const b = body as Record<string, unknown>;
  const problems: string[] = [];
  const keys = Object.keys(b).sort();
  if (keys.join(',') !== ERROR_KEYS.join(','))
    problems.push(`error body keys are [${keys.join(', ')}], not [${ERROR_KEYS.join(', ')}]`);
  if (!Number.isInteger(b.code)) problems.push('error code is not an integer');
  if (typeof b.message !== 'string' || b.message === '')
    problems.push('error message is not a non-empty string');
  if (b.status !== status) problems.push(`error body status ${String(b.status)} is not the HTTP status`);
  if (b.more_info !== `https://www.twilio.com/docs/errors/${String(b.code)}`)
    problems.push(`more_info ${String(b.more_info)} does not name the code`);
  return problems;
}

function responseProblems(req: FastifyRequest, reply: FastifyReply, payload: unknown): string[] {
  const status = reply.statusCode;
  const text = payloadText(payload);
  const contentType = String(reply.getHeader('content-type') ?? '');
  const isJson = contentType.startsWith('application/json');
  const route = req.routeOptions.url;
  // The Twilio API: /v1, and requests no route matched. /metrics and the dashboard speak their own.
  if (!req.url.startsWith('/v1') && route !== undefined && !route.startsWith('/v1')) return [];

  if (status >= 400) {
    if (!isJson) return [`error response has Content-Type "${contentType}"`];
    if (text === null) return ['error body is a stream'];
    const parsed = parseJson(text);
    return parsed.ok ? errorBodyProblems(parsed.value, status) : ['error body is not JSON'];
  }

  const method = req.method.toLowerCase();
  if (status < 200 || status >= 300 || !['get', 'post', 'delete'].includes(method)) return [];
  if (route === undefined || !route.startsWith('/v1')) return [];
  const operation = spec.paths[specPath(route)]?.[method];
  if (!operation?.operationId)
    return [`no operation in the spec for ${method.toUpperCase()} ${specPath(route)}`];
  const id = operation.operationId;
  const response = operation.responses?.[String(status)];
  if (!response) return [`${id} answered ${status}, a status the spec does not list`];

  const schema = response.content?.['application/json']?.schema;
  if (!schema) return text === '' ? [] : [`${id} ${status} has a body the spec does not describe`];
  if (!isJson) return [`${id} ${status} has Content-Type "${contentType}"`];
  if (text === null) return [`${id} ${status} body is a stream`];
  const parsed = parseJson(text);
  if (!parsed.ok) return [`${id} ${status} body is not JSON`];
  return specProblems(id, status, parsed.value).map((p) => `${id} ${status}: ${p}`);
}

function currentTestName(): string {
  try {
    return expect.getState().currentTestName ?? '(outside a test)';
  } catch {
    return '(outside a test)';
  }
}

/** Adds the hook to `app`; call before `app.ready()` / `app.listen()`. */
export function installSpecHook(app: FastifyInstance): SpecHook {
  let violations: string[] = [];
  app.addHook('onSend', (req, reply, payload, done) => {
    try {
      const problems = responseProblems(req, reply, payload);
      if (problems.length > 0) {
        const where = `${req.method} ${req.url} → ${reply.statusCode} [${currentTestName()}]`;
        violations.push(...problems.map((p) => `${where}: ${p}`));
      }
    } catch (err) {
      violations.push(`${req.method} ${req.url}: the spec check itself failed: ${String(err)}`);
    }
    done(null, payload);
  });
  return {
    violations: () => violations,
    take() {
      const taken = violations;
      violations = [];
      return taken;
    },
  };
}

/** Fails the current test (or hook) if any response seen so far broke the spec; then starts afresh. */
export function expectNoSpecViolations(hook: SpecHook): void {
  expect(hook.take(), 'responses that do not match the spec').toEqual([]);
}
