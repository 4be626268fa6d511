import type { Page, PageQuery } from '../services/ports/store.js';

/** What a list response needs to know of the request it answers. */
export interface ListRequest {
  /** Absolute URL of the list, without query: `https://…/v1/Workspaces/WS…/Workers`. */
  url: string;
  /** The filters the client sent (PascalCase names), carried into every meta URL. */
  filters: Record<string, string | undefined>;
  page: PageQuery;
}

function pageUrl(req: ListRequest, page: number, pageToken?: string): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(req.filters)) if (v !== undefined) q.append(k, v);
  q.append('PageSize', String(req.page.pageSize));
  q.append('Page', String(page));
  if (pageToken !== undefined) q.append('PageToken', pageToken);
  return `${req.url}?${q.toString().replace(/\+/g, '%20')}`;
}

/** Twilio's list envelope: `{ <key>: [...], meta: {...} }` with absolute URLs the SDK follows verbatim. */
export function listResponse<T, J>(key: string, page: Page<T>, req: ListRequest, toJson: (item: T) => J) {
  const n = req.page.page;
  return {
    [key]: page.items.map(toJson),
    meta: {
      page: n,
      page_size: req.page.pageSize,
      first_page_url: pageUrl(req, 0),
      previous_page_url:
        page.previousPageToken === null ? null : pageUrl(req, Math.max(0, n - 1), page.previousPageToken),
      url: pageUrl(req, n, req.page.pageToken),
      next_page_url: page.nextPageToken === null ? null : pageUrl(req, n + 1, page.nextPageToken),
      key,
    },
  };
}
