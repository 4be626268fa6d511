import type { FastifyRequest } from 'fastify';
import { InvalidParameterError, NotFoundError } from '../domain/errors.js';
import { isSid, SidPrefix } from '../domain/sid.js';
import type { Services } from '../services/index.js';
import type { ListRequest } from '../twilio/pagination.js';
import type { Params } from '../twilio/params.js';
import type { statisticsEncoder, Urls } from '../twilio/serialize.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth plugin on every /v1 request. */
    accountSid: string;
  }
}

/** What route modules are given. */
export interface RouteDeps {
  services: Services;
  urls: Urls;
  publicUrl: string;
  /** The statistics body, encoded once per change (shared by the GET and the streams). */
  encodeStatistics: ReturnType<typeof statisticsEncoder>;
}

/** A SID in a path: one of the wrong shape names nothing, so it is a 404 like any unknown SID. */
export function pathSid(value: string | undefined, prefix: SidPrefix, resource: string): string {
  if (value === undefined || !isSid(value, prefix)) throw new NotFoundError(resource, value ?? '');
  return value;
}

export function pathParams(req: FastifyRequest): Record<string, string | undefined> {
  return req.params as Record<string, string | undefined>;
}

/** The workspace SID of a route under /v1/Workspaces/:WorkspaceSid. */
export function workspaceOf(req: FastifyRequest): string {
  return pathSid(pathParams(req).WorkspaceSid, SidPrefix.workspace, 'Workspace');
}

export function queryParams(req: FastifyRequest): Params {
  return (req.query ?? {}) as Params;
}

/** The POST parameters: a form (or JSON) object; anything else is refused. */
export function bodyParams(req: FastifyRequest): Params {
  const body: unknown = req.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidParameterError('body', 'The request body must be form parameters (or a JSON object)');
  }
  return body as Params;
}

/** The path without query string or the /v1 prefix, as Twilio's 404 messages show it. */
export function resourcePath(url: string): string {
  const path = url.split('?')[0] ?? url;
  return path.startsWith('/v1/') ? path.slice(3) : path;
}

export function listRequest(
  req: FastifyRequest,
  deps: RouteDeps,
  filters: ListRequest['filters'],
  page: ListRequest['page'],
): ListRequest {
  const path = req.url.split('?')[0] ?? req.url;
  return { url: `${deps.publicUrl}${path}`, filters, page };
}

/** The filter values exactly as sent, for the meta URLs. */
export function echoFilters(params: Params, names: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const n of names) {
    const v = params[n];
    if (typeof v === 'string') out[n] = v;
  }
  return out;
}
