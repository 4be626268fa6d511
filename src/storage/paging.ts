import { InvalidParameterError } from '../domain/errors.js';
import type { Page, PageQuery } from '../services/ports/store.js';

/**
 * Where a page starts, decoded from an opaque PageToken: rows after a key (next pages)
 * or before one (previous pages), or an offset when only Page was given.
 */
export type PageStart =
  { kind: 'after'; key: number } | { kind: 'before'; key: number } | { kind: 'offset'; offset: number };

const TOKEN = /^P([AB])([0-9a-z]{1,12})$/;

/**
 * The most rows `Page` may skip without a PageToken. Skipping rows costs as many as are
 * skipped (an OFFSET walks them), so deep pages are reached by following `next_page_url`
 * (a PageToken: keyset, one index seek), as Twilio's SDKs do.
 */
export const MAX_PAGE_OFFSET = 10_000;

/**
 * The most rows a list that tests each row in JavaScript (a TargetWorkersExpression) reads for
 * one page. A page cut short there holds fewer than PageSize rows and still has a next page,
 * which continues after the last row read: a rare match in a large workspace costs many cheap
 * requests, never one that holds the server for the whole workspace.
 */
export const MAX_SCANNED_ROWS = 10_000;

/** PageTokens for rows after, or before, a key. */
export const afterToken = (key: number): string => `PA${key.toString(36)}`;
export const beforeToken = (key: number): string => `PB${key.toString(36)}`;

/** `Page` without a PageToken may skip at most MAX_PAGE_OFFSET rows. */
export function checkPageOffset(query: PageQuery): number {
  const offset = query.page * query.pageSize;
  if (offset > MAX_PAGE_OFFSET) {
    throw new InvalidParameterError(
      'Page',
      `Page ${query.page} with PageSize ${query.pageSize} skips more than ${MAX_PAGE_OFFSET} rows: follow next_page_url (PageToken) to page further`,
    );
  }
  return offset;
}

/** A page that would have to read more than MAX_SCANNED_ROWS rows to skip to its start. */
export function scanTooDeep(query: PageQuery): InvalidParameterError {
  return new InvalidParameterError(
    'Page',
    `Page ${query.page} reads more than ${MAX_SCANNED_ROWS} rows to find where it starts: follow next_page_url (PageToken) to page further`,
  );
}

export function decodePageStart(query: PageQuery): PageStart {
  if (query.pageToken !== undefined && query.pageToken !== '') {
    const m = TOKEN.exec(query.pageToken);
    const key = m ? parseInt(m[2]!, 36) : NaN;
    if (!m || !Number.isSafeInteger(key)) {
      throw new InvalidParameterError('PageToken', `Invalid PageToken: ${query.pageToken.slice(0, 64)}`);
    }
    return m[1] === 'A' ? { kind: 'after', key } : { kind: 'before', key };
  }
  return { kind: 'offset', offset: checkPageOffset(query) };
}

/**
 * Builds a Page from rows fetched with one extra row (to learn whether more exist).
 * Rows for a 'before' start arrive newest first and are put back in order here.
 */
export function toPage<T>(
  rows: readonly T[],
  start: PageStart,
  pageSize: number,
  keyOf: (row: T) => number,
): Page<T> {
  const hasMore = rows.length > pageSize;
  const items = rows.slice(0, pageSize);
  if (start.kind === 'before') items.reverse();
  const first = items[0];
  const last = items[items.length - 1];
  const atStart = start.kind === 'offset' ? start.offset === 0 : start.kind === 'before' && !hasMore;
  const atEnd = start.kind === 'before' ? false : !hasMore;
  return {
    items,
    nextPageToken: last !== undefined && !atEnd ? afterToken(keyOf(last)) : null,
    previousPageToken: first !== undefined && !atStart ? beforeToken(keyOf(first)) : null,
  };
}
