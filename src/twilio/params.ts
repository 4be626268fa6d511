import { InvalidParameterError } from '../domain/errors.js';
import { isSid, type SidPrefix } from '../domain/sid.js';
import type { PageQuery } from '../services/ports/store.js';

/**
 * Request parameters as Twilio sends them: PascalCase names, string values
 * (form bodies and query strings). Everything is converted here, by us.
 */
export type Params = Record<string, unknown>;

export const MAX_NAME_LENGTH = 64;
export const MAX_ATTRIBUTES_LENGTH = 16_384;
export const MAX_ATTRIBUTES_DEPTH = 32;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

function invalid(name: string, why: string): never {
  throw new InvalidParameterError(name, `Invalid parameter ${name}: ${why}`);
}

/** The raw value, or undefined when absent. A repeated parameter is refused rather than guessed at. */
function raw(params: Params, name: string): string | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return invalid(name, 'expected a single value');
}

export function optionalString(
  params: Params,
  name: string,
  maxLength = MAX_NAME_LENGTH,
): string | undefined {
  const v = raw(params, name);
  if (v === undefined) return undefined;
  if (v.length > maxLength) invalid(name, `must be at most ${maxLength} characters`);
  return v;
}

/** A required, non-blank name. */
export function requiredName(params: Params, name: string): string {
  const v = optionalName(params, name);
  if (v === undefined)
    throw new InvalidParameterError(name, `Missing required parameter ${name} in the post body`);
  return v;
}

export function optionalName(params: Params, name: string): string | undefined {
  const v = optionalString(params, name);
  if (v === undefined) return undefined;
  if (v.trim() === '') invalid(name, 'must not be empty');
  return v;
}

/** Twilio booleans: true/1/yes and false/0/no, any case. */
export function parseTwilioBool(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  return undefined;
}

export function optionalBool(params: Params, name: string): boolean | undefined {
  const v = raw(params, name);
  if (v === undefined) return undefined;
  const b = parseTwilioBool(v);
  if (b === undefined) invalid(name, 'expected true or false');
  return b;
}

/**
 * A boolean read as the spec says for filters and a few create parameters (Worker and Activity
 * lists' `Available`, Activity create's `Available`): true/1/yes is true, any other value false.
 */
export function optionalLenientBool(params: Params, name: string): boolean | undefined {
  const v = raw(params, name);
  if (v === undefined) return undefined;
  return parseTwilioBool(v) === true;
}

export function optionalInt(params: Params, name: string, min: number, max: number): number | undefined {
  const v = raw(params, name);
  if (v === undefined) return undefined;
  if (!/^-?\d{1,15}$/.test(v.trim())) invalid(name, 'expected an integer');
  const n = Number(v.trim());
  if (n < min || n > max) invalid(name, `must be between ${min} and ${max}`);
  return n;
}

export function optionalSid(params: Params, name: string, prefix: SidPrefix): string | undefined {
  const v = raw(params, name);
  if (v === undefined) return undefined;
  if (!isSid(v, prefix)) invalid(name, `expected a ${prefix} SID`);
  return v;
}

export function optionalEnum<T extends string>(
  params: Params,
  name: string,
  values: readonly T[],
): T | undefined {
  const v = raw(params, name);
  if (v === undefined) return undefined;
  if (!values.includes(v as T)) invalid(name, `expected one of ${values.join(', ')}`);
  return v as T;
}

/**
 * `Ordering`, in the shape Twilio documents for its lists (`Attribute:asc` or `Attribute:desc`,
 * as Tasks take it): one of `attributes` and a direction. Empty means the list's own order.
 * Twilio's Tasks accept several keys separated by commas; the lists that take this have one
 * index per attribute, so a second key is refused rather than ignored.
 */
export function optionalOrdering<A extends string>(
  params: Params,
  attributes: readonly A[],
): { attribute: A; direction: 'asc' | 'desc' } | undefined {
  const v = raw(params, 'Ordering');
  if (v === undefined || v === '') return undefined;
  const allowed = attributes.flatMap((a) => [`${a}:asc`, `${a}:desc`]).join(', ');
  if (v.includes(',')) invalid('Ordering', `sorts by one attribute: expected one of ${allowed}`);
  const [attribute, direction, extra] = v.split(':');
  if (
    extra !== undefined ||
    !attributes.includes(attribute as A) ||
    (direction !== 'asc' && direction !== 'desc')
  ) {
    invalid('Ordering', `expected one of ${allowed}`);
  }
  return { attribute: attribute as A, direction };
}

/** An http(s) URL; empty means none (null), which is how a client clears one. */
export function optionalUrl(params: Params, name: string): string | null | undefined {
  const v = optionalString(params, name, 2048);
  if (v === undefined) return undefined;
  if (v === '') return null;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return invalid(name, 'expected an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') invalid(name, 'expected an http or https URL');
  return v;
}

/** A JSON object, kept as the string the client sent. */
export function optionalJsonObject(params: Params, name: string): string | undefined {
  const v = optionalString(params, name, MAX_ATTRIBUTES_LENGTH);
  if (v === undefined) return undefined;
  if (jsonDepth(v) > MAX_ATTRIBUTES_DEPTH)
    invalid(name, `must nest at most ${MAX_ATTRIBUTES_DEPTH} levels deep`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    return invalid(name, 'must be a valid JSON object');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    invalid(name, 'must be a JSON object');
  return v;
}

/** Deepest bracket nesting outside strings; checked before parsing so nothing recurses on hostile input. */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** PageSize 1..1000 (larger is clamped), Page >= 0, and an opaque PageToken. */
export function parsePageQuery(params: Params): PageQuery {
  const sizeRaw = raw(params, 'PageSize');
  let pageSize = DEFAULT_PAGE_SIZE;
  if (sizeRaw !== undefined) {
    if (!/^\d{1,15}$/.test(sizeRaw.trim())) invalid('PageSize', 'expected a positive integer');
    pageSize = Math.min(Number(sizeRaw.trim()), MAX_PAGE_SIZE);
    if (pageSize < 1) invalid('PageSize', 'must be at least 1');
  }
  const page = optionalInt(params, 'Page', 0, 1_000_000_000) ?? 0;
  const pageToken = optionalString(params, 'PageToken', 64);
  return pageToken === undefined ? { pageSize, page } : { pageSize, page, pageToken };
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** An ISO 8601 date or date-time (GMT unless it says otherwise), as Twilio's StartDate/EndDate. */
export function optionalDate(params: Params, name: string): Date | undefined {
  const v = raw(params, name);
  if (v === undefined) return undefined;
  const text = v.trim();
  // A date-time without a zone is GMT, as Twilio's dates are.
  const withZone =
    /T[^Z+-]*$/.test(text) || !text.includes('T')
      ? `${text}${text.includes('T') ? 'Z' : 'T00:00:00Z'}`
      : text;
  const ms = ISO_DATE.test(text) ? Date.parse(withZone) : NaN;
  if (!Number.isFinite(ms)) invalid(name, 'expected an ISO 8601 date-time, such as 2025-01-02T03:04:05Z');
  return new Date(ms);
}

/** A parameter that may be repeated (or comma-separated): each value once, in order. */
export function optionalList(params: Params, name: string): string[] | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  const values = Array.isArray(v) ? v : [v];
  const out: string[] = [];
  for (const item of values) {
    if (typeof item !== 'string') invalid(name, 'expected text values');
    for (const part of item.split(',')) {
      const s = part.trim();
      if (s !== '' && !out.includes(s)) out.push(s);
    }
  }
  return out;
}
